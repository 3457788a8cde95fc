import { createModel } from '@quantkit/onnx';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { float8ActivationParams, float8Scale } from './float8-activation-params.js';
import { FLOAT8_MAX } from './float32-to-float8.js';
import { runOrt } from './test-helpers.js';

describe('float8ActivationParams', () => {
  it('maps the larger end of the range onto the largest float8 value', () => {
    fc.assert(
      fc.property(
        fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 0 }),
        fc.float({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e6 }),
        fc.constantFrom('e4m3fn' as const, 'e5m2' as const),
        (min, max, format) => {
          const params = float8ActivationParams(
            { min: Float32Array.of(min), max: Float32Array.of(max) },
            format,
          );
          const absMax = Math.max(-min, max);
          expect(params.zeroPoint).toEqual(Uint8Array.of(0));
          if (absMax === 0) expect(params.scale[0]).toBe(1);
          else
            expect(Math.abs(params.scale[0]! * FLOAT8_MAX[format] - absMax)).toBeLessThanOrEqual(
              // float32 rounding of the scale, or its subnormal step for tiny ranges
              absMax * 2 ** -23 + FLOAT8_MAX[format] * 2 ** -149,
            );
        },
      ),
    );
  });

  it('gives a QDQ pair that onnxruntime runs, with half-ulp error inside the range and saturation outside', async () => {
    const params = float8ActivationParams(
      { min: Float32Array.of(-3), max: Float32Array.of(5), axis: undefined },
      'e4m3fn',
    );
    const values = Float32Array.from({ length: 64 }, (_, i) => -4 + i * 0.15);
    const model = createModel({
      opset: 19,
      inputs: [['x', 'float32', [values.length]]],
      outputs: [['y', 'float32', [values.length]]],
      initializers: {
        scale: { dtype: 'float32', shape: [], data: params.scale },
        zero: { dtype: params.dtype, shape: [], data: params.zeroPoint },
      },
      nodes: [
        { opType: 'QuantizeLinear', inputs: ['x', 'scale', 'zero'], outputs: ['q'] },
        { opType: 'DequantizeLinear', inputs: ['q', 'scale', 'zero'], outputs: ['y'] },
      ],
    });
    const out = (await runOrt(model, { x: new ort.Tensor('float32', values, [values.length]) })).y!
      .data as Float32Array;
    values.forEach((x, i) => {
      const y = out[i]!;
      if (Math.abs(x) <= 5) {
        // e4m3fn keeps 3 mantissa bits: the error is at most half an ulp, 2^-4 of the value (or the subnormal step).
        expect(Math.abs(y - x)).toBeLessThanOrEqual(
          Math.max(Math.abs(x) * 2 ** -4, params.scale[0]! * 2 ** -10) + 1e-6,
        );
      } else expect(Math.abs(y)).toBeCloseTo(5, 5);
    });
  });

  it('keeps per-axis ranges per axis and rejects bad ranges', () => {
    const params = float8ActivationParams(
      { min: Float32Array.of(-1, 0), max: Float32Array.of(1, 57344), axis: 1 },
      'e5m2',
    );
    expect(Array.from(params.scale)).toEqual([Math.fround(1 / 57344), 1]);
    expect(params.axis).toBe(1);
    expect(() =>
      float8ActivationParams({ min: Float32Array.of(0), max: Float32Array.of(Infinity) }, 'e5m2'),
    ).toThrow(/not finite/);
    expect(() =>
      float8ActivationParams({ min: Float32Array.of(0), max: Float32Array.of(1, 2) }, 'e5m2'),
    ).toThrow(/1 minima and 2 maxima/);
    expect(float8Scale(0, 'e4m3fn')).toBe(1);
  });
});
