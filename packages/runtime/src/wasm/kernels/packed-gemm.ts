import type { BinaryWeights } from '../../js/kernels/packed-binary-gemm.js';
import { LOG_TABLE_SIZE, type LogWeights } from '../../js/kernels/packed-log-gemm.js';
import type { WasmSimdHandle } from '../backend.js';

// The packed weights of the ai.quantkit kernels moved into the wasm-simd backend's heap, in packed.wat's layouts,
// and one GEMM of activations already in the heap by them, in each form the JS kernels have (see packed-kernels.ts
// in src/js/kernels for which form runs when):
// - 'sign':  binary weights, float activations            -> sign_gemm (table of nibble sums, f32x4)
// - 'xnor':  binary weights, binarized activations        -> binarize_rows, xnor_gemm (i8x16.popcnt), xnor_epilogue
// - 'log':   log weights, float activations               -> log_gemm (rows decoded through their tables, f32x4)
// - 'shift': log weights, 8-bit integer activations        -> i16_gemm + shift_epilogue when the plan fits int16
//                                                             weights, else shift_add_rows (4 rows per i32x4.shl)
//                                                             or, for one row, shift_add_gemm (the JS loop)

/** Weight rows per tile of packed.wat's GEMMs (and activation rows per i32x4 of shift_add_rows). */
const TILE_ROWS = 4;
/** Bits per binary vector (one v128). */
const VECTOR_BITS = 128;
/** Bytes of sign_gemm's table (8 words of K: 64 groups of 16 v128 entries). */
const SIGN_TABLE_BYTES = 64 * 16 * 16;
/** The vector shift-add form runs plans of at most this many buckets (its work grows with each bucket's stream). */
const VECTOR_SHIFT_BUCKETS = 4;
/** Largest shift of an int16 weight 2^shift of the vector shift-add form (2^15 does not fit). */
const VECTOR_SHIFT_LIMIT = 14;
/** Activation rows per call of shift_add_rows (its transposed rows and accumulators stay in cache). */
const SHIFT_ROWS_BLOCK = 64;

/** Binary weights in the heap: rows (and 3 zero rows) of `vecs` v128 of bits. */
export interface HeapBinaryWeights {
  readonly format: 'binary';
  readonly k: number;
  readonly vecs: number;
  /** Bytes per row, `vecs * 16`. */
  readonly rowBytes: number;
  readonly bits: number;
  /** One float32 alpha per row. */
  readonly alpha: number;
}

/** What the shift-add forms read: the plan's tables, and the int16 bucket streams when the vector form runs. */
export interface HeapShiftPlan {
  readonly buckets: number;
  /** 256 packed int32 entries per table (see LogShiftPlan). */
  readonly entry: number;
  /** `buckets` float64 scales per table. */
  readonly bucketScale: number;
  /** For the vector form: `rows * buckets` streams (and 3 zero streams) of `kPadded` int16. */
  readonly vector: { readonly streams: number; readonly kPadded: number } | undefined;
}

/** Log weights in the heap: rows of k code bytes, each row's table index, and the tables' float32 levels. */
export interface HeapLogWeights {
  readonly format: 'log';
  readonly k: number;
  readonly codes: number;
  /** One int32 table index per row. */
  readonly rowTable: number;
  readonly levels: number;
  /**
   * When every code is below 16: per table the 16 levels' bytes as 4 planes of 16 bytes (byte b of level c at
   * 16 b + c), for log_gemm's vector decode; else 0.
   */
  readonly planes: number;
  /** Undefined when the weights only meet float activations (or the JS weights have no plan: rows too long). */
  readonly shift: HeapShiftPlan | undefined;
}

export type HeapPackedWeights = HeapBinaryWeights | HeapLogWeights;

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

function paddedRows(rows: number): number {
  return Math.ceil(rows / TILE_ROWS) * TILE_ROWS;
}

/**
 * Rows to allocate for a matrix of `rows` rows: tiles read 4 rows from any first row (a Conv group's), so up to 3
 * rows past the last one are read (and their results dropped); they are zeros.
 */
function allocatedRows(rows: number): number {
  return rows + TILE_ROWS - 1;
}

/** Allocates blocks of the given sizes; returns their offsets. */
function allocate(handle: WasmSimdHandle, sizes: readonly number[]): number[] {
  return sizes.map((size) => handle.heap.allocate(size));
}

/**
 * Moves binary weights of `rows` rows into the heap, in rows of whole v128 with the bits past K cleared (the JS
 * layout leaves them unspecified), and 3 zero rows after them. The blocks are freed when the returned object is
 * collected: kernel states must keep it.
 */
export function binaryWeightsToHeap(
  handle: WasmSimdHandle,
  weights: BinaryWeights,
  rows: number,
): HeapBinaryWeights {
  const { k, wordsPerRow } = weights;
  const vecs = Math.ceil(k / VECTOR_BITS);
  const rowWords = vecs * 4;
  const [bits, alpha] = allocate(handle, [allocatedRows(rows) * rowWords * 4, rows * 4]) as [number, number];
  const words = new Uint32Array(handle.heap.buffer, bits, allocatedRows(rows) * rowWords);
  words.fill(0);
  const lastBits = k & 31;
  const lastMask = lastBits === 0 ? 0xffffffff : (1 << lastBits) - 1;
  for (let row = 0; row < rows; row++) {
    const from = row * wordsPerRow;
    words.set(weights.bits.subarray(from, from + wordsPerRow), row * rowWords);
    if (wordsPerRow > 0) words[row * rowWords + wordsPerRow - 1]! &= lastMask;
  }
  new Float32Array(handle.heap.buffer, alpha, rows).set(weights.alpha.subarray(0, rows));
  const moved: HeapBinaryWeights = { format: 'binary', k, vecs, rowBytes: vecs * 16, bits, alpha };
  handle.heap.freeWith(moved, [bits, alpha]);
  return moved;
}

/**
 * Moves log weights of `rows` rows into the heap; with `shift`, also their shift plan, and the int16 bucket
 * streams of the vector form when the plan fits it (at most 4 buckets, shifts up to 14). The blocks are freed
 * when the returned object is collected: kernel states must keep it.
 */
export function logWeightsToHeap(
  handle: WasmSimdHandle,
  weights: LogWeights,
  rows: number,
  shift: boolean,
): HeapLogWeights {
  const { k, codes, rowTable, levels, shiftPlan } = weights;
  let largestCode = 0;
  for (let index = 0; index < rows * k; index++) largestCode = Math.max(largestCode, codes[index]!);
  const tables = levels.length / LOG_TABLE_SIZE;
  const [codesAt, rowTableAt, levelsAt, planesAt] = allocate(handle, [
    rows * k,
    rows * 4,
    levels.length * 4,
    largestCode < 16 ? tables * 64 : 0,
  ]) as [number, number, number, number];
  new Uint8Array(handle.heap.buffer, codesAt, rows * k).set(codes.subarray(0, rows * k));
  new Int32Array(handle.heap.buffer, rowTableAt, rows).set(rowTable.subarray(0, rows));
  new Float32Array(handle.heap.buffer, levelsAt, levels.length).set(levels);
  if (largestCode < 16) {
    const levelBytes = new Uint8Array(levels.buffer, levels.byteOffset, levels.byteLength);
    const planes = new Uint8Array(handle.heap.buffer, planesAt, tables * 64);
    for (let table = 0; table < tables; table++) {
      for (let code = 0; code < 16; code++) {
        for (let byte = 0; byte < 4; byte++) {
          planes[table * 64 + byte * 16 + code] = levelBytes[(table * LOG_TABLE_SIZE + code) * 4 + byte]!;
        }
      }
    }
  }
  const blocks = [codesAt, rowTableAt, levelsAt, planesAt];
  const plan = shift && shiftPlan !== undefined ? shiftPlanToHeap(handle, weights, rows, blocks) : undefined;
  const moved: HeapLogWeights = {
    format: 'log',
    k,
    codes: codesAt,
    rowTable: rowTableAt,
    levels: levelsAt,
    planes: largestCode < 16 ? planesAt : 0,
    shift: plan,
  };
  handle.heap.freeWith(moved, blocks);
  return moved;
}

/** The shift plan (and the vector form's streams) in the heap; the blocks' offsets are added to `blocks`. */
function shiftPlanToHeap(
  handle: WasmSimdHandle,
  weights: LogWeights,
  rows: number,
  blocks: number[],
): HeapShiftPlan {
  const { k, codes, rowTable } = weights;
  const { entry, buckets, bucketScale } = weights.shiftPlan!;
  let largestShift = 0;
  for (const packed of entry) if (packed & KEEP_BIT) largestShift = Math.max(largestShift, packed & 31);
  const vectorFits = buckets <= VECTOR_SHIFT_BUCKETS && largestShift <= VECTOR_SHIFT_LIMIT;
  const kPadded = Math.ceil(k / 8) * 8;
  const streams = allocatedRows(rows * buckets);
  const [entryAt, scaleAt, streamsAt] = allocate(handle, [
    entry.length * 4,
    bucketScale.length * 8,
    vectorFits ? streams * kPadded * 2 : 0,
  ]) as [number, number, number];
  blocks.push(entryAt, scaleAt, streamsAt);
  const buffer = handle.heap.buffer;
  new Int32Array(buffer, entryAt, entry.length).set(entry);
  new Float64Array(buffer, scaleAt, bucketScale.length).set(bucketScale);
  if (vectorFits) {
    // Weight (row, p) is +-2^shift in the stream of its bucket, 0 in the others.
    const values = new Int16Array(buffer, streamsAt, streams * kPadded);
    values.fill(0);
    for (let row = 0; row < rows; row++) {
      const entries = rowTable[row]! * LOG_TABLE_SIZE;
      for (let p = 0; p < k; p++) {
        const packed = entry[entries + codes[row * k + p]!]!;
        if ((packed & KEEP_BIT) === 0) continue;
        const magnitude = 1 << (packed & 31);
        const stream = row * buckets + (packed >>> BUCKET_SHIFT);
        values[stream * kPadded + p] = packed & NEGATE_BIT ? -magnitude : magnitude;
      }
    }
  }
  return {
    buckets,
    entry: entryAt,
    bucketScale: scaleAt,
    vector: vectorFits ? { streams: streamsAt, kPadded } : undefined,
  };
}

// The packed entry bits of LogShiftPlan (src/js/kernels/packed-log-gemm.ts).
const KEEP_BIT = 1 << 5;
const NEGATE_BIT = 1 << 6;
const BUCKET_SHIFT = 7;

/** Which GEMM a product runs. */
export type PackedForm = 'sign' | 'xnor' | 'log' | 'shift';

/** How activations are binarized for the 'xnor' form: mean |x| per row, or this one scale for all rows. */
export type BinarizeScale = 'row' | number;

/**
 * One product of a kernel run, its operands in the heap: `m` rows of K activations at `x` (float32; int16 for
 * 'shift'), by weight rows [firstRow, firstRow + n), output (i, j) written at `out + 4 * (i * rowStride + j *
 * colStride)`; `valid` (0 for none) points to one byte per activation, 0 for a Conv patch's padding ('xnor').
 */
export interface HeapProduct {
  readonly x: number;
  readonly m: number;
  readonly firstRow: number;
  readonly n: number;
  readonly out: number;
  readonly rowStride: number;
  readonly colStride: number;
  readonly valid: number;
}

/** Bytes of the workspace {@link runProduct} needs for a product of up to m rows and n weight rows. */
export function workspaceBytes(
  weights: HeapPackedWeights,
  form: PackedForm,
  m: number,
  n: number,
  masked: boolean,
): number {
  const columns = paddedRows(n);
  switch (form) {
    case 'sign':
      return SIGN_TABLE_BYTES + columns * 16;
    case 'xnor': {
      const rows = align(m * (weights as HeapBinaryWeights).rowBytes);
      return rows * (masked ? 2 : 1) + 2 * align(m * 4) + align(m * columns * 4);
    }
    case 'log':
      return 16 * Math.ceil(weights.k / 4) * 4 + 32;
    case 'shift': {
      const shift = (weights as HeapLogWeights).shift!;
      if (shift.vector !== undefined) return m * paddedRows(n * shift.buckets) * 4;
      if (m === 1) return shift.buckets * 4;
      const rows = paddedRows(Math.min(m, SHIFT_ROWS_BLOCK));
      return align(weights.k * rows * 4) + shift.buckets * rows * 4;
    }
  }
}

/**
 * Computes one product into the heap (see {@link HeapProduct}) in `form`, with `workspace` bytes of scratch at
 * `workspace` ({@link workspaceBytes}).
 */
export function runProduct(
  handle: WasmSimdHandle,
  weights: HeapPackedWeights,
  form: PackedForm,
  product: HeapProduct,
  workspace: number,
  binarize: BinarizeScale,
): void {
  const { packed } = handle;
  const { x, m, firstRow, n, out, rowStride, colStride, valid } = product;
  if (m === 0 || n === 0) return;
  if (weights.format === 'binary') {
    const { k, vecs, rowBytes } = weights;
    const w = weights.bits + firstRow * rowBytes;
    const alpha = weights.alpha + firstRow * 4;
    if (form === 'sign') {
      const sums = workspace + SIGN_TABLE_BYTES;
      packed.sign_gemm(x, m, k, w, rowBytes, n, workspace, sums, alpha, out, rowStride, colStride);
      return;
    }
    const rows = align(m * rowBytes);
    const bits = workspace;
    const mask = valid === 0 ? 0 : bits + rows;
    const counts = bits + (valid === 0 ? rows : 2 * rows);
    const scales = counts + align(m * 4);
    const c = scales + align(m * 4);
    const ldc = paddedRows(n);
    const perRow = binarize === 'row' ? 1 : 0;
    packed.binarize_rows(
      x,
      m,
      k,
      perRow,
      perRow ? 0 : (binarize as number),
      valid,
      bits,
      mask,
      vecs,
      counts,
      scales,
    );
    packed.xnor_gemm(bits, mask, m, w, n, vecs, c, ldc);
    packed.xnor_epilogue(c, ldc, m, n, counts, scales, alpha, out, rowStride, colStride);
    return;
  }
  const { k } = weights;
  const codes = weights.codes + firstRow * k;
  const rowTable = weights.rowTable + firstRow * 4;
  if (form === 'log') {
    packed.log_gemm(
      x,
      m,
      k,
      codes,
      rowTable,
      weights.levels,
      weights.planes,
      n,
      workspace,
      out,
      rowStride,
      colStride,
    );
    return;
  }
  const shift = weights.shift!;
  const { buckets, entry, bucketScale, vector } = shift;
  if (vector === undefined && m > 1) {
    // Blocks of rows, transposed so that each weight's shift applies to 4 rows at once.
    for (let first = 0; first < m; first += SHIFT_ROWS_BLOCK) {
      const rows = Math.min(SHIFT_ROWS_BLOCK, m - first);
      const rowsPadded = paddedRows(rows);
      const accumulators = workspace + align(k * rowsPadded * 4);
      packed.transpose_i16(x + first * k * 2, rows, k, rowsPadded, workspace);
      packed.shift_add_rows(
        workspace,
        rowsPadded,
        rows,
        k,
        codes,
        rowTable,
        entry,
        buckets,
        bucketScale,
        accumulators,
        n,
        out + first * rowStride * 4,
        rowStride,
        colStride,
      );
    }
    return;
  }
  if (vector === undefined) {
    packed.shift_add_gemm(
      x,
      m,
      k,
      codes,
      rowTable,
      entry,
      buckets,
      bucketScale,
      workspace,
      n,
      out,
      rowStride,
      colStride,
    );
    return;
  }
  const streams = vector.streams + firstRow * buckets * vector.kPadded * 2;
  const ldc = paddedRows(n * buckets);
  packed.i16_gemm(x, m, k, streams, vector.kPadded, n * buckets, workspace, ldc);
  packed.shift_epilogue(workspace, ldc, m, n, buckets, rowTable, bucketScale, out, rowStride, colStride);
}
