import {
  type LinearQuantParams,
  QuantError,
  type QuantizerOptions,
  type Tensor,
  createRegistry,
  dequantizeLinear,
  forEachParamRun,
  validateParams,
} from '@quantkit/core';
import { describeQuantizer } from '@quantkit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linearParamsForRange } from './linear-params-for-range.js';
import { createLinearQuantizer, linearQuantizer } from './linear-quantizer.js';
import { powerOfTwoQuantizer } from './power-of-two-quantizer.js';

// ------------------------------------------------------------------------------------------------------------
// Conformance.
//
// onnxruntime's conventions, which this quantizer follows on purpose, cover a calibrated range only to within half
// a step at each end (symmetric scales are 2 * absmax / (qmax - qmin); asymmetric zero points are rounded); the
// suite's activation property allows exactly that.

const invalidOptions: QuantizerOptions[] = [
  { bits: 1, symmetric: true, granularity: 'tensor' },
  { bits: 17, symmetric: false, granularity: 'tensor' },
  { bits: 7.5, symmetric: false, granularity: 'tensor' },
  { bits: 8, symmetric: false, granularity: 'row' as never },
  { bits: 8, symmetric: false, granularity: 'block', axis: 0 },
  { bits: 8, symmetric: false, granularity: 'block', axis: 0, blockSize: 0 },
  { bits: 8, symmetric: false, granularity: 'block', axis: 0, blockSize: 1.5 },
  { bits: 8, symmetric: false, granularity: 'channel', axis: 2 },
  { bits: 8, symmetric: false, granularity: 'channel', axis: -3 },
  { bits: 8, symmetric: 'yes' as never, granularity: 'tensor' },
  { bits: 2, symmetric: true, granularity: 'tensor', reduceRange: true },
  { bits: 8, symmetric: true, granularity: 'tensor', signed: 1 as never },
];

describeQuantizer(linearQuantizer, {
  invalid: invalidOptions,
  cases: [
    ...[2, 8].flatMap((bits) =>
      [false, true].flatMap((symmetric) =>
        (['tensor', 'channel', 'block'] as const).map(
          (granularity): QuantizerOptions => ({ bits, symmetric, granularity, axis: 0, blockSize: 4 }),
        ),
      ),
    ),
    { bits: 4, symmetric: true, granularity: 'block', axis: 1, blockSize: 3 },
    { bits: 16, symmetric: false, granularity: 'channel', axis: -1 },
    { bits: 8, symmetric: false, granularity: 'tensor', reduceRange: true },
    { bits: 3, symmetric: false, granularity: 'channel', axis: 1, signed: true },
  ],
  numRuns: 30,
});
describeQuantizer(linearQuantizer, {
  cases: [2, 4, 8, 16].flatMap((bits) =>
    (['tensor', 'channel', 'block'] as const).map(
      (granularity): QuantizerOptions => ({
        bits,
        symmetric: true,
        restrictedRange: true,
        granularity,
        axis: 0,
        blockSize: 2,
      }),
    ),
  ),
  numRuns: 20,
});

// ------------------------------------------------------------------------------------------------------------
// A naive reference, written independently of core's loops: explicit multi-index arithmetic and numpy rint.

function rint(x: number): number {
  const r = Math.round(x); // half up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Index of the scale used by the element at flat index `i` of `shape`. */
function paramIndexOf(shape: readonly number[], i: number, params: LinearQuantParams): number {
  if (params.granularity === 'tensor') return 0;
  const index: number[] = [];
  let rest = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(rest % shape[d]!);
    rest = Math.floor(rest / shape[d]!);
  }
  const axis = params.axis!;
  if (params.granularity === 'channel') return index[axis]!;
  const blocked = shape.map((dim, d) => (d === axis ? Math.ceil(dim / params.blockSize!) : dim));
  let p = 0;
  for (let d = 0; d < shape.length; d++) {
    const coordinate = d === axis ? Math.floor(index[d]! / params.blockSize!) : index[d]!;
    p = p * blocked[d]! + coordinate;
  }
  return p;
}

function referenceCodes(weight: Tensor<'float32'>, params: LinearQuantParams): number[] {
  return Array.from(weight.data, (x, i) => {
    const p = paramIndexOf(weight.shape, i, params);
    const code = rint(Math.fround(x / params.scale[p]!)) + params.zeroPoint[p]!;
    return Math.min(Math.max(code, params.qmin), params.qmax);
  });
}

function tensor(shape: number[], values: ArrayLike<number>): Tensor<'float32'> {
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------------------

describe('linearQuantizer: onnxruntime conventions, computed by hand', () => {
  const weight = tensor([4], [-1, 1, 2, 0]);

  it('asymmetric uint8 over [-1, 2]: scale 3/255, zero point 85', () => {
    const { codes, params } = linearQuantizer.quantizeWeight(weight, {
      bits: 8,
      symmetric: false,
      granularity: 'tensor',
    });
    expect(params.dtype).toBe('uint8');
    expect([params.qmin, params.qmax]).toEqual([0, 255]);
    expect(params.scale[0]).toBe(Math.fround(3 / 255));
    // qmin - rmin / scale = 0 + 1 / (3 / 255) = 85
    expect(params.zeroPoint[0]).toBe(85);
    // -1 -> 85 - 85, 1 -> 85 + 85, 2 -> 85 + 170, 0 -> zero point
    expect(Array.from(codes.data)).toEqual([0, 170, 255, 85]);
    expect(codes.dtype).toBe('uint8');
  });

  it('asymmetric int8 (signed: true) over [-1, 2]: zero point -128 + 85', () => {
    const { params } = linearQuantizer.quantizeWeight(weight, {
      bits: 8,
      symmetric: false,
      signed: true,
      granularity: 'tensor',
    });
    expect(params.dtype).toBe('int8');
    expect(params.scale[0]).toBe(Math.fround(3 / 255));
    expect(params.zeroPoint[0]).toBe(-128 + 85);
  });

  it('widens one-sided ranges to include zero', () => {
    const positive = linearQuantizer.quantizeWeight(tensor([2], [0.5, 2]), {
      bits: 8,
      symmetric: false,
      granularity: 'tensor',
    });
    expect(positive.params.scale[0]).toBe(Math.fround(2 / 255));
    expect(positive.params.zeroPoint[0]).toBe(0);
    const negative = linearQuantizer.quantizeWeight(tensor([2], [-0.5, -2]), {
      bits: 8,
      symmetric: false,
      granularity: 'tensor',
    });
    expect(negative.params.scale[0]).toBe(Math.fround(2 / 255));
    expect(negative.params.zeroPoint[0]).toBe(255);
  });

  it('symmetric int8: scale 2 * absmax / 255, zero point 0', () => {
    const { codes, params } = linearQuantizer.quantizeWeight(weight, {
      bits: 8,
      symmetric: true,
      granularity: 'tensor',
    });
    expect(params.dtype).toBe('int8');
    expect([params.qmin, params.qmax]).toEqual([-128, 127]);
    expect(params.scale[0]).toBe(Math.fround(4 / 255));
    expect(params.zeroPoint[0]).toBe(0);
    expect(Array.from(codes.data)).toEqual(referenceCodes(weight, params));
  });

  it('symmetric with unsigned storage uses the middle code: 128 for uint8, 8 for uint4', () => {
    const uint8 = linearQuantizer.quantizeWeight(weight, {
      bits: 8,
      symmetric: true,
      signed: false,
      granularity: 'tensor',
    });
    expect(uint8.params.dtype).toBe('uint8');
    expect(uint8.params.zeroPoint[0]).toBe(128);
    expect(uint8.params.scale[0]).toBe(Math.fround(4 / 255));
    const uint4 = linearQuantizer.quantizeWeight(weight, {
      bits: 4,
      symmetric: true,
      signed: false,
      granularity: 'tensor',
    });
    expect(uint4.params.dtype).toBe('uint4');
    // round((0 + 15) / 2) = round(7.5) = 8 (ties to even)
    expect(uint4.params.zeroPoint[0]).toBe(8);
    expect(uint4.params.scale[0]).toBe(Math.fround(4 / 15));
  });

  it('int4 symmetric: codes in [-8, 7], scale 2 * absmax / 15', () => {
    const w = tensor([5], [-0.75, 0.3, 0.1, 0, 0.6]);
    const { codes, params } = linearQuantizer.quantizeWeight(w, {
      bits: 4,
      symmetric: true,
      granularity: 'tensor',
    });
    expect(params.dtype).toBe('int4');
    expect(params.bits).toBe(4);
    expect([params.qmin, params.qmax]).toEqual([-8, 7]);
    expect(params.scale[0]).toBe(Math.fround(1.5 / 15));
    // -0.75 / 0.1 = -7.5 -> -8 (ties to even); 0.3 -> 3; 0.1 -> 1; 0.6 -> 6
    expect(Array.from(codes.data)).toEqual(referenceCodes(w, params));
    expect(codes.data[3]).toBe(0);
    expect(codes.data[2]).toBe(1);
  });

  it('16 bits: asymmetric uint16 and symmetric int16', () => {
    const w = tensor([3], [-1, 3, 0.25]);
    const asym = linearQuantizer.quantizeWeight(w, { bits: 16, symmetric: false, granularity: 'tensor' });
    expect(asym.params.dtype).toBe('uint16');
    expect(asym.params.qmax).toBe(65535);
    expect(asym.params.scale[0]).toBe(Math.fround(4 / 65535));
    // 0 + 1 / (4 / 65535) = 16383.75 -> 16384
    expect(asym.params.zeroPoint[0]).toBe(16384);
    expect(Array.from(asym.codes.data)).toEqual(referenceCodes(w, asym.params));

    const sym = linearQuantizer.quantizeWeight(tensor([2], [-2, 1]), {
      bits: 16,
      symmetric: true,
      granularity: 'tensor',
    });
    expect(sym.params.dtype).toBe('int16');
    expect([sym.params.qmin, sym.params.qmax]).toEqual([-32768, 32767]);
    expect(sym.params.scale[0]).toBe(Math.fround(4 / 65535));
  });

  it('reduceRange uses 7-bit codes in 8-bit storage', () => {
    const asym = linearQuantizer.quantizeWeight(weight, {
      bits: 8,
      symmetric: false,
      granularity: 'tensor',
      reduceRange: true,
    });
    expect(asym.params.dtype).toBe('uint8');
    expect(asym.params.bits).toBe(7);
    expect([asym.params.qmin, asym.params.qmax]).toEqual([0, 127]);
    expect(asym.params.scale[0]).toBe(Math.fround(3 / 127));
    // 1 / (3 / 127) = 42.33 -> 42
    expect(asym.params.zeroPoint[0]).toBe(42);
    expect(Math.max(...asym.codes.data)).toBe(127);

    const sym = linearQuantizer.quantizeWeight(weight, {
      bits: 8,
      symmetric: true,
      granularity: 'tensor',
      reduceRange: true,
    });
    expect(sym.params.dtype).toBe('int8');
    expect([sym.params.qmin, sym.params.qmax]).toEqual([-64, 63]);
    expect(sym.params.scale[0]).toBe(Math.fround(4 / 127));
  });

  it('restrictedRange drops the lowest code: [-127, 127] signed, [1, 255] unsigned', () => {
    const signed = linearQuantizer.quantizeWeight(weight, {
      bits: 8,
      symmetric: true,
      granularity: 'tensor',
      restrictedRange: true,
    });
    expect([signed.params.qmin, signed.params.qmax]).toEqual([-127, 127]);
    expect(signed.params.scale[0]).toBe(Math.fround(2 / 127));
    expect(signed.codes.data[2]).toBe(127);
    const unsigned = linearQuantizer.quantizeWeight(weight, {
      bits: 8,
      symmetric: true,
      signed: false,
      granularity: 'tensor',
      restrictedRange: true,
    });
    expect([unsigned.params.qmin, unsigned.params.qmax]).toEqual([1, 255]);
    expect(unsigned.params.zeroPoint[0]).toBe(128);
  });

  it('gives all-zero (degenerate) tensors scale 1 and keeps zero exact', () => {
    const zeros = tensor([2, 3], [0, 0, 0, 0, 0, 0]);
    for (const options of [
      { bits: 8, symmetric: false, granularity: 'tensor' },
      { bits: 8, symmetric: false, signed: true, granularity: 'tensor' },
      { bits: 8, symmetric: true, granularity: 'channel', axis: 1 },
      { bits: 4, symmetric: true, signed: false, granularity: 'block', axis: 1, blockSize: 2 },
    ] as QuantizerOptions[]) {
      const { codes, params } = linearQuantizer.quantizeWeight(zeros, options);
      expect(Array.from(params.scale).every((s) => s === 1)).toBe(true);
      expect(Array.from(dequantizeLinear(codes.data, zeros.shape, params))).toEqual([0, 0, 0, 0, 0, 0]);
      validateParams(zeros.shape, params);
    }
  });

  it('gives a degenerate channel scale 1 without disturbing its neighbours', () => {
    const w = tensor([3, 2], [0.5, -1, 0, 0, 2, 4]);
    const { params } = linearQuantizer.quantizeWeight(w, {
      bits: 8,
      symmetric: true,
      granularity: 'channel',
      axis: 0,
    });
    expect(Array.from(params.scale)).toEqual([Math.fround(2 / 255), 1, Math.fround(8 / 255)]);
  });

  it('keeps tiny scales a normal float32 and huge ranges finite', () => {
    const tiny = tensor([2], [1e-40, 0]);
    for (const symmetric of [false, true]) {
      const { codes, params } = linearQuantizer.quantizeWeight(tiny, {
        bits: 8,
        symmetric,
        granularity: 'tensor',
      });
      expect(params.scale[0]).toBeGreaterThanOrEqual(2 ** -126);
      const restored = dequantizeLinear(codes.data, tiny.shape, params);
      expect(Math.abs(restored[0]! - tiny.data[0]!)).toBeLessThanOrEqual(params.scale[0]! / 2);
    }
    const huge = tensor([2], [-3e38, 3.4e38]);
    for (const symmetric of [false, true]) {
      const { params } = linearQuantizer.quantizeWeight(huge, { bits: 2, symmetric, granularity: 'tensor' });
      expect(Number.isFinite(params.scale[0])).toBe(true);
      validateParams(huge.shape, params);
    }
  });
});

describe('linearQuantizer: granularity', () => {
  // shape [2, 3, 4]: element (a, b, c) sits at a * 12 + b * 4 + c.
  const shape = [2, 3, 4];
  const values = Array.from(
    { length: 24 },
    (_, i) => Math.sin(i * 1.7) * (1 + (i % 4)) * (1 + (Math.floor(i / 4) % 3)),
  );
  const w = tensor(shape, values);

  function channelAbsMax(axis: number): number[] {
    const out = new Array<number>(shape[axis]!).fill(0);
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 3; b++)
        for (let c = 0; c < 4; c++) {
          const channel = [a, b, c][axis]!;
          out[channel] = Math.max(out[channel]!, Math.abs(w.data[a * 12 + b * 4 + c]!));
        }
    return out;
  }

  it('per channel on axis 1 and on axis -1 (normalized to 2)', () => {
    for (const [axis, normalized] of [
      [1, 1],
      [-1, 2],
    ] as const) {
      const { codes, params } = linearQuantizer.quantizeWeight(w, {
        bits: 8,
        symmetric: true,
        granularity: 'channel',
        axis,
      });
      expect(params.axis).toBe(normalized);
      expect(Array.from(params.scale)).toEqual(
        channelAbsMax(normalized).map((m) => Math.fround((2 * m) / 255)),
      );
      expect(Array.from(codes.data)).toEqual(referenceCodes(w, params));
    }
  });

  it('per block with the axis length not a multiple of blockSize', () => {
    // shape [3, 5], blocks of 2 along axis 1: blocks {0,1}, {2,3}, {4}; scale shape [3, 3].
    const m = tensor([3, 5], [1, -2, 3, 0.5, -8, 0, 0, 0, 0, 7, -1, 1, 2, -2, 0.25]);
    const { codes, params } = linearQuantizer.quantizeWeight(m, {
      bits: 4,
      symmetric: false,
      granularity: 'block',
      axis: 1,
      blockSize: 2,
    });
    expect(params.scale.length).toBe(9);
    expect(params.blockSize).toBe(2);
    const expectedScales: number[] = [];
    for (let row = 0; row < 3; row++) {
      for (let block = 0; block < 3; block++) {
        const members = [block * 2, block * 2 + 1]
          .filter((col) => col < 5)
          .map((col) => m.data[row * 5 + col]!);
        const rmin = Math.min(0, ...members);
        const rmax = Math.max(0, ...members);
        expectedScales.push(rmax === rmin ? 1 : Math.fround((rmax - rmin) / 15));
      }
    }
    expect(Array.from(params.scale)).toEqual(expectedScales);
    expect(Array.from(codes.data)).toEqual(referenceCodes(m, params));
  });

  it('per block along axis 0 with an inner dimension', () => {
    const m = tensor(
      [5, 3],
      Array.from({ length: 15 }, (_, i) => (i % 7) - 3 + i / 10),
    );
    const { codes, params } = linearQuantizer.quantizeWeight(m, {
      bits: 8,
      symmetric: true,
      granularity: 'block',
      axis: 0,
      blockSize: 2,
    });
    expect(params.scale.length).toBe(9);
    expect(Array.from(codes.data)).toEqual(referenceCodes(m, params));
  });
});

describe('linearQuantizer: validation', () => {
  const w = tensor([2, 2], [1, -1, 0.5, 0]);

  it.each([
    [{ bits: 17 }, /options\.bits must be an integer from 2 to 16, got 17/],
    [{ bits: 1 }, /options\.bits must be an integer from 2 to 16, got 1/],
    [{ granularity: 'row' }, /options\.granularity must be "tensor", "channel" or "block", got "row"/],
    [{ granularity: 'block', blockSize: 0 }, /options\.blockSize must be a positive integer .*got 0/],
    [{ granularity: 'block' }, /options\.blockSize must be a positive integer .*got undefined/],
    [{ granularity: 'channel', axis: 2 }, /options\.axis 2 .* rank-2 .* expected an integer from -2 to 1/],
    [{ granularity: 'channel', axis: -3 }, /options\.axis -3 .* expected an integer from -2 to 1/],
    [{ granularity: 'channel', axis: 0.5 }, /options\.axis must be an integer/],
    [{ reduceRange: true, bits: 2 }, /options\.reduceRange .* bits from 3 to 16, got bits 2/],
    [{ signed: 'no' }, /options\.signed must be true, false or absent, got "no"/],
    [{ symmetric: undefined }, /options\.symmetric is required/],
  ])('refuses %j', (override, message) => {
    const options = {
      bits: 8,
      symmetric: true,
      granularity: 'tensor',
      ...override,
    } as unknown as QuantizerOptions;
    const error = caught(() => linearQuantizer.quantizeWeight(w, options));
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^linear quantizer: |options\.axis/);
  });

  it.each([
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ])('refuses a weight holding %s', (bad) => {
    const error = caught(() =>
      linearQuantizer.quantizeWeight(tensor([2, 2], [1, 2, bad, 0]), {
        bits: 8,
        symmetric: true,
        granularity: 'tensor',
      }),
    );
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain(`${bad} at index [1, 0]`);
  });

  it('refuses non-float32 weights', () => {
    const error = caught(() =>
      linearQuantizer.quantizeWeight({ dtype: 'float64', shape: [1], data: Float64Array.of(1) } as never, {
        bits: 8,
        symmetric: true,
        granularity: 'tensor',
      }),
    );
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('float32');
  });
});

describe('createLinearQuantizer', () => {
  it('returns plain plugin values; nothing is registered on import', () => {
    const fresh = createLinearQuantizer();
    expect(fresh).not.toBe(linearQuantizer);
    expect(fresh.name).toBe('linear');
    const registry = createRegistry([linearQuantizer, powerOfTwoQuantizer]);
    expect(registry.get('quantizer', 'linear')).toBe(linearQuantizer);
    expect(registry.list('quantizer').map((p) => p.name)).toEqual(['linear', 'pow2']);
    // Two distinct values with one name conflict: proof that each factory call is its own plugin.
    expect(
      QuantError.is(
        caught(() => createRegistry([linearQuantizer, fresh])),
        'PLUGIN_CONFLICT',
      ),
    ).toBe(true);
  });

  it('applies defaults under each call and lets the call override them', () => {
    const reduced = createLinearQuantizer({ name: 'linear-reduced', defaults: { reduceRange: true } });
    expect(reduced.name).toBe('linear-reduced');
    const w = tensor([2], [-1, 2]);
    const base = { bits: 8, symmetric: false, granularity: 'tensor' } as const;
    expect(reduced.quantizeWeight(w, base).params.qmax).toBe(127);
    expect(reduced.quantizeWeight(w, { ...base, reduceRange: false }).params.qmax).toBe(255);
    // An explicit undefined (e.g. from spreading partial options) keeps the default.
    expect(reduced.quantizeWeight(w, { ...base, reduceRange: undefined }).params.qmax).toBe(127);
    expect(createRegistry([linearQuantizer, reduced]).list('quantizer')).toHaveLength(2);
  });

  it('refuses bad settings when created, naming the setting', () => {
    const emptyName = caught(() => createLinearQuantizer({ name: '' }));
    expect(QuantError.is(emptyName, 'INVALID_ARGUMENT')).toBe(true);
    expect((emptyName as Error).message).toContain('settings.name');
    const badDefault = caught(() => createLinearQuantizer({ defaults: { bits: 20 } }));
    expect(QuantError.is(badDefault, 'INVALID_ARGUMENT')).toBe(true);
    expect((badDefault as Error).message).toContain('options.bits');
  });

  it('paramsForRange agrees with the pure linearParamsForRange', () => {
    const range = { min: Float32Array.of(-0.3, -2), max: Float32Array.of(1.1, 0.5), axis: 1 };
    const options: QuantizerOptions = { bits: 6, symmetric: false, granularity: 'channel', axis: 1 };
    expect(linearQuantizer.paramsForRange!(range, options)).toEqual(linearParamsForRange(range, options));
  });
});

// ------------------------------------------------------------------------------------------------------------
// Properties.

const optionsArbitrary: fc.Arbitrary<QuantizerOptions> = fc
  .record({
    bits: fc.integer({ min: 3, max: 16 }),
    symmetric: fc.boolean(),
    signed: fc.option(fc.boolean(), { nil: undefined }),
    restrictedRange: fc.boolean(),
    reduceRange: fc.boolean(),
    granularity: fc.constantFrom('tensor' as const, 'channel' as const, 'block' as const),
    axis: fc.constantFrom(0, 1, -1, -2),
    blockSize: fc.integer({ min: 1, max: 5 }),
  })
  .map((options) => ({ ...options }));

const weightArbitrary = fc
  .record({ rows: fc.integer({ min: 1, max: 5 }), cols: fc.integer({ min: 1, max: 9 }) })
  .chain(({ rows, cols }) =>
    fc
      .array(fc.float({ min: Math.fround(-50), max: Math.fround(50), noNaN: true }), {
        minLength: rows * cols,
        maxLength: rows * cols,
      })
      .map((values) => tensor([rows, cols], values)),
  );

describe('linearQuantizer: properties', () => {
  it('codes equal the naive per-element reference, and min-max weights round-trip within scale/2', () => {
    fc.assert(
      fc.property(weightArbitrary, optionsArbitrary, (w, options) => {
        const { codes, params } = linearQuantizer.quantizeWeight(w, options);
        validateParams(w.shape, params);
        expect(Array.from(codes.data)).toEqual(referenceCodes(w, params));
        const restored = dequantizeLinear(codes.data, w.shape, params);
        forEachParamRun(w.shape, params, (start, end, p, stride) => {
          const scale = params.scale[p]!;
          for (let i = start; i < end; i += stride) {
            // Half a step, plus float32 rounding of x / scale and of the dequantized product.
            expect(Math.abs(restored[i]! - w.data[i]!)).toBeLessThanOrEqual(
              scale * 0.5 * (1 + 2 ** -20) + Math.abs(w.data[i]!) * 2 ** -22,
            );
          }
        });
      }),
      { numRuns: 200 },
    );
  });

  it('activation params put every value of the range within half a step of a code, and zero on a code', () => {
    fc.assert(
      fc.property(
        fc.float({ min: Math.fround(-100), max: 0, noNaN: true }),
        fc.float({ min: 0, max: Math.fround(100), noNaN: true }),
        optionsArbitrary,
        (min, max, options) => {
          const range = { min: Float32Array.of(min), max: Float32Array.of(max) };
          const params = linearQuantizer.paramsForRange!(range, { ...options, granularity: 'tensor' });
          validateParams([], params);
          const [low, high, zero] = dequantizeLinear(
            [params.qmin, params.qmax, params.zeroPoint[0]!],
            [3],
            params,
          );
          // Half a step, plus float32 rounding of the scale and of the dequantized products.
          const halfStep = (params.scale[0]! / 2) * (1 + 2 ** -20) + (Math.abs(min) + max) * 2 ** -22;
          expect(zero).toBe(0);
          expect(low!).toBeLessThanOrEqual(min + halfStep);
          expect(high!).toBeGreaterThanOrEqual(max - halfStep);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('per-channel noise never exceeds per-tensor noise when channel magnitudes differ widely', () => {
    // Channel c holds magnitude * ratio^c. With ratio > 255 the per-tensor scale rounds every smaller channel to
    // zero (error |x|), while per channel the nearest level is never farther than zero; the largest channel gets
    // identical parameters both ways. So per-channel SQNR >= per-tensor SQNR, with no luck involved.
    const arbitrary = fc.record({
      channels: fc.integer({ min: 2, max: 4 }),
      length: fc.integer({ min: 1, max: 16 }),
      ratio: fc.double({ min: 300, max: 1e4, noNaN: true }),
      axis: fc.constantFrom(0, 1),
      seed: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 64, maxLength: 64 }),
    });
    fc.assert(
      fc.property(arbitrary, ({ channels, length, ratio, axis, seed }) => {
        const shape = axis === 0 ? [channels, length] : [length, channels];
        const data = new Float32Array(channels * length);
        for (let k = 0; k < channels; k++) {
          for (let j = 0; j < length; j++) {
            const i = axis === 0 ? k * length + j : j * channels + k;
            const unit = j === 0 ? 1 : seed[(k * length + j) % seed.length]!;
            data[i] = unit * ratio ** k * 1e-3;
          }
        }
        const w: Tensor<'float32'> = { dtype: 'float32', shape, data };
        const noise = (options: QuantizerOptions) => {
          const { codes, params } = linearQuantizer.quantizeWeight(w, options);
          const restored = dequantizeLinear(codes.data, shape, params);
          return data.reduce((sum, x, i) => sum + (restored[i]! - x) ** 2, 0);
        };
        const signal = data.reduce((sum, x) => sum + x * x, 0);
        const perTensor = noise({ bits: 8, symmetric: true, granularity: 'tensor' });
        const perChannel = noise({ bits: 8, symmetric: true, granularity: 'channel', axis });
        const sqnr = (n: number) => (n === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / n));
        expect(sqnr(perChannel)).toBeGreaterThanOrEqual(sqnr(perTensor));
      }),
      { numRuns: 150 },
    );
  });
});
