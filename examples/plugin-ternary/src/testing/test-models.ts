// Small seeded models for the example's tests, and a float64 forward pass over the same few operators, so a test can
// run a model with any weights it likes (e.g. the reference's dequantized ones) without onnxruntime.
import { type Tensor, createTensor } from '@quantkit/core';
import { type Model, createModel } from '@quantkit/onnx';

/** xorshift32: a seeded stream of numbers in [0, 1), the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** Roughly normal values (a sum of four uniforms), the way trained weights are spread. */
export function normalTensor(shape: number[], random: () => number, std: number): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: size }, () => (random() + random() + random() + random() - 2) * std * Math.sqrt(3));
  return createTensor('float32', shape, data);
}

export function uniformTensor(shape: number[], random: () => number, scale = 1): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  return createTensor('float32', shape, Float32Array.from({ length: size }, () => (random() * 2 - 1) * scale));
}

/** A weight the pipeline quantizes, and the axis its output channels lie on (where per-channel scales go). */
export interface WeightSite {
  readonly name: string;
  readonly axis: number;
}

export interface ExampleModel {
  readonly model: Model;
  readonly input: string;
  readonly inputShape: number[];
  readonly output: string;
  readonly weights: readonly WeightSite[];
}

/** x[2, 24] -> Gemm(w1 [32, 24], transB) -> Relu -> MatMul(w2 [32, 8]) -> Add(b2) -> y[2, 8]. */
export function mlpModel(seed = 11): ExampleModel {
  const random = seededRandom(seed);
  const model = createModel({
    opset: 13,
    inputs: [['x', 'float32', [2, 24]]],
    outputs: [['y', 'float32', [2, 8]]],
    initializers: {
      w1: normalTensor([32, 24], random, 0.3),
      b1: uniformTensor([32], random, 0.1),
      w2: normalTensor([32, 8], random, 0.2),
      b2: uniformTensor([8], random, 0.1),
    },
    nodes: [
      { opType: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['h'], attributes: { transB: 1 } },
      { opType: 'Relu', inputs: ['h'], outputs: ['a'] },
      { opType: 'MatMul', inputs: ['a', 'w2'], outputs: ['m'] },
      { opType: 'Add', inputs: ['m', 'b2'], outputs: ['y'] },
    ],
  });
  return { model, input: 'x', inputShape: [2, 24], output: 'y', weights: [{ name: 'w1', axis: 0 }, { name: 'w2', axis: 1 }] };
}

/** image[1, 3, 8, 8] -> Conv(w1 [6, 3, 3, 3], pads 1) -> Relu -> Conv(w2 [4, 6, 3, 3]) -> out[1, 4, 6, 6]. */
export function convModel(seed = 12): ExampleModel {
  const random = seededRandom(seed);
  const model = createModel({
    opset: 13,
    inputs: [['image', 'float32', [1, 3, 8, 8]]],
    outputs: [['out', 'float32', [1, 4, 6, 6]]],
    initializers: {
      w1: normalTensor([6, 3, 3, 3], random, 0.3),
      b1: uniformTensor([6], random, 0.1),
      w2: normalTensor([4, 6, 3, 3], random, 0.2),
      b2: uniformTensor([4], random, 0.1),
    },
    nodes: [
      { opType: 'Conv', inputs: ['image', 'w1', 'b1'], outputs: ['c1'], attributes: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { opType: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { opType: 'Conv', inputs: ['r1', 'w2', 'b2'], outputs: ['out'], attributes: { kernel_shape: [3, 3] } },
    ],
  });
  return {
    model,
    input: 'image',
    inputShape: [1, 3, 8, 8],
    output: 'out',
    weights: [{ name: 'w1', axis: 0 }, { name: 'w2', axis: 0 }],
  };
}

type Values = Float64Array;

function gemmTransB(x: Values, rows: number, k: number, w: ArrayLike<number>, n: number, bias: ArrayLike<number>): Values {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      let sum = bias[j]!;
      for (let i = 0; i < k; i++) sum += x[r * k + i]! * w[j * k + i]!;
      y[r * n + j] = sum;
    }
  }
  return y;
}

function matMul(x: Values, rows: number, k: number, w: ArrayLike<number>, n: number): Values {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += x[r * k + i]! * w[i * n + j]!;
      y[r * n + j] = sum;
    }
  }
  return y;
}

/** Conv2D, batch 1, stride 1, 3x3 kernel, symmetric zero padding `pad`: x [C, H, W] -> [M, H', W']. */
function conv3x3(x: Values, c: number, h: number, w: number, weight: ArrayLike<number>, m: number, bias: ArrayLike<number>, pad: number) {
  const outH = h + 2 * pad - 2;
  const outW = w + 2 * pad - 2;
  const y = new Float64Array(m * outH * outW);
  for (let o = 0; o < m; o++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let sum = bias[o]!;
        for (let ci = 0; ci < c; ci++) {
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const iy = oy + ky - pad;
              const ix = ox + kx - pad;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              sum += x[(ci * h + iy) * w + ix]! * weight[((o * c + ci) * 3 + ky) * 3 + kx]!;
            }
          }
        }
        y[(o * outH + oy) * outW + ox] = sum;
      }
    }
  }
  return { y, outH, outW };
}

const relu = (values: Values): Values => values.map((v) => Math.max(0, v));

/**
 * Runs an example model in float64 with the given weights (by initializer name; others come from the model).
 * @example simulate(mlpModel(), input, { w1: dequantizedW1 })
 */
export function simulate(
  example: ExampleModel,
  input: Float32Array,
  weights: Readonly<Record<string, ArrayLike<number>>>,
): Float64Array {
  const get = (name: string): ArrayLike<number> => {
    const value = weights[name] ?? example.model.graph.initializers.get(name)?.data;
    if (value === undefined) throw new Error(`no initializer ${name}`);
    return value as ArrayLike<number>;
  };
  const x = Float64Array.from(input);
  if (example.input === 'x') {
    const a = relu(gemmTransB(x, 2, 24, get('w1'), 32, get('b1')));
    const m = matMul(a, 2, 32, get('w2'), 8);
    const b2 = get('b2');
    return m.map((v, i) => v + b2[i % 8]!);
  }
  const first = conv3x3(x, 3, 8, 8, get('w1'), 6, get('b1'), 1);
  return conv3x3(relu(first.y), 6, first.outH, first.outW, get('w2'), 4, get('b2'), 0).y;
}
