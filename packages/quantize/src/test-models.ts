// Models the tests build for themselves: small, seeded, and shaped like the layers real models have.
import {
  createRegistry,
  createSeededRandom,
  createTensor,
  type QuantizerPlugin,
  type Tensor,
} from '@quantkit/core';
import { type Attribute, createModel, type Model, type Node } from '@quantkit/onnx';
import { createDefaultRegistry } from './builtins.js';

/** A seeded PRNG so every test model and sample is the same on every run. */
export const createRandom = createSeededRandom;

/** Uniform values in [-scale, scale). */
export function randomTensor(shape: number[], random: () => number, scale = 1): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  return createTensor(
    'float32',
    shape,
    Float32Array.from({ length: size }, () => (random() * 2 - 1) * scale),
  );
}

/** Roughly normal values (sum of uniforms), like trained weights. */
export function gaussianTensor(shape: number[], random: () => number, std: number): Tensor<'float32'> {
  const size = shape.reduce((a, b) => a * b, 1);
  return createTensor(
    'float32',
    shape,
    Float32Array.from({ length: size }, () => (random() + random() + random() + random() - 2) * std * 1.732),
  );
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, Attribute> = {},
  name?: string,
): Node {
  return {
    name: name ?? `${opType}_${outputs[0]}`,
    opType,
    domain: '',
    inputs,
    outputs,
    attributes: new Map(Object.entries(attributes)),
  };
}

const ints = (value: number[]): Attribute => ({ type: 'ints', value });
const int = (value: number): Attribute => ({ type: 'int', value });

export interface TestModel {
  readonly model: Model;
  /** Draws one input sample from the distribution the model is meant for. */
  readonly sample: (random: () => number) => Record<string, Tensor>;
}

/** Conv -> BatchNorm -> Relu -> MaxPool -> Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm. */
export function cnnModel(seed = 1, opset = 13): TestModel {
  const r = createRandom(seed);
  const channels = 8;
  const initializers: Record<string, Tensor> = {
    w1: gaussianTensor([channels, 3, 3, 3], r, 0.3),
    b1: randomTensor([channels], r, 0.1),
    bn_scale: createTensor(
      'float32',
      [channels],
      Float32Array.from({ length: channels }, () => 0.5 + r()),
    ),
    bn_bias: randomTensor([channels], r, 0.2),
    bn_mean: randomTensor([channels], r, 0.1),
    bn_var: createTensor(
      'float32',
      [channels],
      Float32Array.from({ length: channels }, () => 0.5 + r()),
    ),
    w2: gaussianTensor([16, channels, 3, 3], r, 0.15),
    b2: randomTensor([16], r, 0.1),
    w3: gaussianTensor([16, 10], r, 0.3),
    b3: randomTensor([10], r, 0.1),
  };
  const model = createModel({
    opset,
    inputs: [{ name: 'image', dtype: 'float32', shape: [1, 3, 16, 16] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 10] }],
    initializers,
    nodes: [
      node('Conv', ['image', 'w1', 'b1'], ['c1'], { pads: ints([1, 1, 1, 1]), kernel_shape: ints([3, 3]) }),
      node('BatchNormalization', ['c1', 'bn_scale', 'bn_bias', 'bn_mean', 'bn_var'], ['bn1']),
      node('Relu', ['bn1'], ['r1']),
      node('MaxPool', ['r1'], ['p1'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }),
      node('Conv', ['p1', 'w2', 'b2'], ['c2'], { pads: ints([1, 1, 1, 1]), kernel_shape: ints([3, 3]) }),
      node('Relu', ['c2'], ['r2']),
      node('GlobalAveragePool', ['r2'], ['gap']),
      node('Flatten', ['gap'], ['flat'], { axis: int(1) }),
      node('Gemm', ['flat', 'w3', 'b3'], ['logits']),
    ],
  });
  return { model, sample: (random) => ({ image: randomTensor([1, 3, 16, 16], random) }) };
}

/**
 * Two quantizable regions with a float op between them: a wide Gemm (64 -> 256) and a narrow one (256 -> 8), each
 * followed by Relu, joined by Erf, which no target runs quantized.
 */
export function twoRegionModel(): TestModel {
  const r = createRandom(11);
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 8] }],
    initializers: {
      w1: gaussianTensor([64, 256], r, 0.15),
      b1: randomTensor([256], r, 0.1),
      w2: gaussianTensor([256, 8], r, 0.1),
      b2: randomTensor([8], r, 0.1),
    },
    nodes: [
      node('Gemm', ['x', 'w1', 'b1'], ['h1'], {}, 'wide'),
      node('Relu', ['h1'], ['r1'], {}, 'wide_relu'),
      node('Erf', ['r1'], ['e1'], {}, 'float_between'),
      node('Gemm', ['e1', 'w2', 'b2'], ['h2'], {}, 'narrow'),
      node('Relu', ['h2'], ['y'], {}, 'narrow_relu'),
    ],
  });
  return { model, sample: (random: () => number) => ({ x: randomTensor([1, 64], random) }) };
}

/** A weight-dominated MLP: Gemm(transB) -> Relu -> Gemm -> Relu -> Gemm, opset 13 initializers. */
export function mlpModel(seed = 2, width = 256): TestModel {
  const r = createRandom(seed);
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 16] }],
    initializers: {
      w1: gaussianTensor([width, 64], r, 0.15),
      b1: randomTensor([width], r, 0.1),
      w2: gaussianTensor([width, width], r, 0.08),
      b2: randomTensor([width], r, 0.1),
      w3: gaussianTensor([width, 16], r, 0.1),
      b3: randomTensor([16], r, 0.1),
    },
    nodes: [
      node('Gemm', ['x', 'w1', 'b1'], ['h1'], { transB: int(1) }),
      node('Relu', ['h1'], ['a1']),
      node('Gemm', ['a1', 'w2', 'b2'], ['h2'], { transB: int(1) }),
      node('Relu', ['h2'], ['a2']),
      node('Gemm', ['a2', 'w3', 'b3'], ['y']),
    ],
  });
  return { model, sample: (random) => ({ x: randomTensor([4, 64], random) }) };
}

/** Self-attention block: projections (MatMul + Add), scaled scores, Softmax, context, output projection, residual. */
export function attentionModel(seed = 3, dim = 32, tokens = 8): TestModel {
  const r = createRandom(seed);
  const weight = () => gaussianTensor([dim, dim], r, 1 / Math.sqrt(dim));
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'tokens', dtype: 'float32', shape: [1, tokens, dim] }],
    outputs: [{ name: 'out', dtype: 'float32', shape: [1, tokens, dim] }],
    initializers: {
      wq: weight(),
      wk: weight(),
      wv: weight(),
      wo: weight(),
      bq: randomTensor([dim], r, 0.1),
      bo: randomTensor([dim], r, 0.1),
      inv_sqrt_d: createTensor('float32', [], Float32Array.of(1 / Math.sqrt(dim))),
    },
    nodes: [
      node('MatMul', ['tokens', 'wq'], ['q0']),
      node('Add', ['q0', 'bq'], ['q']),
      node('MatMul', ['tokens', 'wk'], ['k']),
      node('MatMul', ['tokens', 'wv'], ['v']),
      node('Transpose', ['k'], ['kt'], { perm: ints([0, 2, 1]) }),
      node('MatMul', ['q', 'kt'], ['scores0']),
      node('Mul', ['scores0', 'inv_sqrt_d'], ['scores']),
      node('Softmax', ['scores'], ['attention'], { axis: int(-1) }),
      node('MatMul', ['attention', 'v'], ['context']),
      node('MatMul', ['context', 'wo'], ['o0']),
      node('Add', ['o0', 'bo'], ['o']),
      node('Add', ['o', 'tokens'], ['out']),
    ],
  });
  return { model, sample: (random) => ({ tokens: randomTensor([1, tokens, dim], random) }) };
}

/** Opset 9 with every weight in a Constant node, as older exporters wrote them. */
export function constantWeightsModel(seed = 4): TestModel {
  const r = createRandom(seed);
  const constant = (name: string, tensor: Tensor) =>
    node('Constant', [], [name], { value: { type: 'tensor', value: tensor } });
  const model = createModel({
    opset: 9,
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 48] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2, 12] }],
    initializers: {},
    nodes: [
      constant('w1', gaussianTensor([48, 96], r, 0.15)),
      constant('b1', randomTensor([96], r, 0.1)),
      constant('w2', gaussianTensor([96, 12], r, 0.12)),
      node('MatMul', ['x', 'w1'], ['h']),
      node('Add', ['h', 'b1'], ['hb']),
      node('Relu', ['hb'], ['a']),
      node('MatMul', ['a', 'w2'], ['y']),
    ],
  });
  return { model, sample: (random) => ({ x: randomTensor([2, 48], random) }) };
}

export { openWakeWordModel } from '@quantkit/test-kit';

/** `count` seeded samples of a test model's inputs. */
export function drawSamples(model: TestModel, count: number, seed: number): Record<string, Tensor>[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => model.sample(random));
}

/** The built-in registry with `plugin` in place of the built-in of the same name (a plugin under test from source). */
export function registryWith(plugin: QuantizerPlugin) {
  const builtins = createDefaultRegistry().plugins.filter(
    (p) => !(p.kind === 'quantizer' && p.name === plugin.name),
  );
  return createRegistry([...builtins, plugin]);
}

/**
 * Whether onnxruntime's u8 x s8 integer kernels are exact on this host. On x86 without VNNI they add pairs of
 * products in a saturating int16 (vpmaddubsw), so a model planned for a target with full 8-bit weights (x86-vnni,
 * arm64, wasm, gpu-tensorrt) loses SQNR there when onnxruntime fuses its Q/DQ (up to 11 dB on the corpus); with
 * its graph optimizations off, onnxruntime computes the model's own arithmetic (float between the Q/DQ pairs).
 */
export async function hostIntegerKernelsExact(): Promise<boolean> {
  // The host's own profile keeps weights to 7 bits exactly where full 8-bit ones would saturate (x86-avx2).
  const { detectHostTarget } = await import('@quantkit/targets/node');
  return !(await detectHostTarget()).weight.reduceRange;
}
