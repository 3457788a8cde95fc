// Benchmark: the JS backend's neural-network kernels on layers of a 320x240 face detector (and a few others), one
// node per model, against onnxruntime-node on one thread with graph optimizations off as the baseline (1.00x) in the
// same run. Run `pnpm --filter @quantkit/runtime build` first, then `node packages/runtime/bench/nn-kernels.mjs`.
import * as ort from 'onnxruntime-node';

const { createRegistry, createSeededRandom } = await import('@quantkit/core');
const { createModel, encodeModel } = await import('@quantkit/onnx');
const { createOrtExecutor } = await import('@quantkit/executor-ort');
const { builtinRuntimePlugins, createRuntime } = await import('../dist/index.js');

const ROUNDS = 10;

function random(shape, seed) {
  const next = createSeededRandom(seed);
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1);
  return { dtype: 'float32', shape, data };
}
const ints = (value) => ({ type: 'ints', value });

/** One node: inputs as [tensor, initializer?] in slot order (undefined for an omitted one). */
function layer(name, opType, inputs, attributes = {}, opset = 17) {
  const feeds = {};
  const initializers = {};
  const names = inputs.map((entry, slot) => {
    if (entry === undefined) return '';
    const [tensor, constant] = entry;
    (constant ? initializers : feeds)[`in${slot}`] = tensor;
    return `in${slot}`;
  });
  const model = createModel({
    opset,
    nodes: [{ opType, inputs: names, outputs: ['out'], attributes }],
    inputs: Object.entries(feeds).map(([input, tensor]) => [input, tensor.dtype, tensor.shape]),
    outputs: [['out']],
    initializers,
  });
  return { name, model, feeds };
}

const layers = [
  layer(
    'Conv 3->16 3x3 s2, 240x320',
    'Conv',
    [[random([1, 3, 240, 320], 1)], [random([16, 3, 3, 3], 2), true], [random([16], 3), true]],
    { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) },
  ),
  layer(
    'Conv depthwise 32 3x3, 120x160',
    'Conv',
    [[random([1, 32, 120, 160], 4)], [random([32, 1, 3, 3], 5), true], [random([32], 6), true]],
    { pads: ints([1, 1, 1, 1]), group: 32 },
  ),
  layer(
    'Conv depthwise 64 3x3 s2, 120x160',
    'Conv',
    [[random([1, 64, 120, 160], 7)], [random([64, 1, 3, 3], 8), true]],
    { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]), group: 64 },
  ),
  layer('Conv 1x1 32->64, 120x160', 'Conv', [
    [random([1, 32, 120, 160], 9)],
    [random([64, 32, 1, 1], 10), true],
    [random([64], 11), true],
  ]),
  layer(
    'Conv 64->64 3x3, 30x40',
    'Conv',
    [[random([1, 64, 30, 40], 12)], [random([64, 64, 3, 3], 13), true]],
    { pads: ints([1, 1, 1, 1]) },
  ),
  layer(
    'ConvTranspose 64->32 4x4 s2, 30x40',
    'ConvTranspose',
    [[random([1, 64, 30, 40], 14)], [random([64, 32, 4, 4], 15), true]],
    { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) },
  ),
  layer('MaxPool 2x2 s2, 64x120x160', 'MaxPool', [[random([1, 64, 120, 160], 16)]], {
    kernel_shape: ints([2, 2]),
    strides: ints([2, 2]),
  }),
  layer('AveragePool 3x3 pads 1, 64x60x80', 'AveragePool', [[random([1, 64, 60, 80], 17)]], {
    kernel_shape: ints([3, 3]),
    pads: ints([1, 1, 1, 1]),
  }),
  layer('BatchNormalization 64x60x80', 'BatchNormalization', [
    [random([1, 64, 60, 80], 18)],
    ...[19, 20, 21].map((seed) => [random([64], seed), true]),
    [{ ...random([64], 22), data: random([64], 22).data.map(Math.abs) }, true],
  ]),
  layer(
    'Resize linear x2, 64x60x80',
    'Resize',
    [
      [random([1, 64, 60, 80], 23)],
      undefined,
      [{ dtype: 'float32', shape: [4], data: Float32Array.from([1, 1, 2, 2]) }, true],
    ],
    { mode: 'linear' },
  ),
  layer('Resize nearest x2, 64x60x80', 'Resize', [
    [random([1, 64, 60, 80], 24)],
    undefined,
    [{ dtype: 'float32', shape: [4], data: Float32Array.from([1, 1, 2, 2]) }, true],
  ]),
  layer('Softmax 4420x2 (detector scores)', 'Softmax', [[random([1, 4420, 2], 25)]]),
  layer(
    'Gemm 8x1024 by 1024x1000 (transB)',
    'Gemm',
    [[random([8, 1024], 26)], [random([1000, 1024], 27), true], [random([1000], 28), true]],
    { transB: 1 },
  ),
  layer(
    'LSTM seq 32 batch 4 input 64 hidden 128',
    'LSTM',
    [
      [random([32, 4, 64], 29)],
      [random([1, 512, 64], 30), true],
      [random([1, 512, 128], 31), true],
      [random([1, 1024], 32), true],
    ],
    { hidden_size: 128 },
  ),
];

async function time(run) {
  await run();
  const start = performance.now();
  for (let round = 0; round < ROUNDS; round++) await run();
  return (performance.now() - start) / ROUNDS;
}

const ortExecutor = createOrtExecutor(ort, { graphOptimizationLevel: 'disabled' });
const rows = [];
for (const { name, model, feeds } of layers) {
  const loaded = await createRuntime(createRegistry([...builtinRuntimePlugins])).load(model);
  const js = await time(() => loaded.run(feeds));
  const session = await ortExecutor.createSession(encodeModel(model), { threads: 1 });
  const baseline = await time(() => session.run(feeds));
  await session.dispose();
  rows.push({
    layer: name,
    'onnxruntime ms (baseline)': baseline.toFixed(2),
    'js ms': js.toFixed(2),
    'js / baseline': `${(js / baseline).toFixed(2)}x`,
  });
}
console.table(rows);
