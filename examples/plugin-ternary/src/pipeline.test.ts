// The example used the way an application would: registered with createRegistry / createDefaultRegistry, run by
// quantizeModel in weight-only mode, and the result executed by stock onnxruntime-node.
import { type Registry, type Tensor, createRegistry } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Model, decodeModel, encodeModel } from '@quantkit/onnx';
import { createDefaultRegistry, quantizeModel, storedCodes } from '@quantkit/quantize';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import ternary from './index.js';
import { referenceDequantized } from './testing/reference-ternarize.js';
import { type ExampleModel, convModel, mlpModel, seededRandom, simulate, uniformTensor } from './testing/test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

async function runOrt(bytes: Uint8Array, example: ExampleModel, input: Float32Array): Promise<Float32Array> {
  const session = await executor.createSession(bytes);
  try {
    const feeds: Record<string, Tensor> = { [example.input]: { dtype: 'float32', shape: example.inputShape, data: input } };
    const outputs = await session.run(feeds);
    return outputs[example.output]!.data as Float32Array;
  } finally {
    await session.dispose();
  }
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

/** max |a - b| / max |b|: the error relative to the output's scale. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst / maxAbs(expected);
}

/**
 * The int8 codes each DequantizeLinear reads (an initializer, or the codes quantkit packed four to a byte and
 * unpacks with integer ops), keyed by the float weight they replaced.
 */
function ternaryCodes(model: Model): Map<string, Tensor> {
  const codes = new Map<string, Tensor>();
  for (const node of model.graph.nodes) {
    if (node.opType !== 'DequantizeLinear') continue;
    const tensor = storedCodes(model.graph, node.inputs[0]!);
    if (tensor !== undefined) codes.set(node.inputs[0]!.replace(/_quantized.*$/, ''), tensor);
  }
  return codes;
}

const cases: [string, () => ExampleModel, (() => Registry)][] = [
  ['an MLP (Gemm transB, MatMul), createRegistry([ternary])', mlpModel, () => createRegistry([ternary])],
  ['a CNN (two Conv), createDefaultRegistry([ternary])', convModel, () => createDefaultRegistry([ternary])],
];

describe.each(cases)('weight-only ternary through quantizeModel: %s', (_label, build, registry) => {
  const example = build();
  const floatBytes = encodeModel(example.model);

  it('stores each weight as codes -1/0/+1 (packed four to a byte) behind a DequantizeLinear, and runs in onnxruntime-node like the float simulation', async () => {
    const result = await quantizeModel(floatBytes, {
      mode: 'weight-only',
      quantizer: 'ternary',
      bits: 2,
      registry: registry(),
    });
    const quantized = decodeModel(result.bytes);
    const codes = ternaryCodes(quantized);
    expect([...codes.keys()].sort()).toEqual(example.weights.map((site) => site.name).sort());
    for (const tensor of codes.values()) {
      expect(tensor.dtype).toBe('int8');
      expect(new Set(tensor.data as Int8Array)).toEqual(new Set([-1, 0, 1]));
    }
    for (const site of example.weights) expect(quantized.graph.initializers.has(site.name)).toBe(false);

    // The simulation ternarizes the float weights with the test's own reference, per output channel.
    const dequantized: Record<string, Float32Array> = {};
    for (const site of example.weights) {
      const weight = example.model.graph.initializers.get(site.name)!;
      dequantized[site.name] = referenceDequantized(weight.data as Float32Array, weight.shape, site.axis);
    }
    const random = seededRandom(99);
    for (let sample = 0; sample < 3; sample++) {
      const input = uniformTensor(example.inputShape, random).data;
      const actual = await runOrt(result.bytes, example, input);
      const simulated = simulate(example, input, dequantized);
      expect(relativeError(actual, simulated)).toBeLessThanOrEqual(1e-5);
      // And ternarizing really changed the output: it is not the float model's (guards against a no-op pipeline).
      const float = await runOrt(floatBytes, example, input);
      expect(relativeError(float, simulated)).toBeGreaterThan(1e-3);
    }
  });

  it('per-tensor granularity uses one scale per weight', async () => {
    const result = await quantizeModel(floatBytes, {
      mode: 'weight-only',
      quantizer: 'ternary',
      bits: 2,
      granularity: 'tensor',
      registry: registry(),
    });
    const dequantized: Record<string, Float32Array> = {};
    for (const site of example.weights) {
      const weight = example.model.graph.initializers.get(site.name)!;
      dequantized[site.name] = referenceDequantized(weight.data as Float32Array, weight.shape, undefined);
    }
    const input = uniformTensor(example.inputShape, seededRandom(5)).data;
    const actual = await runOrt(result.bytes, example, input);
    expect(relativeError(actual, simulate(example, input, dequantized))).toBeLessThanOrEqual(1e-5);
  });
});

describe('weight-only ternary, --format packed', () => {
  it('writes ai.quantkit ops whose packed bytes unpack to the codes and scales of the stock-ONNX form', async () => {
    const example = mlpModel();
    const floatBytes = encodeModel(example.model);
    const options = { mode: 'weight-only', quantizer: 'ternary', bits: 2, registry: createRegistry([ternary]) } as const;
    const stock = decodeModel((await quantizeModel(floatBytes, options)).bytes);
    const packed = decodeModel((await quantizeModel(floatBytes, { ...options, format: 'packed' })).bytes);
    const stockCodes = ternaryCodes(stock);
    const custom = packed.graph.nodes.filter((node) => node.domain === 'ai.quantkit');
    expect(custom.map((node) => node.opType).sort()).toEqual(['Gemm', 'MatMul']);
    for (const node of custom) {
      const attribute = (name: string) => node.attributes.get(`weight_${name}`)?.value;
      const bytesName = node.inputs.find((input) => input.endsWith('_packed'))!;
      const weightName = bytesName.replace(/_packed$/, '');
      const unpacked = ternary.packing!.unpack({
        format: attribute('format') as string,
        data: packed.graph.initializers.get(bytesName)!.data as Uint8Array,
        shape: attribute('shape') as number[],
        scale: (attribute('scale') as Tensor).data as Float32Array,
        attributes: {
          bits: attribute('bits') as number,
          granularity: attribute('granularity') as string,
          axis: attribute('axis') as number,
        },
      });
      expect(Array.from(unpacked.codes.data)).toEqual(Array.from(stockCodes.get(weightName)!.data as Int8Array));
      const stockScale = stock.graph.initializers.get(`${weightName}_scale`)!.data as Float32Array;
      expect(Array.from(unpacked.params.scale)).toEqual(Array.from(stockScale));
      // 2 bits per weight.
      const weight = example.model.graph.initializers.get(weightName)!;
      expect(packed.graph.initializers.get(bytesName)!.data.length).toBe(Math.ceil(weight.data.length / 4));
    }
  });
});

describe('weight-only ternary: what the pipeline refuses', () => {
  it('bits the capabilities do not list, naming the quantizer and what it takes', async () => {
    const run = quantizeModel(encodeModel(mlpModel().model), {
      mode: 'weight-only',
      quantizer: 'ternary',
      bits: 8,
      registry: createRegistry([ternary]),
    });
    await expect(run).rejects.toThrow(/quantizer "ternary" does not support bits 8 \(it takes 2\)/);
  });

  it('a registry without the plugin, listing the quantizers it has', async () => {
    const run = quantizeModel(encodeModel(mlpModel().model), { mode: 'weight-only', quantizer: 'ternary', bits: 2 });
    await expect(run).rejects.toThrow(/no quantizer plugin named "ternary"; expected "linear"/);
  });
});
