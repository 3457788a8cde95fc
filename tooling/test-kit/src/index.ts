// What the packages' tests share, so each does not keep its own copy: seeded data, a model run in
// onnxruntime-node, error measures, and the path of a model shipped in an npm package. Test-only: no package
// depends on it at run time. It takes encoded models (bytes or a path), never a Model, so that @quantkit/onnx can
// use it without a dependency cycle.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createSeededRandom, type DType, type Tensor } from '@quantkit/core';
import * as ort from 'onnxruntime-node';

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32), so failures reproduce. */
export function seededFloats(count: number, seed: number): Float32Array {
  const random = createSeededRandom(seed);
  return Float32Array.from({ length: count }, () => random() * 2 - 1);
}

/** A float32 tensor of seeded values in [-scale, scale) + offset. */
export function floatTensor(shape: number[], seed: number, scale = 1, offset = 0): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = seededFloats(size, seed).map((v) => v * scale + offset);
  return { dtype: 'float32', shape, data };
}

const ORT_TYPES: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

/** One output of {@link runOrt}: onnxruntime's element type name, dims and data. */
export interface OrtOutput {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number | bigint>;
}

/** Feeds for {@link runOrt}: quantkit tensors, or onnxruntime tensors as they are. */
export type OrtFeeds = Record<string, Tensor | ort.Tensor>;

/**
 * Runs an encoded model (bytes or a file path) in onnxruntime-node and returns every output; the session is
 * released afterwards. `threads` pins intra- and inter-op threads (1 makes timing-free runs reproducible).
 * @example const out = await runOrt(encodeModel(model), { x: floatTensor([1, 4], 1) });
 */
export async function runOrt(
  model: Uint8Array | string,
  feeds: OrtFeeds,
  options: { threads?: number; graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all' } = {},
): Promise<Record<string, OrtOutput>> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    ...(options.threads !== undefined && {
      intraOpNumThreads: options.threads,
      interOpNumThreads: options.threads,
    }),
    ...(options.graphOptimizationLevel !== undefined && {
      graphOptimizationLevel: options.graphOptimizationLevel,
    }),
  };
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions)
      : await ort.InferenceSession.create(model, sessionOptions);
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      if (tensor instanceof ort.Tensor) {
        ortFeeds[name] = tensor;
        continue;
      }
      const { dtype, data, shape } = tensor as Tensor;
      const type = ORT_TYPES[dtype];
      if (type === undefined) throw new Error(`runOrt cannot feed ${dtype} (input "${name}")`);
      ortFeeds[name] = new ort.Tensor(type, data as never, [...shape]);
    }
    const results = await session.run(ortFeeds);
    const out: Record<string, OrtOutput> = {};
    for (const [name, value] of Object.entries(results)) {
      out[name] = { type: value.type, dims: value.dims, data: value.data as ArrayLike<number | bigint> };
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The largest |a[i] - b[i]|, or +Infinity when the lengths differ. */
export function maxAbsDiff(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(Number(a[i]) - Number(b[i])));
  return max;
}

/** Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - test)^2). */
export function sqnr(reference: ArrayLike<number | bigint>, test: ArrayLike<number | bigint>): number {
  if (reference.length !== test.length) throw new Error(`length ${reference.length} vs ${test.length}`);
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Number(reference[i]);
    const e = r - Number(test[i]);
    signal += r * r;
    noise += e * e;
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}

/**
 * The folder of an installed npm package, found the way Node searches node_modules from this file: packages
 * such as openwakeword-js hide package.json behind their exports map and have no "require" entry, so
 * require.resolve cannot find them.
 * @throws Error naming the package when it is not installed.
 */
export function packageFolder(name: string, from: string = import.meta.url): string {
  const require = createRequire(from);
  for (const dir of require.resolve.paths(name) ?? []) {
    const candidate = join(dir, name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  throw new Error(`${name} is not installed; run pnpm install`);
}

/** Path of a model shipped in the npm package openwakeword-js (this kit depends on it). */
export function openWakeWordModel(file: string): string {
  const path = join(packageFolder('openwakeword-js'), 'models', file);
  if (!existsSync(path)) throw new Error(`openwakeword-js ships no models/${file}`);
  return path;
}

/**
 * The model onnxruntime-node runs after its level-all optimizations (fusions, constant folding, layout changes),
 * as it writes it to optimizedModelFilePath: what a test checks to see which Q/DQ pairs fused.
 * @example decodeModel(await ortOptimizedModel(bytes)).graph.nodes.map((node) => node.opType)
 */
export async function ortOptimizedModel(model: Uint8Array): Promise<Uint8Array> {
  const folder = mkdtempSync(join(tmpdir(), 'quantkit-optimized-'));
  try {
    const path = join(folder, 'optimized.onnx');
    const session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: 'all',
      optimizedModelFilePath: path,
    });
    await session.release();
    return new Uint8Array(readFileSync(path));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
