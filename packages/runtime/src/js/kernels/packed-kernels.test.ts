// onnxruntime cannot run ai.quantkit ops, so the reference is the same quantization in a form it does run: each
// float model is quantized twice by quantkit's own pipeline with one quantizer, once `--format packed` (run here by
// the runtime's packed kernels, both the JS ones and the wasm-simd ones) and once in the stock-ONNX form
// (DequantizeLinear or Gather, run by onnxruntime-node), and the outputs must agree.
import {
  type Granularity,
  QuantError,
  type Tensor,
  createRegistry,
  createTensor,
  sizeOf,
} from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type AttributeInit, type Model, type Node, createModel, encodeModel } from '@quantkit/onnx';
import { quantizeModel } from '@quantkit/quantize';
import { unpackBinaryWeight } from '@quantkit/quantizer-binary';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { builtinRuntimePlugins, jsRuntimePlugins } from '../../builtins.js';
import { randomFloat } from '../../conformance/random-tensors.js';
import { type Tolerance, tensorMismatch } from '../../conformance/run-both.js';
import { createRuntime } from '../../runtime.js';

const ortExecutor = createOrtExecutor(ort, { graphOptimizationLevel: 'disabled' });

/** A one-node float model: input x, weight w (and bias b) as initializers. */
interface FloatCase {
  readonly name: string;
  readonly opType: 'MatMul' | 'Gemm' | 'Conv';
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly b?: readonly number[];
  readonly attributes?: Record<string, AttributeInit>;
}

const floatCases: readonly FloatCase[] = [
  { name: 'MatMul [3, 40] x [40, 24]', opType: 'MatMul', x: [3, 40], w: [40, 24] },
  { name: 'MatMul batch-broadcast [2, 3, 37] x [37, 10]', opType: 'MatMul', x: [2, 3, 37], w: [37, 10] },
  { name: 'MatMul 1-D A [40] x [40, 8]', opType: 'MatMul', x: [40], w: [40, 8] },
  { name: 'MatMul [4, 33] x batched [2, 33, 6]', opType: 'MatMul', x: [4, 33], w: [2, 33, 6] },
  {
    name: 'Gemm transB, alpha 0.5, beta 1.5, C [16]',
    opType: 'Gemm',
    x: [4, 50],
    w: [16, 50],
    b: [16],
    attributes: { transB: 1, alpha: 0.5, beta: 1.5 },
  },
  { name: 'Gemm [K, N] without C', opType: 'Gemm', x: [4, 50], w: [50, 16] },
  {
    name: 'Gemm transA, C [4, 16]',
    opType: 'Gemm',
    x: [50, 4],
    w: [50, 16],
    b: [4, 16],
    attributes: { transA: 1 },
  },
  {
    name: 'Conv 3x3 pads 1 stride 2 with bias',
    opType: 'Conv',
    x: [2, 3, 9, 9],
    w: [8, 3, 3, 3],
    b: [8],
    attributes: { pads: [1, 1, 1, 1], strides: [2, 2] },
  },
  {
    name: 'Conv group 2, dilations 2, asymmetric pads',
    opType: 'Conv',
    x: [1, 4, 10, 10],
    w: [6, 2, 3, 3],
    attributes: { group: 2, dilations: [2, 2], pads: [2, 1, 0, 1] },
  },
  {
    name: 'Conv depthwise, auto_pad SAME_UPPER, stride 2',
    opType: 'Conv',
    x: [1, 4, 7, 7],
    w: [4, 1, 3, 3],
    b: [4],
    attributes: { group: 4, auto_pad: 'SAME_UPPER', strides: [2, 2] },
  },
  {
    name: 'Conv 1-D stride 3 pads [1, 2]',
    opType: 'Conv',
    x: [2, 3, 20],
    w: [5, 3, 4],
    attributes: { strides: [3], pads: [1, 2] },
  },
  {
    name: 'Conv 3-D SAME_LOWER',
    opType: 'Conv',
    x: [1, 2, 4, 5, 5],
    w: [3, 2, 2, 3, 3],
    attributes: { auto_pad: 'SAME_LOWER' },
  },
];

interface QuantizerCase {
  readonly quantizer: string;
  readonly bits: number;
  readonly granularity: Granularity;
}

const quantizerCases: readonly QuantizerCase[] = [
  { quantizer: 'binary', bits: 1, granularity: 'channel' },
  { quantizer: 'binary', bits: 1, granularity: 'tensor' },
  { quantizer: 'log', bits: 3, granularity: 'channel' },
  { quantizer: 'log', bits: 4, granularity: 'tensor' },
  { quantizer: 'log', bits: 8, granularity: 'channel' },
  { quantizer: 'log-nnie', bits: 8, granularity: 'tensor' },
];

const tolerance: Tolerance = { abs: 1e-5, rel: 1e-5 };

function floatModel(spec: FloatCase, seed: number): { model: Model; x: Tensor<'float32'> } {
  const initializers: Record<string, Tensor> = { w: randomFloat(spec.w, seed + 1, -0.5, 0.5) };
  if (spec.b !== undefined) initializers['b'] = randomFloat(spec.b, seed + 2, -0.2, 0.2);
  const model = createModel({
    opset: 17,
    nodes: [
      {
        opType: spec.opType,
        name: 'layer',
        inputs: ['x', 'w', ...(spec.b !== undefined ? ['b'] : [])],
        outputs: ['y'],
        ...(spec.attributes !== undefined && { attributes: spec.attributes }),
      },
    ],
    inputs: [['x', 'float32', [...spec.x]]],
    outputs: [['y', 'float32']],
    initializers,
  });
  return { model, x: randomFloat(spec.x, seed, -1, 1) };
}

async function quantizeBoth(model: Model, settings: QuantizerCase) {
  const bytes = encodeModel(model);
  const options = {
    mode: 'weight-only',
    quantizer: settings.quantizer,
    bits: settings.bits,
    granularity: settings.granularity,
    symmetric: true,
    keepHigherPrecision: false,
  } as const;
  const [packed, stock] = await Promise.all([
    quantizeModel(bytes, { ...options, format: 'packed' }),
    quantizeModel(bytes, options),
  ]);
  return { packed, stock };
}

async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Tensor> {
  const session = await ortExecutor.createSession(bytes, { threads: 1 });
  try {
    return (await session.run(feeds))['y']!;
  } finally {
    await session.dispose();
  }
}

/** The packed kernels' backends, each with the plugins that make the runtime choose it. */
const backends = [
  { backend: 'js', plugins: jsRuntimePlugins },
  { backend: 'wasm-simd', plugins: builtinRuntimePlugins },
] as const;

/**
 * Runs the model on each backend, checking that the backend's own packed kernel ran the node (planned for it, and
 * no fallback to another kernel at run time).
 */
async function runPacked(model: Model, feeds: Record<string, Tensor>) {
  const opType = packedNode(model).opType;
  const results: { backend: string; y: Tensor }[] = [];
  for (const { backend, plugins } of backends) {
    const session = await createRuntime(createRegistry(plugins)).load(model);
    const y = (await session.run(feeds))['y']!;
    const assignments = session.assignments();
    expect(assignments.map((assignment) => assignment.kernel)).toEqual([`${backend}/ai.quantkit.${opType}`]);
    expect(assignments[0]!.fellBack).toBeUndefined();
    results.push({ backend, y });
  }
  return results;
}

/** Each backend's output against the expected one. */
function expectAgreement(
  results: readonly { backend: string; y: Tensor }[],
  expected: Tensor,
  tolerance: Tolerance,
): void {
  for (const { backend, y } of results)
    expect(tensorMismatch(y, expected, tolerance), backend).toBeUndefined();
}

/** The integer forms (XNOR-popcount, shift-add) give the same float32 outputs on every backend, bit for bit. */
function expectIdentical(results: readonly { backend: string; y: Tensor }[]): void {
  const [first, ...others] = results;
  for (const { backend, y } of others)
    expect(Array.from(y.data as Float32Array), backend).toEqual(Array.from(first!.y.data as Float32Array));
}

function packedNode(model: Model): Node {
  const nodes = model.graph.nodes.filter((node) => node.domain === 'ai.quantkit');
  expect(nodes).toHaveLength(1);
  return nodes[0]!;
}

/** The largest |a - b| over two outputs, to show a comparison is not float against float. */
function largestDifference(a: Tensor, b: Tensor): number {
  let largest = 0;
  for (let i = 0; i < a.data.length; i++)
    largest = Math.max(largest, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return largest;
}

describe('packed kernels against onnxruntime-node on the stock form of the same quantization', () => {
  floatCases.forEach((spec, index) => {
    for (const settings of quantizerCases) {
      it(`${spec.name}, ${settings.quantizer} ${settings.bits}-bit per ${settings.granularity}`, async () => {
        const { model, x } = floatModel(spec, 100 + index * 10);
        const { packed, stock } = await quantizeBoth(model, settings);
        const node = packedNode(packed.model);
        expect(node.opType).toBe(spec.opType);
        const results = await runPacked(packed.model, { x });
        const expected = await runOrt(stock.bytes, { x });
        expectAgreement(results, expected, tolerance);
        // The quantization changed the output: the agreement is about the quantized weights.
        const unquantized = await runOrt(encodeModel(model), { x });
        expect(largestDifference(unquantized, expected)).toBeGreaterThan(1e-3);
      });
    }
  });
});

describe('integer activations with log weights (shift-add)', () => {
  const integerCases = floatCases.filter(
    (spec) =>
      spec.name.startsWith('MatMul [3') ||
      spec.name.startsWith('Conv 3x3') ||
      spec.name.startsWith('Gemm transB'),
  );
  for (const spec of integerCases) {
    for (const settings of quantizerCases.filter((q) => q.quantizer !== 'binary')) {
      for (const dtype of ['int8', 'uint8'] as const) {
        it(`${spec.name}, ${settings.quantizer} ${settings.bits}-bit, ${dtype} input`, async () => {
          const { model } = floatModel(spec, 300);
          const { packed, stock } = await quantizeBoth(model, settings);
          const uniform = randomFloat(spec.x, 301, dtype === 'int8' ? -128 : 0, dtype === 'int8' ? 128 : 256);
          const integers =
            dtype === 'int8'
              ? Int8Array.from(uniform.data, Math.floor)
              : Uint8Array.from(uniform.data, Math.floor);
          packed.model.graph.inputs[0]!.dtype = dtype;
          const results = await runPacked(packed.model, { x: createTensor(dtype, [...spec.x], integers) });
          const expected = await runOrt(stock.bytes, {
            x: createTensor('float32', [...spec.x], Float32Array.from(integers)),
          });
          expectAgreement(results, expected, { abs: 1e-4, rel: 1e-5 });
          expectIdentical(results);
        });
      }
    }
  }
});

/** sign(x) * beta per row of A' (or per tensor), XNOR-Net's binarization, as float32 A. */
function binarized(x: Tensor<'float32'>, scale: 'row' | 'tensor', transA = false): Tensor<'float32'> {
  const k = transA ? x.shape[0]! : x.shape[x.shape.length - 1]!;
  const rows = x.data.length / k;
  const rowOf = (i: number) => (transA ? i % rows : Math.floor(i / k));
  const sums = new Float64Array(scale === 'row' ? rows : 1);
  x.data.forEach((value, i) => {
    sums[scale === 'row' ? rowOf(i) : 0]! += Math.abs(value);
  });
  const count = scale === 'row' ? k : x.data.length;
  const data = Float32Array.from(x.data, (value, i) => {
    const beta = Math.fround(sums[scale === 'row' ? rowOf(i) : 0]! / count);
    return value >= 0 ? beta : -beta;
  });
  return createTensor('float32', x.shape, data);
}

describe('binarize_activations (XNOR-popcount) against a float reference', () => {
  const matrixCases = floatCases.filter((spec) => spec.opType !== 'Conv');
  for (const spec of matrixCases) {
    for (const scale of ['row', 'tensor'] as const) {
      it(`${spec.name}, activations binarized per ${scale}`, async () => {
        const { model, x } = floatModel(spec, 400);
        const { packed, stock } = await quantizeBoth(model, quantizerCases[0]!);
        const node = packedNode(packed.model);
        node.attributes.set('binarize_activations', { type: 'int', value: 1 });
        node.attributes.set('binarize_scale', { type: 'string', value: scale });
        const results = await runPacked(packed.model, { x });
        const transA = spec.attributes?.['transA'] === 1;
        const expected = await runOrt(stock.bytes, { x: binarized(x, scale, transA) });
        expectAgreement(results, expected, tolerance);
        expectIdentical(results);
      });
    }
  }

  const convCases = floatCases.filter((spec) => spec.opType === 'Conv');
  for (const spec of convCases) {
    it(`${spec.name}, activations binarized per tensor (padding has no sign)`, async () => {
      const { model, x } = floatModel(spec, 500);
      const { packed, stock } = await quantizeBoth(model, quantizerCases[0]!);
      const node = packedNode(packed.model);
      node.attributes.set('binarize_activations', { type: 'int', value: 1 });
      node.attributes.set('binarize_scale', { type: 'string', value: 'tensor' });
      const results = await runPacked(packed.model, { x });
      const expected = await runOrt(stock.bytes, { x: binarized(x, 'tensor') });
      expectAgreement(results, expected, tolerance);
      expectIdentical(results);
    });

    it(`${spec.name}, activations binarized per patch (XNOR-Net's K)`, async () => {
      const { model, x } = floatModel(spec, 600);
      const { packed } = await quantizeBoth(model, quantizerCases[0]!);
      const node = packedNode(packed.model);
      node.attributes.set('binarize_activations', { type: 'int', value: 1 });
      const results = await runPacked(packed.model, { x });
      const expected = directBinarizedConv(packed.model, node, x);
      expectAgreement(results, expected, tolerance);
      expectIdentical(results);
    });
  }
});

/**
 * A direct (loop over every output and tap) Conv of binarized patches: each patch is sign(x) over the input
 * elements it covers and scaled by mean |x| over its whole window (padding counted as 0), times the weights
 * unpacked by @quantkit/quantizer-binary. Only NOTSET / explicit pads here.
 */
function directBinarizedConv(model: Model, node: Node, x: Tensor<'float32'>): Tensor<'float32'> {
  const attribute = (name: string) => node.attributes.get(name);
  const ints = (name: string, fallback: number[]) => {
    const value = attribute(name);
    return value?.type === 'ints' ? value.value : fallback;
  };
  const text = (name: string) => {
    const value = attribute(name);
    return value?.type === 'string' ? value.value : undefined;
  };
  const int = (name: string) => {
    const value = attribute(name);
    return value?.type === 'int' ? value.value : undefined;
  };
  const scaleAttribute = attribute('weight_scale');
  const shape = ints('weight_shape', []);
  const { codes, params } = unpackBinaryWeight({
    format: text('weight_format')!,
    data: model.graph.initializers.get(node.inputs[1]!)!.data as Uint8Array,
    shape,
    scale:
      scaleAttribute?.type === 'tensor' ? (scaleAttribute.value.data as Float32Array) : new Float32Array(),
    attributes: {
      axis: int('weight_axis')!,
      rows: int('weight_rows')!,
      rowBits: int('weight_rowBits')!,
      rowBytes: int('weight_rowBytes')!,
      granularity: text('weight_granularity')!,
      codeDType: text('weight_codeDType')!,
    },
  });
  const bias = node.inputs[2]
    ? (model.graph.initializers.get(node.inputs[2])!.data as Float32Array)
    : undefined;
  const rank = x.shape.length - 2;
  const group = int('group') ?? 1;
  const kernel = shape.slice(2);
  const strides = ints('strides', new Array(rank).fill(1));
  const dilations = ints('dilations', new Array(rank).fill(1));
  const autoPad = text('auto_pad') ?? 'NOTSET';
  const input = x.shape.slice(2);
  const pads: number[] = [];
  const output: number[] = [];
  for (let d = 0; d < rank; d++) {
    const extent = (kernel[d]! - 1) * dilations[d]! + 1;
    let begin = ints('pads', new Array(2 * rank).fill(0))[d]!;
    let end = ints('pads', new Array(2 * rank).fill(0))[d + rank]!;
    if (autoPad.startsWith('SAME')) {
      const total = Math.max(0, (Math.ceil(input[d]! / strides[d]!) - 1) * strides[d]! + extent - input[d]!);
      begin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      end = total - begin;
    }
    pads.push(begin);
    output.push(Math.floor((input[d]! + begin + end - extent) / strides[d]!) + 1);
  }
  const [batch, channels] = x.shape as [number, number];
  const outChannels = shape[0]!;
  const groupChannels = channels / group;
  const taps = sizeOf(kernel);
  const window = groupChannels * taps;
  const positions = sizeOf(output);
  const result = new Float32Array(batch * outChannels * positions);
  const alpha = (channel: number) => params.scale[params.granularity === 'tensor' ? 0 : channel]!;
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const g = Math.floor(oc / (outChannels / group));
      for (let l = 0; l < positions; l++) {
        const at = new Array<number>(rank);
        for (let d = rank - 1, rest = l; d >= 0; d--) {
          at[d] = rest % output[d]!;
          rest = Math.floor(rest / output[d]!);
        }
        let absolute = 0;
        let dot = 0;
        for (let c = 0; c < groupChannels; c++) {
          for (let q = 0; q < taps; q++) {
            let offset = 0;
            let inside = true;
            for (let d = rank - 1, rest = q, stride = 1; d >= 0; d--) {
              const coordinate = at[d]! * strides[d]! - pads[d]! + (rest % kernel[d]!) * dilations[d]!;
              rest = Math.floor(rest / kernel[d]!);
              if (coordinate < 0 || coordinate >= input[d]!) inside = false;
              offset += coordinate * stride;
              stride *= input[d]!;
            }
            if (!inside) continue;
            const value = x.data[(n * channels + g * groupChannels + c) * sizeOf(input) + offset]!;
            absolute += Math.abs(value);
            dot += (value >= 0 ? 1 : -1) * codes.data[(oc * groupChannels + c) * taps + q]!;
          }
        }
        result[(n * outChannels + oc) * positions + l] =
          (absolute / window) * alpha(oc) * dot + (bias?.[oc] ?? 0);
      }
    }
  }
  return createTensor('float32', [batch, outChannels, ...output], result);
}

async function errorOf(promise: Promise<unknown>): Promise<QuantError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof QuantError)) throw new Error(`expected a QuantError, got ${String(error)}`);
  return error;
}

describe.each(backends)('packed weights that disagree with their attributes ($backend)', ({
  backend,
  plugins,
}) => {
  async function packedGemm(quantizer: QuantizerCase) {
    const { model } = floatModel(floatCases[4]!, 700);
    const { packed } = await quantizeBoth(model, quantizer);
    return { model: packed.model, node: packedNode(packed.model) };
  }
  const load = (model: Model) => createRuntime(createRegistry(plugins)).load(model);

  it('names the node and the attribute', async () => {
    const { model, node } = await packedGemm(quantizerCases[0]!);
    node.attributes.set('weight_rowBits', { type: 'int', value: 49 });
    const error = await errorOf(load(model));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toBe(
      'Gemm node "layer" (outputs "y"): attribute "weight_rowBits" is 49, but weight_shape [16, 50] in rows ' +
        `along weight_axis 0 needs 50 (kernel ${backend}/ai.quantkit.Gemm)`,
    );
  });

  it('counts the scales against the granularity', async () => {
    const { model, node } = await packedGemm(quantizerCases[2]!);
    node.attributes.set('weight_scale', {
      type: 'tensor',
      value: createTensor('float32', [2], Float32Array.of(1, 2)),
    });
    const error = await errorOf(load(model));
    expect(error.message).toMatch(/attribute "weight_scale" holds 2 values; one scale per channel needs 16/);
  });

  it('refuses log scales that are not powers of two and NNIE scales that disagree with weight_fsr', async () => {
    const log = await packedGemm(quantizerCases[3]!);
    log.node.attributes.set('weight_scale', {
      type: 'tensor',
      value: createTensor('float32', [1], Float32Array.of(0.3)),
    });
    expect((await errorOf(load(log.model))).message).toMatch(
      /attribute "weight_scale" value 0 is 0.30000001192092896, not a power of two 2\^FSR/,
    );
    const nnie = await packedGemm(quantizerCases[5]!);
    const fsr = nnie.node.attributes.get('weight_fsr');
    nnie.node.attributes.set('weight_fsr', { type: 'int', value: (fsr?.value as number) + 16 });
    expect((await errorOf(load(nnie.model))).message).toMatch(
      /attribute "weight_scale" is \[.*\]; weight_fsr/,
    );
  });

  it('lists the formats it reads when the format is another', async () => {
    const { model, node } = await packedGemm(quantizerCases[0]!);
    node.attributes.set('weight_format', { type: 'string', value: 'nibbles' });
    const error = await errorOf(load(model));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toMatch(/weight_format "nibbles" is none of "binary-1bit", "log" or "log-nnie"/);
  });

  it('refuses binarize_activations on log weights', async () => {
    const { model, node } = await packedGemm(quantizerCases[2]!);
    node.attributes.set('binarize_activations', { type: 'int', value: 1 });
    expect((await errorOf(load(model))).message).toMatch(
      /attribute "binarize_activations" needs binary weights; weight_format is "log"/,
    );
  });
});
