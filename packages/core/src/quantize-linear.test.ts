import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QuantDType } from './dtype.js';
import type { Granularity, LinearQuantParams } from './quant-params.js';
import {
  dequantizeLinear,
  dequantizeValue,
  fakeQuantize,
  forEachParamRun,
  quantizeLinear,
  quantizeValue,
  roundHalfToEven,
} from './quantize-linear.js';

/** numpy.rint written another way: Math.round rounds ties up, so step back from odd results of exact ties. */
function rint(x: number): number {
  const up = Math.round(x);
  return up - x === 0.5 && up % 2 !== 0 ? up - 1 : up;
}

/** `+ 0` folds -0 into 0: the two roundings may disagree on the sign of zero, which no code can tell apart. */
function same(a: number, b: number): void {
  expect(a + 0).toBe(b + 0);
}

describe('roundHalfToEven', () => {
  it('sends ties to the even neighbour, positive and negative', () => {
    const ties: [number, number][] = [
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [3.5, 4],
      [-0.5, 0],
      [-1.5, -2],
      [-2.5, -2],
      [-3.5, -4],
      [127.5, 128],
      [-128.5, -128],
    ];
    for (const [x, expected] of ties) same(roundHalfToEven(x), expected);
  });

  it('rounds non-ties to nearest, including values one ulp from a tie', () => {
    same(roundHalfToEven(0.49999999999999994), 0);
    same(roundHalfToEven(2.5000000000000004), 3);
    same(roundHalfToEven(2.4999999999999996), 2);
    same(roundHalfToEven(-2.5000000000000004), -3);
    same(roundHalfToEven(-0.2), 0);
    same(roundHalfToEven(1.7), 2);
  });

  it('leaves large values alone and handles the last fractional binade', () => {
    for (const x of [2 ** 52, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), 1e300, -1e300, Number.MAX_VALUE])
      same(roundHalfToEven(x), x);
    // 2^52 - 0.5 is a tie between 2^52 - 1 (odd) and 2^52 (even).
    same(roundHalfToEven(2 ** 52 - 0.5), 2 ** 52);
    same(roundHalfToEven(2 ** 52 - 1.5), 2 ** 52 - 2);
  });

  it('property: equals numpy rint on any finite double and on every tie k + 0.5', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        same(roundHalfToEven(x), rint(x));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (k) => {
        const result = roundHalfToEven(k + 0.5);
        expect(result === k || result === k + 1).toBe(true);
        expect(Math.abs(result % 2)).toBe(0);
      }),
    );
  });
});

describe('quantizeValue', () => {
  it('saturates to [qmin, qmax], including infinities, and maps NaN to the zero point', () => {
    expect(quantizeValue(1000, 1, 0, -128, 127)).toBe(127);
    expect(quantizeValue(-1000, 1, 0, -128, 127)).toBe(-128);
    expect(quantizeValue(Number.POSITIVE_INFINITY, 0.5, 3, 0, 255)).toBe(255);
    expect(quantizeValue(Number.NEGATIVE_INFINITY, 0.5, 3, 0, 255)).toBe(0);
    expect(quantizeValue(Number.NaN, 0.5, 3, 0, 255)).toBe(3);
    // A zero point outside the code range still yields a code inside it.
    expect(quantizeValue(Number.NaN, 0.5, 300, 0, 255)).toBe(255);
  });

  it('rounds x / scale first and adds the zero point after, like QuantizeLinear', () => {
    // 2.5 -> 2 (tie to even), + 1 = 3; adding first would round 3.5 to 4.
    expect(quantizeValue(2.5, 1, 1, 0, 255)).toBe(3);
    expect(quantizeValue(-1.5, 1, 10, 0, 255)).toBe(8);
  });

  it('divides in float32: a quotient that is a tie only in float32 rounds as the tie', () => {
    // Search for x whose float64 quotient x / scale is just off k + 0.5 (so float64 rounding goes one way) while
    // the float32 quotient is exactly k + 0.5 (so ties-to-even goes the other way).
    const scale = Math.fround(0.1);
    let found: { x: number; tie: number } | undefined;
    for (let k = 0; k < 1000 && found === undefined; k++) {
      const tie = k + 0.5;
      const x = Math.fround(tie * scale);
      const q64 = x / scale;
      if (Math.fround(q64) !== tie || q64 === tie) continue;
      const even = k % 2 === 0 ? k : k + 1;
      const float64Rounding = q64 > tie ? k + 1 : k;
      if (float64Rounding !== even) found = { x, tie };
    }
    expect(found).toBeDefined();
    const { x, tie } = found!;
    const k = tie - 0.5;
    expect(quantizeValue(x, scale, 0, -32768, 32767)).toBe(k % 2 === 0 ? k : k + 1);
  });
});

describe('dequantizeValue', () => {
  it('computes (code - zeroPoint) * scale rounded to float32', () => {
    expect(dequantizeValue(130, 0.1, 128)).toBe(Math.fround(2 * 0.1));
    expect(dequantizeValue(-3, 0.25, 0)).toBe(-0.75);
    expect(dequantizeValue(5, 2, 5)).toBe(0);
  });
});

// ------------------------------------------------------------------------------------------------------------
// quantizeLinear / dequantizeLinear against a per-element reference with explicit index arithmetic.

interface Case {
  shape: number[];
  values: Float32Array;
  params: LinearQuantParams;
}

function unravel(shape: readonly number[], flat: number): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return index;
}

function referenceParamIndex(shape: readonly number[], flat: number, params: LinearQuantParams): number {
  if (params.granularity === 'tensor') return 0;
  const index = unravel(shape, flat);
  const axis = params.axis!;
  if (params.granularity === 'channel') return index[axis]!;
  let p = 0;
  for (let d = 0; d < shape.length; d++) {
    const extent = d === axis ? Math.ceil(shape[d]! / params.blockSize!) : shape[d]!;
    const coordinate = d === axis ? Math.floor(index[d]! / params.blockSize!) : index[d]!;
    p = p * extent + coordinate;
  }
  return p;
}

const dtypeRanges: Record<string, [QuantDType, number, number]> = {
  int8: ['int8', -128, 127],
  uint8: ['uint8', 0, 255],
  int4: ['int4', -8, 7],
  uint16: ['uint16', 0, 65535],
};

const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
    granularity: fc.constantFrom<Granularity>('tensor', 'channel', 'block'),
    axisPick: fc.nat(),
    blockSize: fc.integer({ min: 1, max: 5 }),
    dtype: fc.constantFrom('int8', 'uint8', 'int4', 'uint16'),
  })
  .chain(({ shape, granularity, axisPick, blockSize, dtype }) => {
    const [storage, qmin, qmax] = dtypeRanges[dtype]!;
    const axis = axisPick % shape.length;
    const size = shape.reduce((a, b) => a * b, 1);
    const count =
      granularity === 'tensor'
        ? 1
        : granularity === 'channel'
          ? shape[axis]!
          : shape.reduce((a, dim, d) => a * (d === axis ? Math.ceil(dim / blockSize) : dim), 1);
    return fc
      .record({
        values: fc.array(fc.float({ min: -100, max: 100, noNaN: true }), {
          minLength: size,
          maxLength: size,
        }),
        scales: fc.array(fc.float({ min: Math.fround(1e-3), max: 10, noNaN: true }), {
          minLength: count,
          maxLength: count,
        }),
        zeroPoints: fc.array(fc.integer({ min: qmin, max: qmax }), { minLength: count, maxLength: count }),
      })
      .map(({ values, scales, zeroPoints }) => ({
        shape,
        values: Float32Array.from(values),
        params: {
          scale: Float32Array.from(scales),
          zeroPoint: Int32Array.from(zeroPoints),
          granularity,
          axis: granularity === 'tensor' ? undefined : axis,
          blockSize: granularity === 'block' ? blockSize : undefined,
          bits: storage === 'int4' ? 4 : storage === 'uint16' ? 16 : 8,
          dtype: storage,
          qmin,
          qmax,
        },
      }));
  });

describe('quantizeLinear / dequantizeLinear', () => {
  it('property: match the per-element reference per tensor, channel and block', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ shape, values, params }) => {
        const codes = quantizeLinear(values, shape, params);
        expect(codes.dtype).toBe(params.dtype);
        expect(codes.shape).toEqual(shape);
        const restored = dequantizeLinear(codes.data, shape, params);
        const fake = fakeQuantize(values, shape, params);
        for (let i = 0; i < values.length; i++) {
          const p = referenceParamIndex(shape, i, params);
          const scale = params.scale[p]!;
          const zeroPoint = params.zeroPoint[p]!;
          const code = Math.min(
            Math.max(rint(Math.fround(values[i]! / scale)) + zeroPoint, params.qmin),
            params.qmax,
          );
          expect(codes.data[i]).toBe(code);
          expect(restored[i]).toBe(Math.fround((code - zeroPoint) * scale));
          expect(fake[i]).toBe(restored[i]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: forEachParamRun visits each element exactly once, with the reference parameter index', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ shape, values, params }) => {
        const seen = new Array<number>(values.length).fill(-1);
        forEachParamRun(shape, params, (start, end, p, stride) => {
          for (let i = start; i < end; i += stride) {
            expect(seen[i]).toBe(-1);
            seen[i] = p;
          }
        });
        expect(seen).toEqual(seen.map((_, i) => referenceParamIndex(shape, i, params)));
      }),
      { numRuns: 200 },
    );
  });

  it('handles a hand-checked per-block example along axis 1 with a short last block', () => {
    // shape [2, 3], blockSize 2 along axis 1 -> blocked shape [2, 2]: row 0 uses scales 0, 0, 1; row 1 uses 2, 2, 3.
    const params: LinearQuantParams = {
      scale: Float32Array.of(1, 2, 4, 8),
      zeroPoint: Int32Array.of(0, 0, 0, 0),
      granularity: 'block',
      axis: 1,
      blockSize: 2,
      bits: 8,
      dtype: 'int8',
      qmin: -128,
      qmax: 127,
    };
    const codes = quantizeLinear([8, 8, 8, 8, 8, 8], [2, 3], params);
    expect(Array.from(codes.data)).toEqual([8, 8, 4, 2, 2, 1]);
  });

  it('refuses values that do not fit the shape', () => {
    const params: LinearQuantParams = {
      scale: Float32Array.of(1),
      zeroPoint: Int32Array.of(0),
      granularity: 'tensor',
      bits: 8,
      dtype: 'int8',
      qmin: -128,
      qmax: 127,
    };
    expect(() => quantizeLinear([1, 2, 3], [2], params)).toThrow(/has 2 elements but 3 values/);
  });
});
