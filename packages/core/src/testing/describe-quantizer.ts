import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantError } from '../errors.js';
import type { QuantizerOptions, QuantizerPlugin } from '../plugins.js';
import { dequantizeLinear, forEachParamRun } from '../quantize-linear.js';
import { validateParams } from '../quant-params.js';
import { validatePlugin } from '../registry.js';
import type { Tensor } from '../tensor.js';

export interface QuantizerConformanceOptions {
  /** Option sets to run every property with; defaults to one per supported bits x symmetric x granularity. */
  readonly cases?: readonly QuantizerOptions[];
  /**
   * The codes are the nearest representable level (linear methods): inside the representable range the round-trip
   * error is at most scale/2, and zero is exact. Binary, ternary and log quantizers set this to false.
   */
  readonly nearest?: boolean;
  /** Options the quantizer must refuse with INVALID_ARGUMENT. */
  readonly invalid?: readonly QuantizerOptions[];
  /** fast-check runs per property (default 50). */
  readonly numRuns?: number;
}

function defaultCases(plugin: QuantizerPlugin): QuantizerOptions[] {
  const cases: QuantizerOptions[] = [];
  const { bits, symmetric, granularities } = plugin.capabilities;
  const someBits = [...new Set([bits[0]!, bits.includes(8) ? 8 : bits[bits.length - 1]!])];
  for (const b of someBits) {
    for (const sym of symmetric) {
      for (const granularity of granularities) {
        cases.push({ bits: b, symmetric: sym, granularity, axis: 0, ...(granularity === 'block' ? { blockSize: 4 } : {}) });
      }
    }
  }
  return cases;
}

const weightArbitrary = fc
  .record({
    rows: fc.integer({ min: 1, max: 6 }),
    cols: fc.integer({ min: 1, max: 12 }),
    scale: fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
    offset: fc.double({ min: -1, max: 1, noNaN: true }),
  })
  .chain(({ rows, cols, scale, offset }) =>
    fc
      .array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: rows * cols, maxLength: rows * cols })
      .map((values): Tensor<'float32'> => ({
        dtype: 'float32',
        shape: [rows, cols],
        data: Float32Array.from(values, (v) => (v + offset) * scale),
      })),
  );

function label(options: QuantizerOptions): string {
  const sym = options.symmetric ? 'symmetric' : 'asymmetric';
  return `${options.bits}-bit ${sym} per-${options.granularity}`;
}

/**
 * The conformance suite every quantizer plugin runs on itself (call it at the top level of a test file).
 *
 * @example
 * describeQuantizer(linearQuantizer);
 * describeQuantizer(ternaryQuantizer, { nearest: false });
 */
export function describeQuantizer(plugin: QuantizerPlugin, settings: QuantizerConformanceOptions = {}): void {
  const nearest = settings.nearest ?? true;
  const numRuns = settings.numRuns ?? 50;
  const cases = settings.cases ?? defaultCases(plugin);

  describe(`quantizer conformance: ${plugin.name}`, () => {
    it('is a valid plugin', () => {
      expect(validatePlugin(plugin)).toBe(plugin);
      expect(plugin.capabilities.bits.length).toBeGreaterThan(0);
    });

    for (const options of cases) {
      describe(label(options), () => {
        it('produces codes inside [qmin, qmax] with valid parameters', () => {
          fc.assert(
            fc.property(weightArbitrary, (weight) => {
              const { codes, params } = plugin.quantizeWeight(weight, options);
              validateParams(weight.shape, params);
              expect(codes.dtype).toBe(params.dtype);
              expect(codes.shape).toEqual(weight.shape);
              for (const code of codes.data) {
                expect(code).toBeGreaterThanOrEqual(params.qmin);
                expect(code).toBeLessThanOrEqual(params.qmax);
              }
              if (options.symmetric) expect([...params.zeroPoint].every((z) => z === 0)).toBe(true);
            }),
            { numRuns },
          );
        });

        it('is deterministic', () => {
          fc.assert(
            fc.property(weightArbitrary, (weight) => {
              const a = plugin.quantizeWeight(weight, options);
              const b = plugin.quantizeWeight(weight, options);
              expect(Array.from(a.codes.data)).toEqual(Array.from(b.codes.data));
              expect(Array.from(a.params.scale)).toEqual(Array.from(b.params.scale));
            }),
            { numRuns: Math.ceil(numRuns / 5) },
          );
        });

        it('is monotone within each scale group', () => {
          fc.assert(
            fc.property(weightArbitrary, (weight) => {
              const { codes, params } = plugin.quantizeWeight(weight, options);
              const restored = dequantizeLinear(codes.data, weight.shape, params);
              const groups = new Map<number, number[]>();
              forEachParamRun(weight.shape, params, (start, end, p, stride) => {
                const group = groups.get(p) ?? [];
                for (let i = start; i < end; i += stride) group.push(i);
                groups.set(p, group);
              });
              for (const indices of groups.values()) {
                indices.sort((i, j) => weight.data[i]! - weight.data[j]!);
                for (let k = 1; k < indices.length; k++) {
                  expect(restored[indices[k]!]!).toBeGreaterThanOrEqual(restored[indices[k - 1]!]!);
                }
              }
            }),
            { numRuns },
          );
        });

        if (nearest) {
          it('round-trips within scale/2 inside the representable range, and zero exactly', () => {
            fc.assert(
              fc.property(weightArbitrary, (weight) => {
                const withZero = Float32Array.from(weight.data);
                withZero[0] = 0;
                const tensor = { ...weight, data: withZero };
                const { codes, params } = plugin.quantizeWeight(tensor, options);
                const restored = dequantizeLinear(codes.data, tensor.shape, params);
                expect(restored[0]).toBe(0);
                forEachParamRun(tensor.shape, params, (start, end, p, stride) => {
                  const scale = params.scale[p]!;
                  const low = (params.qmin - params.zeroPoint[p]!) * scale;
                  const high = (params.qmax - params.zeroPoint[p]!) * scale;
                  for (let i = start; i < end; i += stride) {
                    const x = withZero[i]!;
                    if (x < low || x > high) continue;
                    // float32 rounding of x / scale may move a tie by one ulp of the product.
                    expect(Math.abs(restored[i]! - x)).toBeLessThanOrEqual(scale / 2 + Math.abs(x) * 2 ** -22);
                  }
                });
              }),
              { numRuns },
            );
          });

          it('covers each tensor\'s own values: min-max weights are not clipped', () => {
            fc.assert(
              fc.property(weightArbitrary, (weight) => {
                const { codes, params } = plugin.quantizeWeight(weight, options);
                const restored = dequantizeLinear(codes.data, weight.shape, params);
                forEachParamRun(weight.shape, params, (start, end, p, stride) => {
                  const scale = params.scale[p]!;
                  for (let i = start; i < end; i += stride) {
                    expect(Math.abs(restored[i]! - weight.data[i]!)).toBeLessThanOrEqual(
                      scale * 0.5000001 + Math.abs(weight.data[i]!) * 2 ** -20,
                    );
                  }
                });
              }),
              { numRuns },
            );
          });
        }

        if (plugin.capabilities.activations && plugin.paramsForRange) {
          const paramsForRange = plugin.paramsForRange.bind(plugin);
          it('activation params saturate values outside the range', () => {
            fc.assert(
              fc.property(
                fc.double({ min: -100, max: 0, noNaN: true }),
                fc.double({ min: 1e-3, max: 100, noNaN: true }),
                (min, max) => {
                  const range = { min: Float32Array.of(min), max: Float32Array.of(max) };
                  const params = paramsForRange(range, { ...options, granularity: 'tensor' });
                  validateParams([4], params);
                  const restored = dequantizeLinear(
                    [params.qmin, params.qmax, params.zeroPoint[0]!, params.qmax],
                    [4],
                    params,
                  );
                  // The representable interval covers the range to within half a step (symmetric scales and
                  // rounded zero points may each cost that much at one end) and includes zero exactly.
                  const halfStep = params.scale[0]! / 2;
                  expect(restored[0]!).toBeLessThanOrEqual(min + halfStep + Math.abs(min) * 1e-6 + 1e-12);
                  expect(restored[1]!).toBeGreaterThanOrEqual(max - halfStep - max * 1e-6);
                  expect(restored[2]).toBe(0);
                },
              ),
              { numRuns },
            );
          });
        }
      });
    }

    for (const options of settings.invalid ?? []) {
      it(`refuses ${JSON.stringify(options)} with INVALID_ARGUMENT`, () => {
        const weight: Tensor<'float32'> = { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, -1, 0.5, 0) };
        let caught: unknown;
        try {
          plugin.quantizeWeight(weight, options);
        } catch (error) {
          caught = error;
        }
        expect(QuantError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
      });
    }
  });
}
