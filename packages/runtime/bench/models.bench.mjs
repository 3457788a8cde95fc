// Whole-model benchmark: latency of three models on quantkit's runtime (fp32, static int8, weight-only binary
// and log in the packed format) against onnxruntime-node and onnxruntime-web (wasm) running the fp32 model and
// the static int8 one, all on one thread:
//   face-detect-rfb320, a CNN from the corpus (~/.cache/quantkit-corpus after
//                `node tooling/corpus/fetch-corpus.mjs`; skipped, with the reason, when it is not there),
//   mlp          three MatMul + Add layers 768 -> 3072 -> 768 -> 768 with Relu between, batch 16,
//   transformer  one pre-norm block, sequence 64, hidden 256, 4 heads: LayerNormalization, MatMul attention
//                with Softmax, and an Erf-GELU MLP of width 1024.
// Each row is the median latency of timed runs after warm-up, in ms, with its ratio to the baseline row,
// onnxruntime-node running the fp32 model, measured in the same run (ratio = ms / baseline ms: below 1 is faster).
// Run `pnpm build` first (`pnpm bench` at the root does); `--json` prints one JSON array of
// { name, value, unit, baseline, ratio } on stdout and the table on stderr. `--models=mlp,transformer` runs some only.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRegistry, createSeededRandom } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import { quantizeModel } from '@quantkit/quantize';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { loadCorpus, synthesizeInputs } from '../../../tooling/corpus/corpus.mjs';
import { builtinRuntimePlugins, createRuntime } from '../dist/index.js';

const json = process.argv.includes('--json');
const print = json
  ? (line) => process.stderr.write(`${line}\n`)
  : (line) => process.stdout.write(`${line}\n`);
const only = process.argv
  .find((arg) => arg.startsWith('--models='))
  ?.slice('--models='.length)
  .split(',');

/** Per subject: warm-up runs, then timed runs until both minimums are met or the budget is spent. */
const WARMUP_RUNS = 3;
const WARMUP_MS = 300;
const MIN_RUNS = 5;
const MAX_RUNS = 100;
const BUDGET_MS = 1200;
const CALIBRATION_SAMPLES = 4;

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.logLevel = 'error';
ortNode.env.logLevel = 'error';
const ortNodeOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};
const ortWebOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
const calibrationExecutor = createOrtExecutor(ortNode, {
  name: 'ort-node',
  sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 },
});

// ---------------------------------------------------------------------------------------------------------------
// Models

function gaussians(length, seed, scale) {
  const random = createSeededRandom(seed);
  const data = new Float32Array(length);
  for (let i = 0; i < length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12)));
    const angle = 2 * Math.PI * random();
    data[i] = scale * radius * Math.cos(angle);
    if (i + 1 < length) data[i + 1] = scale * radius * Math.sin(angle);
  }
  return data;
}

const floats = (shape, seed, scale = 1) => ({
  dtype: 'float32',
  shape,
  data: gaussians(
    shape.reduce((a, b) => a * b, 1),
    seed,
    scale,
  ),
});
const filled = (shape, value) => ({
  dtype: 'float32',
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value),
});
const int64s = (values) => ({
  dtype: 'int64',
  shape: [values.length],
  data: BigInt64Array.from(values, BigInt),
});
const ints = (value) => ({ type: 'ints', value });

/** A dense layer's nodes and weights: y = x W + b, W He-initialized. */
function dense(name, input, output, inputs, outputs, seed, initializers) {
  initializers[`${name}.w`] = floats([inputs, outputs], seed, Math.sqrt(2 / inputs));
  initializers[`${name}.b`] = floats([outputs], seed + 1, 0.01);
  return [
    { opType: 'MatMul', name: `${name}.matmul`, inputs: [input, `${name}.w`], outputs: [`${name}.mm`] },
    { opType: 'Add', name: `${name}.add`, inputs: [`${name}.mm`, `${name}.b`], outputs: [output] },
  ];
}

function mlpModel() {
  const batch = 16;
  const initializers = {};
  const nodes = [
    ...dense('fc1', 'x', 'h1', 768, 3072, 10, initializers),
    { opType: 'Relu', name: 'relu1', inputs: ['h1'], outputs: ['a1'] },
    ...dense('fc2', 'a1', 'h2', 3072, 768, 20, initializers),
    { opType: 'Relu', name: 'relu2', inputs: ['h2'], outputs: ['a2'] },
    ...dense('fc3', 'a2', 'y', 768, 768, 30, initializers),
  ];
  const bytes = encodeModel(
    createModel({
      opset: 17,
      nodes,
      inputs: [['x', 'float32', [batch, 768]]],
      outputs: [['y']],
      initializers,
    }),
  );
  return { bytes, sample: (seed) => ({ x: floats([batch, 768], seed) }) };
}

function transformerModel() {
  const [sequence, hidden, heads, width] = [64, 256, 4, 1024];
  const headSize = hidden / heads;
  const initializers = {
    'ln1.scale': filled([hidden], 1),
    'ln1.bias': filled([hidden], 0),
    'ln2.scale': filled([hidden], 1),
    'ln2.bias': filled([hidden], 0),
    heads: int64s([1, sequence, heads, headSize]),
    merged: int64s([1, sequence, hidden]),
    'attention.scale': filled([], 1 / Math.sqrt(headSize)),
    'gelu.sqrt2': filled([], Math.SQRT2),
    'gelu.one': filled([], 1),
    'gelu.half': filled([], 0.5),
  };
  const layerNorm = (name, input, output) => ({
    opType: 'LayerNormalization',
    name,
    inputs: [input, `${name}.scale`, `${name}.bias`],
    outputs: [output],
    attributes: { axis: -1, epsilon: { type: 'float', value: 1e-5 } },
  });
  const nodes = [
    layerNorm('ln1', 'x', 'n1'),
    ...dense('q', 'n1', 'q', hidden, hidden, 40, initializers),
    ...dense('k', 'n1', 'k', hidden, hidden, 42, initializers),
    ...dense('v', 'n1', 'v', hidden, hidden, 44, initializers),
    { opType: 'Reshape', name: 'q.split', inputs: ['q', 'heads'], outputs: ['q.4d'] },
    { opType: 'Reshape', name: 'k.split', inputs: ['k', 'heads'], outputs: ['k.4d'] },
    { opType: 'Reshape', name: 'v.split', inputs: ['v', 'heads'], outputs: ['v.4d'] },
    {
      opType: 'Transpose',
      name: 'q.heads',
      inputs: ['q.4d'],
      outputs: ['q.h'],
      attributes: { perm: ints([0, 2, 1, 3]) },
    },
    {
      opType: 'Transpose',
      name: 'k.heads',
      inputs: ['k.4d'],
      outputs: ['k.t'],
      attributes: { perm: ints([0, 2, 3, 1]) },
    },
    {
      opType: 'Transpose',
      name: 'v.heads',
      inputs: ['v.4d'],
      outputs: ['v.h'],
      attributes: { perm: ints([0, 2, 1, 3]) },
    },
    { opType: 'MatMul', name: 'scores', inputs: ['q.h', 'k.t'], outputs: ['scores'] },
    { opType: 'Mul', name: 'scores.scale', inputs: ['scores', 'attention.scale'], outputs: ['scaled'] },
    {
      opType: 'Softmax',
      name: 'softmax',
      inputs: ['scaled'],
      outputs: ['probabilities'],
      attributes: { axis: -1 },
    },
    { opType: 'MatMul', name: 'context', inputs: ['probabilities', 'v.h'], outputs: ['context.h'] },
    {
      opType: 'Transpose',
      name: 'context.merge',
      inputs: ['context.h'],
      outputs: ['context.4d'],
      attributes: { perm: ints([0, 2, 1, 3]) },
    },
    { opType: 'Reshape', name: 'context.flat', inputs: ['context.4d', 'merged'], outputs: ['context'] },
    ...dense('out', 'context', 'attention', hidden, hidden, 46, initializers),
    { opType: 'Add', name: 'residual1', inputs: ['x', 'attention'], outputs: ['h'] },
    layerNorm('ln2', 'h', 'n2'),
    ...dense('up', 'n2', 'u', hidden, width, 48, initializers),
    // GELU: 0.5 u (1 + erf(u / sqrt 2)).
    { opType: 'Div', name: 'gelu.div', inputs: ['u', 'gelu.sqrt2'], outputs: ['gelu.scaled'] },
    { opType: 'Erf', name: 'gelu.erf', inputs: ['gelu.scaled'], outputs: ['gelu.erf'] },
    { opType: 'Add', name: 'gelu.add', inputs: ['gelu.erf', 'gelu.one'], outputs: ['gelu.sum'] },
    { opType: 'Mul', name: 'gelu.mul', inputs: ['u', 'gelu.sum'], outputs: ['gelu.product'] },
    { opType: 'Mul', name: 'gelu.half', inputs: ['gelu.product', 'gelu.half'], outputs: ['g'] },
    ...dense('down', 'g', 'mlp', width, hidden, 50, initializers),
    { opType: 'Add', name: 'residual2', inputs: ['h', 'mlp'], outputs: ['y'] },
  ];
  const bytes = encodeModel(
    createModel({
      opset: 17,
      nodes,
      inputs: [['x', 'float32', [1, sequence, hidden]]],
      outputs: [['y']],
      initializers,
    }),
  );
  return { bytes, sample: (seed) => ({ x: floats([1, sequence, hidden], seed) }) };
}

/** The corpus CNN, or the reason it cannot run. */
async function cnnModel() {
  const id = 'face-detect-rfb320';
  const entry = loadCorpus().find((candidate) => candidate.id === id);
  if (entry === undefined || !entry.present || !existsSync(entry.file)) {
    return {
      skipped: `${id}.onnx is not in the corpus cache (${entry?.file ?? id}); run \`node tooling/corpus/fetch-corpus.mjs\``,
    };
  }
  return {
    bytes: new Uint8Array(await readFile(entry.file)),
    sample: (seed) => synthesizeInputs(entry, seed),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Subjects

async function measure(run) {
  const warmupStart = performance.now();
  for (let i = 0; i < WARMUP_RUNS || performance.now() - warmupStart < WARMUP_MS; i++) await run();
  const times = [];
  const start = performance.now();
  while (times.length < MAX_RUNS && (times.length < MIN_RUNS || performance.now() - start < BUDGET_MS)) {
    const before = performance.now();
    await run();
    times.push(performance.now() - before);
  }
  times.sort((x, y) => x - y);
  return { ms: times[Math.floor(times.length / 2)], runs: times.length };
}

async function quantkitRunner(bytes, feeds) {
  const runtime = createRuntime(createRegistry(builtinRuntimePlugins));
  const session = await runtime.load(bytes);
  const counts = new Map();
  for (const { backend } of session.assignments()) counts.set(backend, (counts.get(backend) ?? 0) + 1);
  const backends = [...counts].map(([backend, count]) => `${backend} ${count}`).join(', ');
  return { run: () => session.run(feeds), detail: `nodes: ${backends}` };
}

async function ortRunner(ort, options, bytes, feeds) {
  const session = await ort.InferenceSession.create(bytes, options);
  const ortFeeds = Object.fromEntries(
    Object.entries(feeds).map(([name, tensor]) => [
      name,
      new ort.Tensor(tensor.dtype, tensor.data, tensor.shape),
    ]),
  );
  return { run: () => session.run(ortFeeds), detail: '' };
}

/** The model's quantized forms: static int8 (QDQ, calibrated here) and weight-only binary and log, packed. */
async function quantizedForms(bytes, sample) {
  const forms = {};
  const attempts = {
    int8: () =>
      quantizeModel(bytes, {
        mode: 'static',
        executor: calibrationExecutor,
        calibrationData: Array.from({ length: CALIBRATION_SAMPLES }, (_, index) => sample(100 + index)),
        verify: false,
      }),
    binary: () =>
      quantizeModel(bytes, { mode: 'weight-only', quantizer: 'binary', bits: 1, format: 'packed' }),
    log: () => quantizeModel(bytes, { mode: 'weight-only', quantizer: 'log', bits: 4, format: 'packed' }),
  };
  for (const [form, quantize] of Object.entries(attempts)) {
    try {
      forms[form] = { bytes: (await quantize()).bytes };
    } catch (error) {
      forms[form] = { failed: `quantizing failed: ${error.message}` };
    }
  }
  return forms;
}

const BASELINE = 'onnxruntime-node fp32';

async function benchModel(name, model) {
  const feeds = model.sample(1);
  const forms = await quantizedForms(model.bytes, model.sample);
  const subjects = [
    [BASELINE, () => ortRunner(ortNode, ortNodeOptions, model.bytes, feeds)],
    ['onnxruntime-web fp32', () => ortRunner(ortWeb, ortWebOptions, model.bytes, feeds)],
    ['onnxruntime-node int8 static', forms.int8, (bytes) => ortRunner(ortNode, ortNodeOptions, bytes, feeds)],
    ['onnxruntime-web int8 static', forms.int8, (bytes) => ortRunner(ortWeb, ortWebOptions, bytes, feeds)],
    ['quantkit fp32', () => quantkitRunner(model.bytes, feeds)],
    ['quantkit int8 static', forms.int8, (bytes) => quantkitRunner(bytes, feeds)],
    ['quantkit binary packed', forms.binary, (bytes) => quantkitRunner(bytes, feeds)],
    ['quantkit log4 packed', forms.log, (bytes) => quantkitRunner(bytes, feeds)],
  ];
  const measured = new Map();
  for (const [subject, formOrMake, makeFromBytes] of subjects) {
    let make = formOrMake;
    if (makeFromBytes !== undefined) {
      if (formOrMake.failed !== undefined) {
        print(`| ${name} | ${subject} | not run: ${formOrMake.failed} | | | |`);
        continue;
      }
      make = () => makeFromBytes(formOrMake.bytes);
    }
    try {
      const runner = await make();
      const { ms, runs } = await measure(runner.run);
      measured.set(subject, { ms, runs, detail: runner.detail });
    } catch (error) {
      print(`| ${name} | ${subject} | not run: ${String(error.message).split('\n')[0]} | | | |`);
    }
  }
  const base = measured.get(BASELINE);
  const rows = [];
  for (const [subject, { ms, runs, detail }] of measured) {
    const ratio = base === undefined ? undefined : ms / base.ms;
    if (ratio !== undefined) {
      rows.push({
        name: `models ${name}: ${subject}`,
        value: Number(ms.toFixed(3)),
        unit: 'ms',
        baseline: `models ${name}: ${BASELINE}`,
        ratio: Number(ratio.toFixed(3)),
      });
    }
    print(
      `| ${name} | ${subject} | ${ms.toFixed(2)} | ${runs} | ${ratio === undefined ? '' : `${ratio.toFixed(2)}x`} | ${detail} |`,
    );
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------

const [wasmStatus] = (await createRuntime(createRegistry(builtinRuntimePlugins)).backends()).filter(
  (status) => status.name === 'wasm-simd',
);
print(
  `Whole models on one thread (node ${process.version}, onnxruntime-node and -web ${ortNode.env.versions?.common ?? ''}); ` +
    `quantkit's wasm-simd backend ${wasmStatus?.available ? `int8 path ${wasmStatus.handle.int8Path}` : `unavailable: ${wasmStatus?.reason}`}`,
);
print(
  `median of ${MIN_RUNS}-${MAX_RUNS} runs (${BUDGET_MS} ms budget) after at least ${WARMUP_RUNS} warm-up runs and ${WARMUP_MS} ms; ratio = ms / ${BASELINE} ms\n`,
);
print('| model | subject | ms | runs | ratio | |');
print('|---|---|---:|---:|---:|---|');

const models = { 'face-detect-rfb320': cnnModel, mlp: mlpModel, transformer: transformerModel };
const rows = [];
for (const [name, build] of Object.entries(models)) {
  if (only !== undefined && !only.includes(name)) continue;
  const model = await build();
  if (model.skipped !== undefined) {
    print(`| ${name} | (all) | skipped: ${model.skipped} | | | |`);
    continue;
  }
  rows.push(...(await benchModel(name, model)));
}
if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
