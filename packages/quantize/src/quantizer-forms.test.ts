// Quantizers whose codes are not linear (a lookup table) or that ask to keep layers in int8 go through the same
// pipeline; these tests use small quantizers written here against core's public plugin interface.
import {
  API_VERSION,
  type QuantizedTensor,
  type QuantizerPlugin,
  type Tensor,
  axisLayout,
  createTensor,
} from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import { linearQuantizer } from '@quantkit/quantizer-linear';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createDefaultRegistry } from './builtins.js';
import { quantizeModel } from './quantize-model.js';
import { createRandom, mlpModel } from './test-models.js';
import { storedCodes } from './packed-codes.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });
const LEVELS = Float32Array.of(-1, -0.5, -0.25, -0.125, 0, 0.125, 0.25, 0.5, 1);

/** Codes index LEVELS; per-channel scale = max|w| of the channel, so level x scale approximates the weight. */
const tableQuantizer: QuantizerPlugin = {
  kind: 'quantizer',
  name: 'table',
  apiVersion: API_VERSION,
  capabilities: { bits: [4], granularities: ['channel'], symmetric: [true], activations: false },
  quantizeWeight(weight: Tensor<'float32'>, options): QuantizedTensor {
    const axis = options.axis ?? 0;
    const { outer, axisSize, inner } = axisLayout(weight.shape, axis);
    const scale = new Float32Array(axisSize);
    const codes = new Uint8Array(weight.data.length);
    for (let pass = 0; pass < 2; pass++) {
      for (let o = 0; o < outer; o++) {
        for (let c = 0; c < axisSize; c++) {
          for (let i = 0; i < inner; i++) {
            const at = (o * axisSize + c) * inner + i;
            const value = weight.data[at]!;
            if (pass === 0) scale[c] = Math.max(scale[c]!, Math.abs(value));
            else {
              let best = 0;
              for (let k = 1; k < LEVELS.length; k++) {
                if (Math.abs(LEVELS[k]! * scale[c]! - value) < Math.abs(LEVELS[best]! * scale[c]! - value))
                  best = k;
              }
              codes[at] = best;
            }
          }
        }
      }
    }
    return {
      codes: createTensor('uint8', weight.shape, codes),
      params: {
        scale,
        zeroPoint: new Int32Array(axisSize),
        granularity: 'channel',
        axis,
        bits: 4,
        dtype: 'uint8',
        qmin: 0,
        qmax: LEVELS.length - 1,
      },
      lookup: { table: LEVELS },
    };
  },
};

describe('quantizers with other code forms', () => {
  it('emits Gather over a level table for lookup codes, matching a float simulation', async () => {
    const test = mlpModel(121, 32);
    const registry = createDefaultRegistry([tableQuantizer]);
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'weight-only',
      quantizer: 'table',
      bits: 4,
      registry,
    });
    expect(result.model.graph.nodes.filter((n) => n.opType === 'Gather').length).toBe(3);
    // Float simulation: the same model with each weight replaced by its looked-up values.
    const simulated = mlpModel(121, 32).model;
    for (const [name, tensor] of simulated.graph.initializers) {
      if (!name.startsWith('w')) continue;
      // Output channels: rows of the transB Gemm weights w1, w2; columns of w3.
      const axis = name === 'w3' ? 1 : 0;
      const quantized = tableQuantizer.quantizeWeight(tensor as Tensor<'float32'>, {
        bits: 4,
        symmetric: true,
        granularity: 'channel',
        axis,
      });
      const { outer, axisSize, inner } = axisLayout(tensor.shape, axis);
      const values = new Float32Array(tensor.data.length);
      for (let o = 0; o < outer; o++)
        for (let c = 0; c < axisSize; c++)
          for (let i = 0; i < inner; i++) {
            const at = (o * axisSize + c) * inner + i;
            values[at] = Math.fround(LEVELS[quantized.codes.data[at]!]! * quantized.params.scale[c]!);
          }
      simulated.graph.initializers.set(name, createTensor('float32', tensor.shape, values));
    }
    const reference = await executor.createSession(encodeModel(simulated));
    const actual = await executor.createSession(result.bytes);
    const feeds = test.sample(createRandom(5));
    const expected = (await reference.run(feeds)).y!.data as Float32Array;
    const got = (await actual.run(feeds)).y!.data as Float32Array;
    await reference.dispose();
    await actual.dispose();
    for (let i = 0; i < expected.length; i++)
      expect(Math.abs(got[i]! - expected[i]!)).toBeLessThanOrEqual(
        1e-5 * Math.max(1, Math.abs(expected[i]!)),
      );
  });

  it('keeps the first and last weight layers int8 when the quantizer asks, unless told not to', async () => {
    const lowBits: QuantizerPlugin = { ...linearQuantizer, name: 'low', keepHigherPrecision: 'first-last' };
    const registry = createDefaultRegistry([lowBits]);
    const bytes = encodeModel(mlpModel(122, 32).model);
    const kept = await quantizeModel(bytes, { mode: 'weight-only', quantizer: 'low', bits: 3, registry });
    const reasons = kept.summary.nodes.filter((n) => n.opType === 'Gemm').map((n) => n.reason);
    expect(reasons[0]).toMatch(/kept in int8: first or last/);
    expect(reasons[1]).toBe('weights stored as 3-bit codes');
    expect(reasons[2]).toMatch(/kept in int8: first or last/);
    const codeRange = (result: typeof kept, name: string) => {
      const { graph } = result.model;
      const codes = storedCodes(graph, graph.producer(`${name}_dequantized`)!.inputs[0]!)!.data as Int8Array;
      return Math.max(...Array.from(codes, Math.abs));
    };
    expect(codeRange(kept, 'w1')).toBeGreaterThan(100);
    expect(codeRange(kept, 'w2')).toBeLessThanOrEqual(3);
    const all = await quantizeModel(bytes, {
      mode: 'weight-only',
      quantizer: 'low',
      bits: 3,
      registry,
      keepHigherPrecision: false,
    });
    expect(codeRange(all, 'w1')).toBeLessThanOrEqual(3);
  });

  it('--format packed writes ai.quantkit ops whose packed weights unpack to the same codes', async () => {
    // Two 4-bit codes per byte, the simplest packing there is; real quantizers (binary, log) bring their own.
    const nibbles: QuantizerPlugin = {
      ...linearQuantizer,
      name: 'nibbles',
      packing: {
        pack: ({ codes, params }) => ({
          format: 'nibbles',
          data: Uint8Array.from(
            { length: Math.ceil(codes.data.length / 2) },
            (_, i) => (codes.data[2 * i]! & 15) | (((codes.data[2 * i + 1] ?? 0) & 15) << 4),
          ),
          shape: codes.shape,
          scale: params.scale,
          attributes: { axis: params.axis ?? -1, bits: params.bits },
        }),
        unpack: () => {
          throw new Error('not needed here');
        },
      },
    };
    const registry = createDefaultRegistry([nibbles]);
    const test = mlpModel(123, 32);
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'weight-only',
      quantizer: 'nibbles',
      bits: 4,
      format: 'packed',
      registry,
    });
    const packedNodes = result.model.graph.nodes.filter((n) => n.domain === 'ai.quantkit');
    expect(packedNodes.map((n) => n.opType)).toEqual(['Gemm', 'Gemm', 'Gemm']);
    expect(result.model.opsetImports).toContainEqual({ domain: 'ai.quantkit', version: 1 });
    const w2 = test.model.graph.initializers.get('w2')! as Tensor<'float32'>;
    const expected = linearQuantizer.quantizeWeight(w2, {
      bits: 4,
      symmetric: true,
      restrictedRange: true,
      granularity: 'channel',
      axis: 0,
    });
    const node = packedNodes[1]!;
    const bytes = result.model.graph.initializers.get(node.inputs[1]!)!.data as Uint8Array;
    const unpacked = Array.from({ length: expected.codes.data.length }, (_, i) => {
      const nibble = (bytes[i >> 1]! >> ((i & 1) * 4)) & 15;
      return nibble > 7 ? nibble - 16 : nibble;
    });
    expect(unpacked).toEqual(Array.from(expected.codes.data));
    expect(node.attributes.get('weight_format')).toEqual({ type: 'string', value: 'nibbles' });
    expect(node.attributes.get('weight_shape')).toEqual({ type: 'ints', value: [32, 32] });
    await expect(
      quantizeModel(encodeModel(test.model), { mode: 'weight-only', format: 'packed' }),
    ).rejects.toThrow(/no packed form/);
  });
});
