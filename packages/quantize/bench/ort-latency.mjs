// Benchmark: onnxruntime-node latency of each quantized format against the fp32 model it came from, single
// thread, on a Conv-heavy model and a MatMul-heavy model. The baseline (1.00x) is the fp32 model in the same run.
import * as ort from 'onnxruntime-node';

const { createTensor } = await import('@quantkit/core');
const { createModel, encodeModel } = await import('@quantkit/onnx');
const { createOrtNodeExecutor } = await import('@quantkit/executor-ort');
const quantize = await import('@quantkit/quantize');

let seed = 11;
const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const tensor = (shape, scale) =>
  createTensor('float32', shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * scale));
const ints = (value) => ({ type: 'ints', value });
const node = (opType, inputs, outputs, attributes = {}) => ({
  name: `${opType}_${outputs[0]}`,
  opType,
  domain: '',
  inputs,
  outputs,
  attributes: new Map(Object.entries(attributes)),
});

function convModel() {
  const initializers = { w0: tensor([32, 3, 3, 3], 0.3), b0: tensor([32], 0.1) };
  const nodes = [node('Conv', ['x', 'w0', 'b0'], ['c0'], { pads: ints([1, 1, 1, 1]) }), node('Relu', ['c0'], ['r0'])];
  let previous = 'r0';
  let channels = 32;
  for (let i = 1; i <= 6; i++) {
    const out = i < 3 ? 32 : 64;
    initializers[`w${i}`] = tensor([out, channels, 3, 3], 0.06);
    initializers[`b${i}`] = tensor([out], 0.1);
    nodes.push(node('Conv', [previous, `w${i}`, `b${i}`], [`c${i}`], { pads: ints([1, 1, 1, 1]) }), node('Relu', [`c${i}`], [`r${i}`]));
    previous = `r${i}`;
    if (i === 2 || i === 4) {
      nodes.push(node('MaxPool', [previous], [`p${i}`], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }));
      previous = `p${i}`;
    }
    channels = out;
  }
  initializers.fc = tensor([64, 10], 0.1);
  nodes.push(node('GlobalAveragePool', [previous], ['gap']), node('Flatten', ['gap'], ['flat']), node('Gemm', ['flat', 'fc'], ['y']));
  return {
    name: 'Conv model (7 Conv, 1x3x64x64)',
    model: createModel({ opset: 13, inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 64, 64] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 10] }], initializers, nodes }),
    input: () => ({ x: tensor([1, 3, 64, 64], 1) }),
  };
}

function matMulModel() {
  const initializers = {};
  const nodes = [];
  let previous = 'x';
  for (let i = 0; i < 4; i++) {
    initializers[`w${i}`] = tensor([512, 512], 0.06);
    initializers[`b${i}`] = tensor([512], 0.1);
    nodes.push(node('MatMul', [previous, `w${i}`], [`m${i}`]), node('Add', [`m${i}`, `b${i}`], [`a${i}`]), node('Relu', [`a${i}`], [`r${i}`]));
    previous = `r${i}`;
  }
  return {
    name: 'MatMul model (4 x 512x512, batch 32)',
    model: createModel({ opset: 13, inputs: [{ name: 'x', dtype: 'float32', shape: [32, 512] }], outputs: [{ name: previous, dtype: 'float32', shape: [32, 512] }], initializers, nodes }),
    input: () => ({ x: tensor([32, 512], 1) }),
  };
}

async function latency(bytes, feeds) {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor(t.dtype, t.data, t.shape)]));
  for (let i = 0; i < 5; i++) await session.run(ortFeeds);
  const times = [];
  const start = performance.now();
  while (times.length < 20 || (performance.now() - start < 1500 && times.length < 500)) {
    const t = performance.now();
    await session.run(ortFeeds);
    times.push(performance.now() - t);
  }
  await session.release();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const executor = createOrtNodeExecutor();
const formats = [
  ['static int8 QDQ (u8 x s8, per-channel)', { mode: 'static' }],
  ...(quantize.qdqToQOperator ? [['static int8 QOperator', { mode: 'static', format: 'qoperator' }]] : []),
  ['static a16w16 QDQ', { mode: 'static', activationBits: 16, bits: 16 }],
  ['dynamic int8', { mode: 'dynamic' }],
  ['weight-only int8', { mode: 'weight-only' }],
  ['weight-only q4 block-32 (MatMulNBits)', { mode: 'weight-only', granularity: 'block', bits: 4, blockSize: 32 }],
  ['float fp16', { mode: 'float', floatPrecision: 'fp16' }],
];

for (const { name, model, input } of [convModel(), matMulModel()]) {
  const floatBytes = encodeModel(model);
  const calibration = Array.from({ length: 16 }, input);
  const feeds = input();
  const base = await latency(floatBytes, feeds);
  console.log(`\n${name}: onnxruntime-node ${ort.env.versions?.common ?? ''} single thread, median latency\n`);
  console.log('| format | latency (ms) | vs fp32 | size vs fp32 |');
  console.log('|---|---:|---:|---:|');
  console.log(`| fp32 (baseline) | ${base.toFixed(3)} | 1.00x | 1.00x |`);
  for (const [label, options] of formats) {
    let result;
    try {
      result = await quantize.quantizeModel(floatBytes, { ...options, executor, calibrationData: calibration });
    } catch (error) {
      console.log(`| ${label} | n/a | n/a | n/a (${error.message.split('\n')[0]}) |`);
      continue;
    }
    const ms = await latency(result.bytes, feeds);
    console.log(`| ${label} | ${ms.toFixed(3)} | ${(ms / base).toFixed(2)}x | ${(result.bytes.length / floatBytes.length).toFixed(2)}x |`);
  }
}
