import { dequantizeLinear, QuantError } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createOverrideLookup, parseOverrides } from './overrides.js';
import { quantizeModel } from './quantize-model.js';
import { createRandom, mlpModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });
const test = mlpModel(31, 64);
const random = createRandom(3);
const samples = Array.from({ length: 8 }, () => test.sample(random));
const run = (overrides: unknown) =>
  quantizeModel(encodeModel(test.model), {
    mode: 'static',
    executor,
    calibrationData: samples,
    overrides: overrides as never,
  });

describe('overrides', () => {
  it('keeps a node float and says which pattern did it', async () => {
    const result = await run({ nodes: { 'Gemm_h?': { float: true } } });
    const decisions = result.summary.nodes.filter((n) => n.opType === 'Gemm');
    expect(decisions.map((n) => n.quantized)).toEqual([false, false, true]);
    expect(decisions[0]!.reason).toBe('kept float by override "Gemm_h?"');
  });

  it('sets weight bits and granularity per node', async () => {
    const result = await run({ nodes: { Gemm_y: { bits: 4, granularity: 'tensor' } } });
    const { graph } = result.model;
    const gemm = graph.nodes.find((n) => n.name === 'Gemm_y')!;
    const dq = graph.producer(gemm.inputs[1]!)!;
    const codes = graph.initializers.get(dq.inputs[0]!)!;
    expect(graph.initializers.get(dq.inputs[1]!)!.shape).toEqual([]);
    expect(Math.max(...Array.from(codes.data as Int8Array, Math.abs))).toBeLessThanOrEqual(7);
  });

  it('fixes an activation range without calibrating it', async () => {
    const result = await run({ tensors: { y: { range: [-2, 3] } } });
    const { graph } = result.model;
    const dq = graph.producer('y')!;
    expect(dq.opType).toBe('DequantizeLinear');
    const scale = graph.initializers.get(dq.inputs[1]!)!.data as Float32Array;
    const zeroPoint = graph.initializers.get(dq.inputs[2]!)!.data as Uint8Array;
    const params = {
      scale,
      zeroPoint: Int32Array.from(zeroPoint),
      granularity: 'tensor',
      bits: 8,
      dtype: 'uint8',
      qmin: 0,
      qmax: 255,
    } as const;
    const [low, high] = dequantizeLinear([0, 255], [2], params);
    expect(low).toBeCloseTo(-2, 1);
    expect(high).toBeCloseTo(3, 1);
    expect(result.calibrationCache!.tensors.y).toBeUndefined();
  });

  it('chooses the observer and symmetry per tensor', async () => {
    const result = await run({ tensors: { a1: { symmetric: true } } });
    const dq = result.model.graph.producer('a1')!;
    expect(result.model.graph.initializers.get(dq.inputs[2]!)!.dtype).toBe('int8');
    expect(result.calibrationCache!.tensors.a1!.symmetric).toBe(true);
    await expect(run({ tensors: { a1: { observer: 'nope' } } })).rejects.toSatisfy((error) =>
      QuantError.is(error, 'PLUGIN_NOT_FOUND'),
    );
  });

  it('rejects malformed files, naming the key', () => {
    expect(() => parseOverrides({ nodes: { conv: { bits: 99 } } }, 'o.json')).toThrow(
      /overrides file "o\.json": nodes\["conv"\]\.bits/,
    );
    expect(() => parseOverrides({ tensors: { x: { range: [1, 2] } } }, 'o.json')).toThrow(/min <= 0 <= max/);
    expect(() => parseOverrides({ tensors: { x: { bits: 12 } } }, 'o.json')).toThrow(
      /tensors\["x"\]\.bits must be 8 or 16/,
    );
    expect(() => parseOverrides({ layers: {} }, 'o.json')).toThrow(/unknown section "layers"/);
    expect(() => parseOverrides({ nodes: { a: { flaot: true } } }, 'o.json')).toThrow(
      /unknown setting "flaot"/,
    );
  });

  it('merges matching patterns, later keys winning per field', () => {
    const lookup = createOverrideLookup({
      nodes: { 'Gemm*': { bits: 4, symmetric: false }, Gemm_y: { bits: 6 } },
    });
    expect(lookup.node('Gemm_y', 'Gemm')).toEqual({ pattern: 'Gemm_y', bits: 6, symmetric: false });
    expect(lookup.node('Relu_a', 'Relu')).toBeUndefined();
  });
});
