import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LOG_TABLE_SIZE,
  type LogLevel,
  type LogWeights,
  logGemm,
  logShiftAddGemm,
  logShiftPlan,
} from './packed-log-gemm.js';

/** NNIE's factors: float32(2^(r/16)). */
const SIXTEENTHS = Array.from({ length: 16 }, (_, r) => Math.fround(2 ** (r / 16)));

function levelValue(level: LogLevel, factors: readonly number[]): number {
  if (level.zero) return 0;
  const magnitude = Math.fround(2 ** level.exponent * factors[level.factor]!);
  return level.negative ? -magnitude : magnitude;
}

/** Tables of `levelCount` random levels whose exponents lie in [low, low + spread]. */
const tablesOf = (tables: number, levelCount: number, factorCount: number) =>
  fc.array(
    fc.record({
      low: fc.integer({ min: -100, max: -26 }),
      levels: fc.array(
        fc.record({
          zero: fc.boolean(),
          negative: fc.boolean(),
          offset: fc.integer({ min: 0, max: 126 }),
          factor: fc.integer({ min: 0, max: factorCount - 1 }),
        }),
        { minLength: levelCount, maxLength: levelCount },
      ),
    }),
    { minLength: tables, maxLength: tables },
  );

const problem = (factorCount: number) =>
  fc
    .record({
      m: fc.integer({ min: 1, max: 3 }),
      n: fc.integer({ min: 1, max: 4 }),
      k: fc.integer({ min: 0, max: 70 }),
      levelCount: fc.integer({ min: 1, max: 16 }),
      tables: fc.integer({ min: 1, max: 3 }),
    })
    .chain(({ m, n, k, levelCount, tables }) =>
      fc.record({
        m: fc.constant(m),
        n: fc.constant(n),
        k: fc.constant(k),
        tables: tablesOf(tables, levelCount, factorCount),
        rowTable: fc.array(fc.integer({ min: 0, max: tables - 1 }), { minLength: n, maxLength: n }),
        codes: fc.array(fc.integer({ min: 0, max: levelCount - 1 }), { minLength: n * k, maxLength: n * k }),
        x: fc.array(fc.integer({ min: -128, max: 127 }), { minLength: m * k, maxLength: m * k }),
      }),
    );

function weightsOf(
  tables: { low: number; levels: { zero: boolean; negative: boolean; offset: number; factor: number }[] }[],
  rowTable: number[],
  codes: number[],
  k: number,
  factors: readonly number[],
): { weights: LogWeights; levelTables: LogLevel[][] } {
  const levelTables = tables.map(({ low, levels }) =>
    levels.map(({ zero, negative, offset, factor }) => ({ zero, negative, exponent: low + offset, factor })),
  );
  const levels = new Float32Array(tables.length * LOG_TABLE_SIZE);
  levelTables.forEach((table, t) => {
    table.forEach((level, code) => {
      levels[t * LOG_TABLE_SIZE + code] = levelValue(level, factors);
    });
  });
  return {
    weights: {
      codes: Uint8Array.from(codes),
      k,
      levels,
      rowTable: Int32Array.from(rowTable),
      shiftPlan: logShiftPlan(levelTables, factors, k),
    },
    levelTables,
  };
}

/** sum_k x * level, in float64, with the sum of |terms| for the error bound. */
function reference(
  x: ArrayLike<number>,
  weights: LogWeights,
  i: number,
  j: number,
): { sum: number; magnitude: number } {
  let sum = 0;
  let magnitude = 0;
  const table = weights.rowTable[j]! * LOG_TABLE_SIZE;
  for (let p = 0; p < weights.k; p++) {
    const term = x[i * weights.k + p]! * weights.levels[table + weights.codes[j * weights.k + p]!]!;
    sum += term;
    magnitude += Math.abs(term);
  }
  return { sum, magnitude };
}

const output = (out: Float32Array, n: number) => ({ out, offset: 0, rowStride: n, columnStride: 1 });

describe('logShiftAddGemm', () => {
  for (const [name, factors] of [
    ['whole octaves', [1]],
    ['sixteenths of an octave (NNIE)', SIXTEENTHS],
  ] as const) {
    it(`equals the float product over exponents spread up to 126 octaves, ${name}`, () => {
      fc.assert(
        fc.property(problem(factors.length), ({ m, n, k, tables, rowTable, codes, x }) => {
          const { weights } = weightsOf(tables, rowTable, codes, k, factors);
          const xs = Int8Array.from(x);
          const out = new Float32Array(m * n);
          logShiftAddGemm(xs, 0, m, weights, 0, n, output(out, n));
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              const { sum, magnitude } = reference(xs, weights, i, j);
              // The shift-add sum is exact before its one rounding to float32; the float64 reference is not quite.
              expect(Math.abs(out[i * n + j]! - sum)).toBeLessThanOrEqual(2 ** -23 * magnitude + 2 ** -149);
            }
          }
        }),
      );
    });
  }

  it('takes uint8 activations up to 255 at the widest shift without overflowing int32', () => {
    const k = 1000;
    const level: LogLevel = { zero: false, negative: false, exponent: -3, factor: 0 };
    // Two levels: the lowest exponent and one just inside the first window, the largest shift the plan allows.
    const plan = logShiftPlan([[level, { ...level, exponent: -3 + 13 }]], [1], k);
    expect(plan.windowBits).toBe(24 - 10);
    const weights: LogWeights = {
      codes: new Uint8Array(k).fill(1),
      k,
      levels: new Float32Array(LOG_TABLE_SIZE),
      rowTable: Int32Array.of(0),
      shiftPlan: plan,
    };
    const out = new Float32Array(1);
    logShiftAddGemm(new Uint8Array(k).fill(255), 0, 1, weights, 0, 1, output(out, 1));
    expect(out[0]).toBe(Math.fround(k * 255 * 2 ** 10));
    const negative = { ...weights, codes: new Uint8Array(k).fill(1) };
    logShiftAddGemm(new Int8Array(k).fill(-128), 0, 1, negative, 0, 1, output(out, 1));
    expect(out[0]).toBe(-k * 128 * 2 ** 10);
  });

  it('refuses weights without a shift plan', () => {
    const weights: LogWeights = {
      codes: new Uint8Array(0),
      k: 0,
      levels: new Float32Array(256),
      rowTable: Int32Array.of(0),
    };
    expect(() =>
      logShiftAddGemm(new Int8Array(0), 0, 1, weights, 0, 1, output(new Float32Array(1), 1)),
    ).toThrow(/no shift plan/);
  });
});

describe('logGemm', () => {
  it('equals the float product with the levels read from the table', () => {
    fc.assert(
      fc.property(
        problem(1),
        fc.array(fc.float({ min: -8, max: 8, noNaN: true }), { minLength: 210, maxLength: 210 }),
        ({ m, n, k, tables, rowTable, codes }, floats) => {
          const { weights } = weightsOf(tables, rowTable, codes, k, [1]);
          const xs = Float32Array.from({ length: m * k }, (_, i) => floats[i % floats.length]!);
          const out = new Float32Array(m * n);
          logGemm(xs, 0, m, weights, 0, n, output(out, n));
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              const { sum, magnitude } = reference(xs, weights, i, j);
              expect(Math.abs(out[i * n + j]! - sum)).toBeLessThanOrEqual(2 ** -23 * magnitude + 2 ** -149);
            }
          }
        },
      ),
    );
  });
});
