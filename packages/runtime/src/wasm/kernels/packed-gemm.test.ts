// The WebAssembly packed GEMMs against the JS kernels' functions (src/js/kernels/packed-*-gemm.ts) on random shapes
// and values: the integer forms (XNOR-popcount, shift-add) must agree exactly, the float forms (sign-bit table,
// log levels) within float32 rounding of their sums.
import { createSeededRandom } from '@quantkit/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BinarizeScale as JsBinarizeScale,
  type BinaryWeights,
  binarizeRows,
  binaryGemm,
  xnorPopcountGemm,
} from '../../js/kernels/packed-binary-gemm.js';
import {
  LOG_TABLE_SIZE,
  type LogLevel,
  type LogWeights,
  logGemm,
  logShiftAddGemm,
  logShiftPlan,
} from '../../js/kernels/packed-log-gemm.js';
import { type WasmSimdHandle, wasmSimdBackend } from '../backend.js';
import {
  type HeapLogWeights,
  type HeapPackedWeights,
  type PackedForm,
  binaryWeightsToHeap,
  logWeightsToHeap,
  runProduct,
  workspaceBytes,
} from './packed-gemm.js';

let handle: WasmSimdHandle;
beforeAll(async () => {
  handle = await wasmSimdBackend.init();
});

/** One product shape: m activation rows, n of `rows` weight rows from firstRow, K, the output transposed or not. */
interface Shape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly firstRow: number;
  readonly rows: number;
  readonly transposed: boolean;
  readonly seed: number;
}

/** K around and between multiples of 4, 8, 32, 128 and 256 (sign_gemm's table chunk). */
const shapes = fc
  .record({
    m: fc.integer({ min: 1, max: 9 }),
    n: fc.integer({ min: 1, max: 9 }),
    k: fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      fc.constantFrom(1, 7, 31, 32, 33, 127, 128, 129, 255, 257, 511, 513),
    ),
    extraRows: fc.integer({ min: 0, max: 6 }),
    firstRow: fc.integer({ min: 0, max: 6 }),
    transposed: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  })
  .map(({ m, n, k, extraRows, firstRow, transposed, seed }): Shape => {
    const first = Math.min(firstRow, extraRows);
    return { m, n, k, firstRow: first, rows: n + extraRows, transposed, seed };
  });

function outputOf(shape: Shape, out: Float32Array) {
  return shape.transposed
    ? { out, offset: 0, rowStride: 1, columnStride: shape.m }
    : { out, offset: 0, rowStride: shape.n, columnStride: 1 };
}

/**
 * Runs one product in the wasm form on heap copies of x (float32, or int16 for 'shift'; `valid` bytes for
 * 'xnor'), returning the output laid out as {@link outputOf} says.
 */
function runWasm(
  weights: HeapPackedWeights,
  form: PackedForm,
  shape: Shape,
  x: Float32Array | Int8Array | Uint8Array,
  binarize: JsBinarizeScale = 'row',
  valid?: Uint8Array,
): Float32Array {
  const { heap } = handle;
  const { m, n, firstRow, transposed } = shape;
  const xBytes = Math.ceil((x.length * (form === 'shift' ? 2 : 4)) / 64) * 64 + 64;
  const outBytes = Math.ceil((m * n * 4) / 64) * 64;
  const validBytes = valid === undefined ? 0 : Math.ceil(valid.length / 64) * 64 + 64;
  const base = heap.scratch(
    xBytes + outBytes + validBytes + workspaceBytes(weights, form, m, n, valid !== undefined),
  );
  if (form === 'shift') new Int16Array(heap.buffer, base, x.length).set(x);
  else new Float32Array(heap.buffer, base, x.length).set(x);
  const outAt = base + xBytes;
  const validAt = valid === undefined ? 0 : outAt + outBytes;
  if (valid !== undefined) new Uint8Array(heap.buffer, validAt, valid.length).set(valid);
  // Poison the output, so an element the GEMM leaves out shows.
  new Float32Array(heap.buffer, outAt, m * n).fill(Number.NaN);
  runProduct(
    handle,
    weights,
    form,
    {
      x: base,
      m,
      firstRow,
      n,
      out: outAt,
      rowStride: transposed ? 1 : n,
      colStride: transposed ? m : 1,
      valid: validAt,
    },
    validAt === 0 ? outAt + outBytes : validAt + validBytes,
    binarize,
  );
  return new Float32Array(heap.buffer, outAt, m * n).slice();
}

function randomFloats(length: number, random: () => number, low = -2, high = 2): Float32Array {
  return Float32Array.from({ length }, () => low + (high - low) * random());
}

/** Binary weights of `rows` rows; `padding` fills the bits past K with random bits (binaryGemm ignores them). */
function randomBinaryWeights(rows: number, k: number, random: () => number, padding: boolean): BinaryWeights {
  const wordsPerRow = (k + 31) >>> 5;
  const bits = Uint32Array.from({ length: rows * wordsPerRow }, () => Math.floor(random() * 2 ** 32));
  if (!padding && (k & 31) !== 0) {
    for (let row = 0; row < rows; row++) bits[row * wordsPerRow + wordsPerRow - 1]! &= (1 << (k & 31)) - 1;
  }
  const alpha = randomFloats(rows, random, 0.01, 2);
  return { bits, k, wordsPerRow, alpha };
}

function expectEqual(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      expect.fail(`element ${i} is ${actual[i]}, the JS kernel's ${expected[i]}`);
    }
  }
}

/** |actual - expected| <= (K + 4) * 2^-24 * magnitude per element: a float32 sum of K terms against float64. */
function expectClose(actual: Float32Array, expected: Float32Array, magnitude: Float64Array, k: number): void {
  for (let i = 0; i < expected.length; i++) {
    const bound = (k + 4) * 2 ** -24 * magnitude[i]! + 1e-37;
    if (!(Math.abs(actual[i]! - expected[i]!) <= bound)) {
      expect.fail(`element ${i} is ${actual[i]}, the JS kernel's ${expected[i]} (bound ${bound})`);
    }
  }
}

describe('sign_gemm (binary weights, float activations) against binaryGemm', () => {
  it('agrees within float32 rounding for random shapes, whatever the padding bits hold', () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const { m, n, k, firstRow, rows } = shape;
        const random = createSeededRandom(shape.seed);
        const weights = randomBinaryWeights(rows, k, random, true);
        const x = randomFloats(m * k, random);
        const expected = new Float32Array(m * n);
        binaryGemm(x, 0, m, weights, firstRow, n, outputOf(shape, expected));
        const moved = binaryWeightsToHeap(handle, weights, rows);
        const actual = runWasm(moved, 'sign', shape, x);
        // sum_p |x| * alpha bounds each output's terms.
        const magnitude = new Float64Array(m * n);
        const target = outputOf(shape, new Float32Array(0));
        for (let i = 0; i < m; i++) {
          let sum = 0;
          for (let p = 0; p < k; p++) sum += Math.abs(x[i * k + p]!);
          for (let j = 0; j < n; j++) {
            magnitude[i * target.rowStride + j * target.columnStride] = sum * weights.alpha[firstRow + j]!;
          }
        }
        expectClose(actual, expected, magnitude, k);
      }),
      { numRuns: 150 },
    );
  });
});

describe('binarize_rows + xnor_gemm (both operands binary) against binarizeRows + xnorPopcountGemm', () => {
  const cases = shapes.chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      scale: fc.oneof(fc.constant<'row'>('row'), fc.double({ min: 0.01, max: 3, noNaN: true })),
      masked: fc.boolean(),
    }),
  );

  it('agrees exactly for random shapes, scales per row or per tensor, with and without padding masks', () => {
    fc.assert(
      fc.property(cases, ({ shape, scale, masked }) => {
        const { m, n, k, firstRow, rows } = shape;
        const random = createSeededRandom(shape.seed);
        const weights = randomBinaryWeights(rows, k, random, false);
        // Zeros and negative zeros among the values: sign(0) is +1 either way.
        const x = Float32Array.from(randomFloats(m * k, random), (value, i) =>
          i % 7 === 3 ? 0 : i % 11 === 5 ? -0 : value,
        );
        const valid = masked ? Uint8Array.from({ length: m * k }, () => (random() < 0.7 ? 1 : 0)) : undefined;
        const expected = new Float32Array(m * n);
        const activations = binarizeRows(x, 0, m, k, scale, valid);
        xnorPopcountGemm(activations, m, weights, firstRow, n, outputOf(shape, expected));
        const moved = binaryWeightsToHeap(handle, weights, rows);
        expectEqual(runWasm(moved, 'xnor', shape, x, scale, valid), expected);
      }),
      { numRuns: 150 },
    );
  });

  it('agrees exactly past 31 vectors per row, where the byte counters are flushed', () => {
    for (const k of [31 * 128, 31 * 128 + 1, 62 * 128 + 77]) {
      const shape: Shape = { m: 3, n: 5, k, firstRow: 1, rows: 7, transposed: false, seed: k };
      const random = createSeededRandom(k);
      const weights = randomBinaryWeights(shape.rows, k, random, false);
      // All signs equal or all opposite in some rows: counts of every element reach the flush limits.
      const x = randomFloats(3 * k, random);
      x.fill(1, 0, k);
      x.fill(-1, k, 2 * k);
      weights.bits.fill(0xffffffff, 0, weights.wordsPerRow * 2);
      weights.bits[weights.wordsPerRow * 2 - 1] = 2 ** (k & 31 || 32) - 1;
      weights.bits[weights.wordsPerRow - 1] = 2 ** (k & 31 || 32) - 1;
      const expected = new Float32Array(15);
      xnorPopcountGemm(binarizeRows(x, 0, 3, k, 'row'), 3, weights, 1, 5, outputOf(shape, expected));
      expectEqual(runWasm(binaryWeightsToHeap(handle, weights, shape.rows), 'xnor', shape, x), expected);
      const allSame = new Float32Array(1);
      xnorPopcountGemm(
        binarizeRows(x, 0, 1, k, 1),
        1,
        weights,
        0,
        1,
        outputOf({ ...shape, m: 1, n: 1 }, allSame),
      );
      expect(allSame[0]).toBe(Math.fround(weights.alpha[0]! * k));
    }
  });
});

/** NNIE's factors, float32(2^(r/16)). */
const SIXTEENTHS = Array.from({ length: 16 }, (_, r) => Math.fround(2 ** (r / 16)));

/**
 * Random log weights of `rows` rows: `tables` tables of `levelCount` levels with exponents from `low` over
 * `spread` octaves, one factor ('log') or sixteen ('log-nnie'), and their shift plan for K.
 */
function randomLogWeights(
  rows: number,
  k: number,
  random: () => number,
  settings: { tables: number; levelCount: number; spread: number; factors: readonly number[] },
): LogWeights {
  const { tables, levelCount, spread, factors } = settings;
  const levelTables: LogLevel[][] = Array.from({ length: tables }, () => {
    const low = -40 + Math.floor(random() * 40);
    return Array.from({ length: levelCount }, (_, code) => ({
      zero: code === 0 || random() < 0.1,
      negative: random() < 0.5,
      exponent: low + Math.floor(random() * (spread + 1)),
      factor: Math.floor(random() * factors.length),
    }));
  });
  const levels = new Float32Array(tables * LOG_TABLE_SIZE);
  levelTables.forEach((table, t) => {
    table.forEach((level, code) => {
      if (level.zero) return;
      const magnitude = Math.fround(2 ** level.exponent * factors[level.factor]!);
      levels[t * LOG_TABLE_SIZE + code] = level.negative ? -magnitude : magnitude;
    });
  });
  const codes = Uint8Array.from({ length: rows * k }, () => Math.floor(random() * levelCount));
  const rowTable = Int32Array.from({ length: rows }, () => Math.floor(random() * tables));
  return { codes, k, levels, rowTable, shiftPlan: logShiftPlan(levelTables, factors, k) };
}

const logSettings = fc.record({
  tables: fc.integer({ min: 1, max: 3 }),
  levelCount: fc.constantFrom(4, 8, 16, 256),
  // Narrow spreads fit one bucket and int16 weights; wide ones take several windows.
  spread: fc.oneof(fc.integer({ min: 0, max: 14 }), fc.integer({ min: 15, max: 126 })),
  factors: fc.constantFrom<readonly number[]>([1], SIXTEENTHS),
});

describe('log_gemm (log weights, float activations) against logGemm', () => {
  it('agrees within float32 rounding for random shapes and tables', () => {
    fc.assert(
      fc.property(shapes, logSettings, (shape, settings) => {
        const { m, n, k, firstRow, rows } = shape;
        const random = createSeededRandom(shape.seed);
        const weights = randomLogWeights(rows, k, random, settings);
        const x = randomFloats(m * k, random);
        const expected = new Float32Array(m * n);
        logGemm(x, 0, m, weights, firstRow, n, outputOf(shape, expected));
        const actual = runWasm(logWeightsToHeap(handle, weights, rows, false), 'log', shape, x);
        const magnitude = new Float64Array(m * n);
        const target = outputOf(shape, new Float32Array(0));
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            const table = weights.rowTable[firstRow + j]! * LOG_TABLE_SIZE;
            let sum = 0;
            for (let p = 0; p < k; p++) {
              sum += Math.abs(
                x[i * k + p]! * weights.levels[table + weights.codes[(firstRow + j) * k + p]!]!,
              );
            }
            magnitude[i * target.rowStride + j * target.columnStride] = sum;
          }
        }
        expectClose(actual, expected, magnitude, k);
      }),
      { numRuns: 120 },
    );
  });
});

/** Log weights in the heap with the vector shift-add form turned off (the blocks stay owned by `moved`). */
function withoutVectorForm(moved: HeapLogWeights): HeapLogWeights {
  return { ...moved, shift: { ...moved.shift!, vector: undefined } };
}

describe('the shift-add forms (log weights, 8-bit activations) against logShiftAddGemm', () => {
  it('agree exactly: i16_gemm where the plan fits it, and shift_add_rows (m > 1) or shift_add_gemm always', () => {
    let vectorRuns = 0;
    fc.assert(
      fc.property(shapes, logSettings, fc.boolean(), (shape, settings, signed) => {
        const { m, n, k, firstRow, rows } = shape;
        const random = createSeededRandom(shape.seed);
        const weights = randomLogWeights(rows, k, random, settings);
        const x = signed
          ? Int8Array.from({ length: m * k }, () => Math.floor(random() * 256) - 128)
          : Uint8Array.from({ length: m * k }, () => Math.floor(random() * 256));
        // Extreme activations in some rows: the int32 sums' limits.
        if (m > 1) x.fill(signed ? -128 : 255, 0, k);
        const expected = new Float32Array(m * n);
        logShiftAddGemm(x, 0, m, weights, firstRow, n, outputOf(shape, expected));
        const moved = logWeightsToHeap(handle, weights, rows, true);
        const plan = moved.shift!;
        if (plan.vector !== undefined) {
          vectorRuns++;
          expectEqual(runWasm(moved, 'shift', shape, x), expected);
        }
        expectEqual(runWasm(withoutVectorForm(moved), 'shift', shape, x), expected);
        // `moved` owns the heap blocks `scalar` reads: keep it alive until here.
        expect(moved.format).toBe('log');
      }),
      { numRuns: 150 },
    );
    expect(vectorRuns).toBeGreaterThan(10);
  });

  it('agree exactly over several blocks of 64 rows (shift_add_rows), log-nnie-like plans with 16 factors', () => {
    for (const [m, transposed] of [
      [130, false],
      [67, true],
    ] as const) {
      const shape: Shape = { m, n: 6, k: 45, firstRow: 2, rows: 9, transposed, seed: m };
      const random = createSeededRandom(m);
      const settings = { tables: 2, levelCount: 256, spread: 8, factors: SIXTEENTHS };
      const weights = randomLogWeights(shape.rows, shape.k, random, settings);
      const x = Int8Array.from({ length: m * shape.k }, () => Math.floor(random() * 256) - 128);
      const expected = new Float32Array(m * shape.n);
      logShiftAddGemm(x, 0, m, weights, shape.firstRow, shape.n, outputOf(shape, expected));
      const moved = logWeightsToHeap(handle, weights, shape.rows, true);
      expect(moved.shift!.vector).toBeUndefined();
      expectEqual(runWasm(moved, 'shift', shape, x), expected);
    }
  });
});
