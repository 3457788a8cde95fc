// Form (a): binary weights as int8/int4 -1/+1 codes behind a per-channel DequantizeLinear, run by stock
// onnxruntime-node and compared with a float simulation computed here (dequantized weights times the inputs).
import { type Tensor, sizeOf } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, type NodeInit, createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import { quantizeModel } from './quantize-model.js';
import { createRandom, registryWith } from './test-models.js';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { binaryQuantizer, createBinaryQuantizer } from '@quantkit/quantizer-binary';
import { storedCodes } from './packed-codes.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

function floatTensor(shape: number[], random: () => number, scale = 1): Tensor<'float32'> {
  return {
    dtype: 'float32',
    shape,
    data: Float32Array.from({ length: sizeOf(shape) }, () => (random() * 2 - 1) * scale),
  };
}

// ------------------------------------------------------------------------------------------------------------
// The independent reference for binary weights: alpha = mean |W| per slice along the axis, sign(0) = +1.

function referenceBinary(weight: Tensor<'float32'>, axis: number): { signs: number[]; alphas: number[] } {
  const { shape, data } = weight;
  const inner = sizeOf(shape.slice(axis + 1));
  const channels = shape[axis]!;
  const sums = new Array<number>(channels).fill(0);
  const counts = new Array<number>(channels).fill(0);
  data.forEach((w, i) => {
    const c = Math.floor(i / inner) % channels;
    sums[c]! += Math.abs(w);
    counts[c]! += 1;
  });
  return {
    signs: Array.from(data, (w) => (w < 0 ? -1 : 1)),
    alphas: sums.map((sum, c) => Math.fround(sum / counts[c]!)),
  };
}

// ------------------------------------------------------------------------------------------------------------
// A float simulation of the few ops these models use, in float64 over float32 weights.

interface Value {
  shape: number[];
  data: Float64Array;
}

function attributeInts(node: Model['graph']['nodes'][number], name: string): number[] | undefined {
  const attribute = node.attributes.get(name);
  if (attribute === undefined) return undefined;
  if (attribute.type === 'ints') return attribute.value.map(Number);
  if (attribute.type === 'int') return [Number(attribute.value)];
  throw new Error(`attribute ${name} of ${node.name} is ${attribute.type}`);
}

function dequantize(codes: Value, scale: Value, zeroPoint: Value | undefined, axis: number): Value {
  const rank = codes.shape.length;
  const a = (axis + rank) % rank;
  const inner = sizeOf(codes.shape.slice(a + 1));
  const channels = codes.shape[a]!;
  const perChannel = scale.data.length > 1;
  const data = codes.data.map((code, i) => {
    const c = perChannel ? Math.floor(i / inner) % channels : 0;
    return Math.fround((code - (zeroPoint?.data[c] ?? 0)) * scale.data[c]!);
  });
  return { shape: codes.shape, data };
}

function matmul(a: Value, b: Value, transB = false): Value {
  const [m, k] = a.shape as [number, number];
  const n = transB ? b.shape[0]! : b.shape[1]!;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a.data[i * k + p]! * b.data[transB ? j * k + p : p * n + j]!;
      out[i * n + j] = sum;
    }
  }
  return { shape: [m, n], data: out };
}

function addBroadcast(a: Value, b: Value): Value {
  // Bias broadcasting: b's elements repeat over a's trailing dims (same shape, or [N] over [M, N]).
  return { shape: a.shape, data: a.data.map((x, i) => x + b.data[i % b.data.length]!) };
}

/** [R, 1] op [1, K] -> [R, K], same shapes, or any shape op a scalar: the broadcasts the weight unpack nodes use. */
function integerOp(a: Value, b: Value, op: (x: number, y: number) => number): Value {
  if (b.data.length === 1) return { shape: a.shape, data: a.data.map((x) => op(x, b.data[0]!)) };
  if (b.shape.join() === a.shape.join())
    return { shape: a.shape, data: a.data.map((x, i) => op(x, b.data[i]!)) };
  const rows = a.data.length;
  const cols = b.data.length;
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < cols; k++) data[r * cols + k] = op(a.data[r]!, b.data[k]!);
  return { shape: [rows, cols], data };
}

function conv(x: Value, w: Value, bias: Value | undefined, pads: number[]): Value {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [m, , kh, kw] = w.shape as [number, number, number, number];
  const [top, left, bottom, right] = pads as [number, number, number, number];
  const oh = h + top + bottom - kh + 1;
  const ow = wd + left + right - kw + 1;
  const out = new Float64Array(n * m * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < m; o++) {
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          let sum = bias?.data[o] ?? 0;
          for (let ci = 0; ci < c; ci++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const iy = y + i - top;
                const ix = xx + j - left;
                if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
                sum += x.data[((b * c + ci) * h + iy) * wd + ix]! * w.data[((o * c + ci) * kh + i) * kw + j]!;
              }
            }
          }
          out[((b * m + o) * oh + y) * ow + xx] = sum;
        }
      }
    }
  }
  return { shape: [n, m, oh, ow], data: out };
}

/** Runs the graph in float64, dequantizing every DequantizeLinear exactly as ONNX defines it. */
function simulate(model: Model, feeds: Record<string, Tensor<'float32'>>): Record<string, Value> {
  const { graph } = model;
  const values = new Map<string, Value>();
  for (const [name, tensor] of graph.initializers) {
    values.set(name, {
      shape: [...tensor.shape],
      data: Float64Array.from(tensor.data as ArrayLike<number>, Number),
    });
  }
  for (const [name, tensor] of Object.entries(feeds)) {
    values.set(name, { shape: [...tensor.shape], data: Float64Array.from(tensor.data) });
  }
  const get = (name: string | undefined) => (name ? values.get(name) : undefined);
  for (const node of graph.nodes) {
    const [a, b, c] = node.inputs.map((name) => get(name));
    let out: Value;
    switch (node.opType) {
      case 'DequantizeLinear':
        out = dequantize(a!, b!, c, attributeInts(node, 'axis')?.[0] ?? 1);
        break;
      case 'MatMul':
        out = matmul(a!, b!);
        break;
      case 'Gemm': {
        const product = matmul(a!, b!, attributeInts(node, 'transB')?.[0] === 1);
        out = c === undefined ? product : addBroadcast(product, c);
        break;
      }
      case 'Add':
        out = b!.data.length === 1 ? integerOp(a!, b!, (x, y) => x + y) : addBroadcast(a!, b!);
        break;
      // The nodes that unpack codes stored several to a byte (integer arithmetic on exact values).
      case 'Cast':
        out = a!;
        break;
      case 'Reshape':
        out = { shape: Array.from(b!.data), data: a!.data };
        break;
      case 'Div':
        out = integerOp(a!, b!, (x, y) => Math.floor(x / y));
        break;
      case 'Mul':
        out = integerOp(a!, b!, (x, y) => x * y);
        break;
      case 'Sub':
        out = integerOp(a!, b!, (x, y) => x - y);
        break;
      case 'Slice':
        out = { shape: [c!.data[0]! - b!.data[0]!], data: a!.data.slice(b!.data[0]!, c!.data[0]!) };
        break;
      case 'Relu':
        out = { shape: a!.shape, data: a!.data.map((x) => Math.max(x, 0)) };
        break;
      case 'Conv':
        out = conv(a!, b!, c, attributeInts(node, 'pads') ?? [0, 0, 0, 0]);
        break;
      default:
        throw new Error(`the float simulation has no ${node.opType} (node ${node.name})`);
    }
    values.set(node.outputs[0]!, out);
  }
  return Object.fromEntries(graph.outputs.map((output) => [output.name, values.get(output.name)!]));
}

async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await executor.createSession(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

/** Every output within 1e-5 of the simulation, relative to the output's largest magnitude. */
async function expectOrtMatchesSimulation(
  model: Model,
  feeds: Record<string, Tensor<'float32'>>,
): Promise<void> {
  const actual = await runOrt(encodeModel(model), feeds);
  const expected = simulate(model, feeds);
  for (const [name, value] of Object.entries(expected)) {
    const got = actual[name]!;
    expect(got.shape).toEqual(value.shape);
    const magnitude = value.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(magnitude).toBeGreaterThan(0);
    let worst = 0;
    value.data.forEach((x, i) => {
      worst = Math.max(worst, Math.abs((got.data[i] as number) - x));
    });
    expect(worst / magnitude).toBeLessThanOrEqual(1e-5);
  }
}

// ------------------------------------------------------------------------------------------------------------

describe('form (a), built by hand: codes -> DequantizeLinear(per-channel alpha) -> MatMul / Conv', () => {
  const random = createRandom(42);

  function binaryInitializers(
    prefix: string,
    weight: Tensor<'float32'>,
    axis: number,
    quantizer = binaryQuantizer,
  ) {
    const { codes, params } = quantizer.quantizeWeight(weight, {
      bits: 1,
      symmetric: true,
      granularity: 'channel',
      axis,
    });
    const reference = referenceBinary(weight, axis);
    expect(Array.from(codes.data)).toEqual(reference.signs);
    expect(Array.from(params.scale)).toEqual(reference.alphas);
    const channels = params.scale.length;
    const zeroPoint: Tensor = { dtype: params.dtype, shape: [channels], data: new Int8Array(channels) };
    return {
      initializers: {
        [`${prefix}_codes`]: codes as Tensor,
        [`${prefix}_scale`]: { dtype: 'float32', shape: [channels], data: params.scale } as Tensor,
        [`${prefix}_zero_point`]: zeroPoint,
      },
      node: {
        opType: 'DequantizeLinear',
        inputs: [`${prefix}_codes`, `${prefix}_scale`, `${prefix}_zero_point`],
        outputs: [`${prefix}_dq`],
        attributes: { axis },
      } satisfies NodeInit,
    };
  }

  it('MatMul [K, N] with alphas per column (axis 1), int8 codes at opset 13', async () => {
    const weight = floatTensor([24, 10], random, 0.5);
    const w = binaryInitializers('w', weight, 1);
    const model = createModel({
      opset: 13,
      inputs: [['x', 'float32', [4, 24]]],
      outputs: [['y', 'float32', [4, 10]]],
      initializers: w.initializers,
      nodes: [w.node, { opType: 'MatMul', inputs: ['x', 'w_dq'], outputs: ['y'] }],
    });
    await expectOrtMatchesSimulation(model, { x: floatTensor([4, 24], random) });
  });

  it('Conv [M, C, kH, kW] with alphas per output channel (axis 0) and a float bias', async () => {
    const weight = floatTensor([8, 3, 3, 3], random, 0.3);
    const w = binaryInitializers('w', weight, 0);
    const model = createModel({
      opset: 13,
      inputs: [['image', 'float32', [1, 3, 8, 8]]],
      outputs: [['features', 'float32', [1, 8, 8, 8]]],
      initializers: { ...w.initializers, bias: floatTensor([8], random, 0.1) },
      nodes: [
        w.node,
        {
          opType: 'Conv',
          inputs: ['image', 'w_dq', 'bias'],
          outputs: ['features'],
          attributes: { pads: [1, 1, 1, 1] },
        },
      ],
    });
    await expectOrtMatchesSimulation(model, { image: floatTensor([1, 3, 8, 8], random) });
  });

  it('int4 codes (settings.dtype) at opset 21', async () => {
    const weight = floatTensor([16, 6], random, 0.5);
    const w = binaryInitializers('w', weight, 1, createBinaryQuantizer({ dtype: 'int4' }));
    expect(w.initializers['w_codes']!.dtype).toBe('int4');
    const model = createModel({
      opset: 21,
      inputs: [['x', 'float32', [3, 16]]],
      outputs: [['y', 'float32', [3, 6]]],
      initializers: w.initializers,
      nodes: [w.node, { opType: 'MatMul', inputs: ['x', 'w_dq'], outputs: ['y'] }],
    });
    await expectOrtMatchesSimulation(model, { x: floatTensor([3, 16], random) });
  });
});

// ------------------------------------------------------------------------------------------------------------

function mlp(seed: number) {
  const random = createRandom(seed);
  const model = createModel({
    opset: 13,
    inputs: [['x', 'float32', [4, 32]]],
    outputs: [['y', 'float32', [4, 10]]],
    initializers: {
      w1: floatTensor([48, 32], random, 0.3),
      b1: floatTensor([48], random, 0.1),
      w2: floatTensor([48, 40], random, 0.2),
      b2: floatTensor([40], random, 0.1),
      w3: floatTensor([40, 10], random, 0.3),
      b3: floatTensor([10], random, 0.1),
    },
    nodes: [
      { opType: 'Gemm', name: 'fc1', inputs: ['x', 'w1', 'b1'], outputs: ['h1'], attributes: { transB: 1 } },
      { opType: 'Relu', inputs: ['h1'], outputs: ['a1'] },
      { opType: 'MatMul', name: 'fc2', inputs: ['a1', 'w2'], outputs: ['m2'] },
      { opType: 'Add', inputs: ['m2', 'b2'], outputs: ['h2'] },
      { opType: 'Relu', inputs: ['h2'], outputs: ['a2'] },
      { opType: 'Gemm', name: 'fc3', inputs: ['a2', 'w3', 'b3'], outputs: ['y'] },
    ],
  });
  return { model, feeds: { x: floatTensor([4, 32], random) } };
}

function cnn(seed: number) {
  const random = createRandom(seed);
  const model = createModel({
    opset: 13,
    inputs: [['image', 'float32', [1, 3, 8, 8]]],
    outputs: [['features', 'float32', [1, 6, 8, 8]]],
    initializers: {
      k1: floatTensor([8, 3, 3, 3], random, 0.3),
      c1: floatTensor([8], random, 0.1),
      k2: floatTensor([6, 8, 3, 3], random, 0.2),
      c2: floatTensor([6], random, 0.1),
    },
    nodes: [
      {
        opType: 'Conv',
        name: 'conv1',
        inputs: ['image', 'k1', 'c1'],
        outputs: ['f1'],
        attributes: { pads: [1, 1, 1, 1] },
      },
      { opType: 'Relu', inputs: ['f1'], outputs: ['r1'] },
      {
        opType: 'Conv',
        name: 'conv2',
        inputs: ['r1', 'k2', 'c2'],
        outputs: ['features'],
        attributes: { pads: [1, 1, 1, 1] },
      },
    ],
  });
  return { model, feeds: { image: floatTensor([1, 3, 8, 8], random) } };
}

/** The DequantizeLinear feeding `node`'s weight input, with its codes, scales and axis. */
function weightDequantizer(model: Model, nodeName: string) {
  const { graph } = model;
  const node = graph.nodes.find((candidate) => candidate.name === nodeName)!;
  const dq = graph.producer(node.inputs[1]!);
  expect(dq?.opType).toBe('DequantizeLinear');
  return {
    codes: storedCodes(graph, dq!.inputs[0]!)!,
    scale: graph.initializers.get(dq!.inputs[1]!)!,
    axis: attributeInts(dq!, 'axis')?.[0],
  };
}

describe('form (a) through quantizeModel (weight-only, bits 1)', () => {
  const everyLayer = createBinaryQuantizer({ keepHigherPrecision: 'none' });

  it.each([
    ['MLP (Gemm transB, MatMul, Gemm)', mlp, { w1: ['fc1', 0], w2: ['fc2', 1], w3: ['fc3', 1] }],
    ['CNN (two Conv)', cnn, { k1: ['conv1', 0], k2: ['conv2', 0] }],
  ] as const)('%s: every weight binary, runs in onnxruntime-node like the float simulation', async (_, build, weights) => {
    const { model, feeds } = build(5);
    const result = await quantizeModel(encodeModel(model), {
      mode: 'weight-only',
      quantizer: 'binary',
      registry: registryWith(everyLayer),
      bits: 1,
    });
    const quantized = decodeModel(result.bytes);
    for (const [initializer, [nodeName, axis]] of Object.entries(weights)) {
      const float = model.graph.initializers.get(initializer) as Tensor<'float32'>;
      const reference = referenceBinary(float, axis);
      const dq = weightDequantizer(quantized, nodeName);
      expect(dq.axis).toBe(axis);
      expect(dq.codes.dtype).toBe('int8');
      expect(Array.from(dq.codes.data as Int8Array)).toEqual(reference.signs);
      expect(Array.from(dq.scale.data as Float32Array)).toEqual(reference.alphas);
    }
    await expectOrtMatchesSimulation(quantized, feeds);
  });

  it('the default binary quantizer keeps the first and last weight layers at 8 bits', async () => {
    const { model, feeds } = mlp(6);
    const result = await quantizeModel(encodeModel(model), {
      mode: 'weight-only',
      quantizer: 'binary',
      registry: registryWith(binaryQuantizer),
      bits: 1,
    });
    const quantized = decodeModel(result.bytes);
    const isBinary = (nodeName: string) =>
      Array.from(weightDequantizer(quantized, nodeName).codes.data as Int8Array).every(
        (code) => code === 1 || code === -1,
      );
    expect([isBinary('fc1'), isBinary('fc2'), isBinary('fc3')]).toEqual([false, true, false]);
    await expectOrtMatchesSimulation(quantized, feeds);
  });
});
