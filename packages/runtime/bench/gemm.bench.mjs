// GEMM benchmark: float32 MatMul and int8 GEMM (QLinearMatMul, MatMulInteger) of the runtime's js and wasm-simd
// backends against onnxruntime-node and onnxruntime-web (wasm) measured in the same run, all on one thread; then
// quantkit's packed MatMul (domain ai.quantkit, `quantize --format packed`) by binary weights (XNOR-popcount with
// binarized activations, sign-bit with float ones) and 4-bit log weights (float activations, and int8 ones by
// shift-add) on both backends against onnxruntime-node fp32 MatMul at the same shape.
// Each row is the median of timed runs after warm-up, in GFLOPS (float) or GOPS (int8 and packed), all 2*M*K*N
// per run (so a ratio is a speed-up), with its ratio to a named baseline row. Run `pnpm build` first (`pnpm bench`
// at the root does); `--json` prints one JSON array of { name, value, unit, baseline, ratio } on stdout and the
// table on stderr.

import { createRegistry, createSeededRandom } from '@quantkit/core';
import { createModel, encodeModel } from '@quantkit/onnx';
import { quantizeModel } from '@quantkit/quantize';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import * as runtimePackage from '../dist/index.js';

const { builtinRuntimePlugins, createRuntime, jsRuntimePlugins, wasmSimdBackend, wasmSimdKernels } =
  runtimePackage;
if (wasmSimdBackend === undefined || wasmSimdKernels === undefined) {
  throw new Error(
    'dist/index.js does not export wasmSimdBackend and wasmSimdKernels; export them from src/index.ts',
  );
}

const json = process.argv.includes('--json');
const print = json
  ? (line) => process.stderr.write(`${line}\n`)
  : (line) => process.stdout.write(`${line}\n`);

const SHAPES = [
  { m: 16, k: 768, n: 3072 },
  { m: 1, k: 3072, n: 3072 },
];
/** The packed GEMM shapes (the issue's binary GEMM targets: >= 3x fp32 at M=16, >= 15x at M=1). */
const PACKED_SHAPES = [
  { m: 16, k: 3072, n: 3072 },
  { m: 1, k: 3072, n: 3072 },
];
/**
 * Per subject: warm-up (long enough for V8 to tier the WebAssembly up to its optimizing compiler), then timed
 * runs until both minimums are met or the time budget is spent.
 */
const WARMUP_RUNS = 5;
const WARMUP_MS = 300;
const MIN_RUNS = 5;
const MAX_RUNS = 200;
const BUDGET_MS = 1500;

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.logLevel = 'error';
const ortNodeOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};
const ortWebOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };

function randomFloats(length, seed) {
  const random = createSeededRandom(seed);
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = random() * 2 - 1;
  return data;
}

function randomCodes(ArrayType, length, seed, low, high) {
  const random = createSeededRandom(seed);
  const data = new ArrayType(length);
  for (let i = 0; i < length; i++) data[i] = low + Math.floor(random() * (high - low + 1));
  return data;
}

const tensor = (dtype, shape, data) => ({ dtype, shape, data });

/** A one-node model: `opType` over the fed input "a" and initializers, output "y". */
function model(opType, a, initializers, inputNames) {
  return encodeModel(
    createModel({
      opset: 13,
      nodes: [{ opType, inputs: inputNames, outputs: ['y'] }],
      inputs: [['a', a.dtype, a.shape]],
      outputs: [['y']],
      initializers,
    }),
  );
}

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
  return times[Math.floor(times.length / 2)];
}

async function quantkitRunner(bytes, plugins, feed) {
  const runtime = createRuntime(createRegistry(plugins));
  const session = await runtime.load(bytes);
  const backends = new Set(session.assignments().map((assignment) => assignment.backend));
  return { run: () => session.run({ a: feed }), backends: [...backends].join(', ') };
}

async function ortRunner(ort, options, bytes, feed) {
  const session = await ort.InferenceSession.create(bytes, options);
  const feeds = { a: new ort.Tensor(feed.dtype, feed.data, feed.shape) };
  return { run: () => session.run(feeds), backends: '' };
}

// The built-ins prefer wasm-simd, so the js rows run the JS backend alone.
const jsPlugins = jsRuntimePlugins;
const wasmPlugins = [...builtinRuntimePlugins, wasmSimdBackend, ...wasmSimdKernels];
const [wasmStatus] = (await createRuntime(createRegistry(wasmPlugins)).backends()).filter(
  (status) => status.name === 'wasm-simd',
);
print(
  `GEMM on one thread (node ${process.version}, onnxruntime-node and -web ${ortNode.env.versions?.common ?? ''}); ` +
    `wasm-simd ${wasmStatus.available ? `int8 path ${wasmStatus.handle.int8Path} (relaxed SIMD ${wasmStatus.handle.relaxedSimd})` : `unavailable: ${wasmStatus.reason}`}`,
);
print(
  `median of ${MIN_RUNS}-${MAX_RUNS} runs (${BUDGET_MS} ms budget) after at least ${WARMUP_RUNS} warm-up runs and ${WARMUP_MS} ms; ratio = value / baseline value\n`,
);
print('| shape | subject | ms | value | baseline | ratio |');
print('|---|---|---:|---:|---|---:|');

const rows = [];
for (const { m, k, n } of SHAPES) {
  const label = `M=${m} K=${k} N=${n}`;
  const ops = 2 * m * k * n;
  const a = tensor('float32', [m, k], randomFloats(m * k, 1));
  const b = tensor('float32', [k, n], randomFloats(k * n, 2));
  const floatModel = model('MatMul', a, { b }, ['a', 'b']);
  const aCodes = tensor('uint8', [m, k], randomCodes(Uint8Array, m * k, 3, 0, 255));
  const bCodes = tensor('int8', [k, n], randomCodes(Int8Array, k * n, 4, -127, 127));
  const scalar = (dtype, value) =>
    tensor(
      dtype,
      [],
      dtype === 'float32'
        ? Float32Array.of(value)
        : dtype === 'int8'
          ? Int8Array.of(value)
          : Uint8Array.of(value),
    );
  const integerModel = model(
    'MatMulInteger',
    aCodes,
    { b: bCodes, a_zero_point: scalar('uint8', 128), b_zero_point: scalar('int8', 0) },
    ['a', 'b', 'a_zero_point', 'b_zero_point'],
  );
  const qLinearModel = model(
    'QLinearMatMul',
    aCodes,
    {
      a_scale: scalar('float32', 0.02),
      a_zero_point: scalar('uint8', 128),
      b: bCodes,
      b_scale: scalar('float32', 0.01),
      b_zero_point: scalar('int8', 0),
      y_scale: scalar('float32', 0.5),
      y_zero_point: scalar('uint8', 128),
    },
    ['a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'],
  );

  const subjects = [
    {
      name: 'onnxruntime-web fp32 MatMul',
      kind: 'GFLOPS',
      make: () => ortRunner(ortWeb, ortWebOptions, floatModel, a),
    },
    {
      name: 'onnxruntime-node fp32 MatMul',
      kind: 'GFLOPS',
      make: () => ortRunner(ortNode, ortNodeOptions, floatModel, a),
    },
    { name: 'runtime js fp32 MatMul', kind: 'GFLOPS', make: () => quantkitRunner(floatModel, jsPlugins, a) },
    {
      name: 'runtime wasm-simd fp32 MatMul',
      kind: 'GFLOPS',
      make: () => quantkitRunner(floatModel, wasmPlugins, a),
    },
    {
      name: 'onnxruntime-web u8xs8 MatMulInteger',
      kind: 'GOPS',
      make: () => ortRunner(ortWeb, ortWebOptions, integerModel, aCodes),
    },
    {
      name: 'runtime wasm-simd u8xs8 MatMulInteger',
      kind: 'GOPS',
      make: () => quantkitRunner(integerModel, wasmPlugins, aCodes),
    },
    {
      name: 'runtime wasm-simd u8xs8 QLinearMatMul',
      kind: 'GOPS',
      make: () => quantkitRunner(qLinearModel, wasmPlugins, aCodes),
    },
  ];
  const measured = new Map();
  for (const subject of subjects) {
    const runner = await subject.make();
    const ms = await measure(runner.run);
    measured.set(subject.name, { ms, value: ops / ms / 1e6, unit: subject.kind, backends: runner.backends });
  }
  // Each row with its baseline: float rows against onnxruntime-web fp32; int8 rows against onnxruntime-web's
  // u8 x s8 MatMulInteger and, again, against onnxruntime-node fp32 (the issue's targets).
  const pairs = [
    ['onnxruntime-node fp32 MatMul', 'onnxruntime-web fp32 MatMul'],
    ['runtime js fp32 MatMul', 'onnxruntime-web fp32 MatMul'],
    ['runtime wasm-simd fp32 MatMul', 'onnxruntime-web fp32 MatMul'],
    ['runtime wasm-simd fp32 MatMul', 'onnxruntime-node fp32 MatMul'],
    ['onnxruntime-web u8xs8 MatMulInteger', 'onnxruntime-node fp32 MatMul'],
    ['runtime wasm-simd u8xs8 MatMulInteger', 'onnxruntime-web u8xs8 MatMulInteger'],
    ['runtime wasm-simd u8xs8 QLinearMatMul', 'onnxruntime-web u8xs8 MatMulInteger'],
    ['runtime wasm-simd u8xs8 QLinearMatMul', 'onnxruntime-node fp32 MatMul'],
  ];
  for (const [subject, baseline] of pairs) {
    const row = measured.get(subject);
    const base = measured.get(baseline);
    const ratio = row.value / base.value;
    rows.push({
      name: `gemm ${label}: ${subject}`,
      value: Number(row.value.toFixed(2)),
      unit: row.unit,
      baseline: `gemm ${label}: ${baseline}`,
      ratio: Number(ratio.toFixed(3)),
    });
    const where = row.backends === '' ? '' : ` (${row.backends})`;
    print(
      `| ${label} | ${subject}${where} | ${row.ms.toFixed(3)} | ${row.value.toFixed(1)} ${row.unit} | ${baseline} | ${ratio.toFixed(2)}x |`,
    );
  }
}

/**
 * A packed model of `floatBytes` as `quantize --mode weight-only --format packed` writes it with one quantizer,
 * per channel; `binarize` sets binarize_activations (XNOR-popcount), `inputDtype` retypes the input (int8
 * activations for shift-add).
 */
async function packedModel(floatBytes, quantizer, bits, { binarize = false, inputDtype } = {}) {
  const { model } = await quantizeModel(floatBytes, {
    mode: 'weight-only',
    quantizer,
    bits,
    granularity: 'channel',
    symmetric: true,
    keepHigherPrecision: false,
    format: 'packed',
  });
  const node = model.graph.nodes.find((candidate) => candidate.domain === 'ai.quantkit');
  if (node === undefined) throw new Error(`the ${quantizer} quantizer wrote no ai.quantkit node`);
  if (binarize) node.attributes.set('binarize_activations', { type: 'int', value: 1 });
  if (inputDtype !== undefined) model.graph.inputs[0].dtype = inputDtype;
  return model;
}

for (const { m, k, n } of PACKED_SHAPES) {
  const label = `M=${m} K=${k} N=${n}`;
  const ops = 2 * m * k * n;
  const a = tensor('float32', [m, k], randomFloats(m * k, 11));
  const aInt8 = tensor('int8', [m, k], randomCodes(Int8Array, m * k, 13, -127, 127));
  const b = tensor('float32', [k, n], randomFloats(k * n, 12));
  const floatModel = model('MatMul', a, { b }, ['a', 'b']);
  const baseline = 'onnxruntime-node fp32 MatMul';
  const forms = [
    {
      name: 'binary XNOR-popcount MatMul (binarized activations)',
      model: await packedModel(floatModel, 'binary', 1, { binarize: true }),
      feed: a,
    },
    {
      name: 'binary sign-bit MatMul (fp32 activations)',
      model: await packedModel(floatModel, 'binary', 1),
      feed: a,
    },
    { name: 'log4 MatMul (fp32 activations)', model: await packedModel(floatModel, 'log', 4), feed: a },
    {
      name: 'log4 shift-add MatMul (int8 activations)',
      model: await packedModel(floatModel, 'log', 4, { inputDtype: 'int8' }),
      feed: aInt8,
    },
  ];
  const subjects = [
    { name: baseline, make: () => ortRunner(ortNode, ortNodeOptions, floatModel, a) },
    ...forms.flatMap((form) =>
      [
        ['js', jsPlugins],
        ['wasm-simd', wasmPlugins],
      ].map(([backend, plugins]) => ({
        name: `runtime ${backend} ${form.name}`,
        backend,
        make: () => quantkitRunner(form.model, plugins, form.feed),
      })),
    ),
  ];
  const measured = new Map();
  for (const subject of subjects) {
    const runner = await subject.make();
    // A packed row must time the backend it names, not a fallback.
    if (subject.backend !== undefined && runner.backends !== subject.backend) {
      throw new Error(`${subject.name} ran on ${runner.backends}`);
    }
    const ms = await measure(runner.run);
    measured.set(subject.name, { ms, value: ops / ms / 1e6, unit: 'GOPS', backends: runner.backends });
  }
  // The baseline itself (its time at this shape), every packed row against it, and each wasm-simd row again
  // against its js row (the WebAssembly gain).
  const pairs = [
    [baseline, baseline],
    ...forms.flatMap((form) => [
      [`runtime js ${form.name}`, baseline],
      [`runtime wasm-simd ${form.name}`, baseline],
      [`runtime wasm-simd ${form.name}`, `runtime js ${form.name}`],
    ]),
  ];
  for (const [subject, base] of pairs) {
    const row = measured.get(subject);
    const ratio = row.value / measured.get(base).value;
    rows.push({
      name: `packed gemm ${label}: ${subject}`,
      value: Number(row.value.toFixed(2)),
      unit: row.unit,
      baseline: `packed gemm ${label}: ${base}`,
      ratio: Number(ratio.toFixed(3)),
    });
    print(
      `| ${label} | ${subject} | ${row.ms.toFixed(3)} | ${row.value.toFixed(1)} ${row.unit} | ${base} | ${ratio.toFixed(2)}x |`,
    );
  }
}
if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
