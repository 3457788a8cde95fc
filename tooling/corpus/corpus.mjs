// Shared view of the third-party model corpus listed in corpus.json: where the cached .onnx files live, which
// of them are present, and how to synthesise a realistic input for each one. No dependencies beyond Node.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Absolute path of corpus.json, the list of models (next to this module). */
export const corpusJsonPath = join(here, 'corpus.json');

/**
 * The folder that holds the fetched models as `<id>.onnx`: `$QUANTKIT_CORPUS_DIR` when set, otherwise
 * `~/.cache/quantkit-corpus`. The folder may not exist yet; `fetch-corpus.mjs` creates it.
 * @returns {string} absolute path
 */
export function corpusDir() {
  const fromEnv = process.env.QUANTKIT_CORPUS_DIR;
  return fromEnv ? resolve(fromEnv) : join(homedir(), '.cache', 'quantkit-corpus');
}

/**
 * Reads corpus.json and adds, to every entry, `file` (absolute path of `<id>.onnx` in the corpus folder) and
 * `present` (whether that file exists; its checksum is not verified here — `fetch-corpus.mjs --check` does
 * that). Tests and benches should skip entries whose `present` is false rather than fail.
 * @param {{ dir?: string }} [options] `dir` overrides {@link corpusDir}
 * @returns {Array<object & { file: string, present: boolean }>}
 */
export function loadCorpus(options = {}) {
  const dir = options.dir ?? corpusDir();
  const entries = JSON.parse(readFileSync(corpusJsonPath, 'utf8'));
  return entries.map((entry) => {
    const file = join(dir, `${entry.id}.onnx`);
    return { ...entry, file, present: existsSync(file) };
  });
}

/**
 * A small deterministic pseudo-random source (32-bit state, xorshift-multiply mixing), so synthetic inputs are
 * the same on every run for the same seed.
 * @param {number} seed
 * @returns {() => number} uniform numbers in [0, 1)
 */
export function seededUniform(seed) {
  let state = (seed >>> 0) ^ 0x9e3779b9;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(uniform) {
  const u = Math.max(uniform(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
}

function hashName(name) {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

// One synthetic picture of height x width in [0, 1]: a smooth shaded background, a few flat boxes with hard
// edges, and rows of dark glyph-like strokes, so both smooth and edge/text detectors see something to react to.
function paintPicture(height, width, uniform) {
  const pixels = new Float64Array(height * width);
  const waves = Array.from({ length: 5 }, () => ({
    fx: (uniform() * 2.5 + 0.3) / width,
    fy: (uniform() * 2.5 + 0.3) / height,
    phase: uniform() * 2 * Math.PI,
    weight: uniform() + 0.2,
  }));
  const total = waves.reduce((sum, w) => sum + w.weight, 0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (const w of waves) v += w.weight * Math.sin(2 * Math.PI * (w.fx * x + w.fy * y) + w.phase);
      pixels[y * width + x] = 0.6 + (0.3 * v) / total;
    }
  }
  const fillBox = (x0, y0, x1, y1, level, mix) => {
    for (let y = Math.max(0, y0); y < Math.min(height, y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x1); x++) {
        pixels[y * width + x] = mix * level + (1 - mix) * pixels[y * width + x];
      }
    }
  };
  for (let b = 0; b < 3; b++) {
    const x0 = Math.floor(uniform() * width * 0.8);
    const y0 = Math.floor(uniform() * height * 0.8);
    const w = Math.ceil(width * (0.1 + 0.3 * uniform()));
    const h = Math.ceil(height * (0.1 + 0.3 * uniform()));
    fillBox(x0, y0, x0 + w, y0 + h, uniform(), 0.7);
  }
  // Text-like rows: each glyph is one or two vertical strokes and a horizontal bar inside its cell.
  const rows = Math.max(1, Math.min(4, Math.floor(height / 24)));
  for (let r = 0; r < rows; r++) {
    const glyphHeight = Math.max(3, Math.round(Math.min(height * 0.6, 12 + 20 * uniform())));
    const top = Math.floor(((r + 0.2 + 0.4 * uniform()) * height) / rows - glyphHeight / 2);
    const glyphWidth = Math.max(3, Math.round(glyphHeight * (0.6 + 0.3 * uniform())));
    const stroke = Math.max(1, Math.round(glyphHeight / 7));
    const ink = 0.05 + 0.15 * uniform();
    let x = Math.floor(uniform() * width * 0.2);
    const end = width - Math.floor(uniform() * width * 0.2);
    while (x + glyphWidth < end) {
      if (uniform() < 0.15) {
        x += glyphWidth; // a space between words
        continue;
      }
      const left = x + Math.floor(uniform() * (glyphWidth - stroke));
      fillBox(left, top, left + stroke, top + glyphHeight, ink, 0.9);
      if (uniform() < 0.5) {
        const second = x + Math.floor(uniform() * (glyphWidth - stroke));
        fillBox(second, top, second + stroke, top + glyphHeight, ink, 0.9);
      }
      const bar = top + Math.floor(uniform() * (glyphHeight - stroke));
      fillBox(x, bar, x + glyphWidth - stroke, bar + stroke, ink, 0.9);
      x += glyphWidth + stroke;
    }
  }
  return pixels;
}

// image01: one picture per leading index (batch item), shared by its channels with a per-channel tint and
// light noise. The last two dimensions are height and width (NCHW), or the two before the last with 'nhwc'.
function imageValues(recipe, count, uniform, out) {
  const shape = recipe.shape;
  const rank = shape.length;
  if (rank < 2) throw new Error(`image01 needs at least 2 dimensions for input '${recipe.name}'`);
  const nhwc = recipe.layout === 'nhwc';
  const height = nhwc ? shape[rank - 3] : shape[rank - 2];
  const width = nhwc ? shape[rank - 2] : shape[rank - 1];
  const channels = nhwc ? shape[rank - 1] : rank >= 3 ? shape[rank - 3] : 1;
  const perImage = height * width * channels;
  for (let base = 0; base < count; base += perImage) {
    const picture = paintPicture(height, width, uniform);
    const tint = Array.from({ length: channels }, () => 0.85 + 0.3 * uniform());
    for (let j = 0; j < perImage && base + j < count; j++) {
      const c = nhwc ? j % channels : Math.floor(j / (height * width));
      const p = nhwc ? Math.floor(j / channels) : j % (height * width);
      const value = picture[p] * tint[c] + 0.02 * gaussian(uniform);
      out[base + j] = Math.min(1, Math.max(0, value));
    }
  }
  return out;
}

// Values for one recipe as plain numbers, before the dtype conversion and scale/offset.
function fillValues(recipe, count, uniform) {
  const shape = recipe.shape;
  const out = new Float64Array(count);
  const fill = recipe.fill;
  if (fill === 'zeros') return out;
  if (fill.startsWith('const:')) return out.fill(Number(fill.slice(6)));
  if (fill.startsWith('tokens:')) {
    const vocab = Number(fill.slice(7));
    for (let i = 0; i < count; i++) out[i] = Math.floor(uniform() * vocab);
    return out;
  }
  if (fill === 'normal') {
    for (let i = 0; i < count; i++) out[i] = gaussian(uniform);
    return out;
  }
  if (fill === 'audio16') {
    // Speech-like test signal at int16 scale: a few harmonics with a slow amplitude envelope, plus noise.
    // The last dimension is time at 16 kHz; every leading index (batch row) gets its own pitch.
    const length = shape.length > 0 ? shape[shape.length - 1] : 1;
    for (let row = 0; row * length < count; row++) {
      const f0 = 110 + 170 * uniform();
      const phase = 2 * Math.PI * uniform();
      for (let t = 0; t < length && row * length + t < count; t++) {
        const time = t / 16000;
        const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 3 * time + phase);
        let voice = 0;
        for (let k = 1; k <= 4; k++) voice += Math.sin(2 * Math.PI * f0 * k * time + k * phase) / k;
        out[row * length + t] = 6000 * envelope * voice + 300 * gaussian(uniform);
      }
    }
    return out;
  }
  if (fill === 'image01') return imageValues(recipe, count, uniform, out);
  throw new Error(`unknown fill '${fill}' for input '${recipe.name}'`);
}

/**
 * Synthesises the data of one input from its recipe in corpus.json: `{ name, dtype, shape, fill, scale?,
 * offset?, layout? }`. Fills: `image01` (smooth image-like values in [0,1]), `normal` (standard normal),
 * `audio16` (speech-like signal at int16 scale, time on the last axis), `zeros`, `const:<n>`, `tokens:<vocab>`
 * (integers in [0, vocab)). The result is `value * scale + offset` (defaults 1 and 0), so a recipe can state
 * a model's own normalisation, e.g. scale 2 / offset -1 for inputs in [-1, 1].
 * @param {{ name: string, dtype: string, shape: number[], fill: string, scale?: number, offset?: number, layout?: string }} recipe
 * @param {number} [seed] changes the random content; the same seed gives the same data
 * @returns {{ name: string, dtype: string, shape: number[], data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array }}
 */
export function synthesizeInput(recipe, seed = 0) {
  const count = recipe.shape.reduce((a, b) => a * b, 1);
  const uniform = seededUniform((seed * 1000003) ^ hashName(recipe.name));
  const raw = fillValues(recipe, count, uniform);
  const scale = recipe.scale ?? 1;
  const offset = recipe.offset ?? 0;
  let data;
  switch (recipe.dtype) {
    case 'float32':
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = raw[i] * scale + offset;
      break;
    case 'float64':
      data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = raw[i] * scale + offset;
      break;
    case 'int64':
      data = new BigInt64Array(count);
      for (let i = 0; i < count; i++) data[i] = BigInt(Math.round(raw[i] * scale + offset));
      break;
    case 'int32':
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = Math.round(raw[i] * scale + offset);
      break;
    case 'bool':
    case 'uint8':
      data = new Uint8Array(count);
      for (let i = 0; i < count; i++) data[i] = Math.round(raw[i] * scale + offset);
      break;
    default:
      throw new Error(`unsupported dtype '${recipe.dtype}' for input '${recipe.name}'`);
  }
  return { name: recipe.name, dtype: recipe.dtype, shape: [...recipe.shape], data };
}

/**
 * Synthesises every input of a corpus entry (see {@link synthesizeInput}), keyed by input name, ready to wrap
 * in the runtime's tensor type, e.g. `new ort.Tensor(t.dtype, t.data, t.shape)`.
 * @param {{ inputs: Array<object> }} entry an element of corpus.json or of {@link loadCorpus}
 * @param {number} [seed]
 * @returns {Record<string, ReturnType<typeof synthesizeInput>>}
 */
export function synthesizeInputs(entry, seed = 0) {
  const feeds = {};
  for (const recipe of entry.inputs) feeds[recipe.name] = synthesizeInput(recipe, seed);
  return feeds;
}
