import { type KernelNode, QuantError, type Tensor, listChoices, sizeOf } from '@quantkit/core';
import type { BinaryWeights } from './packed-binary-gemm.js';
import { LOG_TABLE_SIZE, type LogLevel, type LogWeights, logShiftPlan } from './packed-log-gemm.js';

// What `quantkit quantize --format packed` writes (QdqEmitter.packWeight): the op keeps its type, moves to domain
// ai.quantkit, its weight input becomes uint8 bytes, and attributes say how to read them: weight_format,
// weight_shape (the logical weight shape), weight_scale (float tensor) and weight_<key> for the format's facts.
// The formats are the quantizers' own (packages/quantizer-binary/src/binary-packing.ts,
// packages/quantizer-log/src/log-packing.ts and nnie-log-packing.ts); this file reads them independently of
// those packages, validates them once, and re-packs them into the compute layouts of packed-binary-gemm.ts and
// packed-log-gemm.ts.

/** Sign bits in rows along weight_axis, MSB first, rows padded to a byte (format of the binary quantizer). */
export const BINARY_FORMAT = 'binary-1bit';
/** Sign + exponent index codes of 3 to 8 bits, two per byte up to 4 bits (format of the log quantizer). */
export const LOG_FORMAT = 'log';
/** NNIE 8-bit sign-magnitude log codes, 16 steps per octave (format of the log-nnie quantizer). */
export const NNIE_FORMAT = 'log-nnie';
/** The weight formats the packed kernels read. */
export const PACKED_FORMATS: readonly string[] = [BINARY_FORMAT, LOG_FORMAT, NNIE_FORMAT];

/**
 * How the op sees its weight as a GEMM operand: `batches` stacks of `n` output rows of `k` elements, element
 * (batch, row, column) at logical flat index `batch * batchStride + row * nStride + column * kStride`;
 * `outputAxis` is the weight axis of the output rows (per-channel scales must lie along it).
 */
export interface MatrixView {
  readonly batches: number;
  readonly n: number;
  readonly k: number;
  readonly batchStride: number;
  readonly nStride: number;
  readonly kStride: number;
  /** Undefined when the weight has no output axis (a 1-D MatMul operand). */
  readonly outputAxis: number | undefined;
}

/** A packed weight in its compute layout: `batches * n` rows of `k`, row `batch * n + j`. */
export type PackedMatrix = {
  /** The logical weight shape (weight_shape). */
  readonly shape: readonly number[];
  readonly batches: number;
  readonly n: number;
} & (
  | { readonly format: 'binary'; readonly weights: BinaryWeights }
  | { readonly format: 'log'; readonly weights: LogWeights }
);

function invalid(node: KernelNode, message: string): QuantError {
  return new QuantError('INVALID_MODEL', `${node.label}: ${message}`);
}

/** The packed weight format a node declares, or why the packed kernels cannot run it. */
export function packedFormatProblem(node: KernelNode, slot: number): string | undefined {
  const format = node.attributes.get('weight_format');
  if (format?.type !== 'string') return 'it has no string attribute "weight_format"';
  if (!PACKED_FORMATS.includes(format.value)) {
    return `weight_format "${format.value}" is none of ${listChoices(PACKED_FORMATS)}`;
  }
  const weight = node.inputs[slot];
  if (weight?.constant === undefined) return `its packed weight (input ${slot}) is not an initializer`;
  if (weight.constant.dtype !== 'uint8') return `its packed weight is ${weight.constant.dtype}, not uint8`;
  return undefined;
}

/**
 * Reads, validates and re-packs a node's packed weight (input `slot`) into its compute layout. `view` says how the
 * op multiplies by the weight, from its logical shape (it throws for a shape the op cannot take).
 *
 * @example
 * const matrix = preparePackedMatrix(node, 1, (shape) => matMulView(node, shape));
 * @throws QuantError INVALID_MODEL naming the node and the attribute that is missing or disagrees with the data;
 * UNSUPPORTED for a valid layout these kernels do not run (per-channel scales along another axis than the
 * output channels).
 */
export function preparePackedMatrix(
  node: KernelNode,
  slot: number,
  view: (shape: readonly number[]) => MatrixView,
): PackedMatrix {
  const problem = packedFormatProblem(node, slot);
  if (problem !== undefined) throw new QuantError('UNSUPPORTED', `${node.label}: ${problem}`);
  const { attributes } = node;
  const format = attributes.string('weight_format');
  const shape = attributes.ints('weight_shape');
  if (shape.some((dim) => !Number.isInteger(dim) || dim < 0)) {
    throw invalid(node, `attribute "weight_shape" [${shape.join(', ')}] has a dimension that is not a size`);
  }
  const data = node.inputs[slot]!.constant!.data as Uint8Array;
  const scale = attributes.tensor('weight_scale');
  if (scale.dtype !== 'float32') {
    throw invalid(node, `attribute "weight_scale" is a ${scale.dtype} tensor; expected float32`);
  }
  const matrix = view(shape);
  const common = { shape, batches: matrix.batches, n: matrix.n };
  if (format === BINARY_FORMAT) {
    return { ...common, format: 'binary', weights: binaryWeights(node, shape, data, scale, matrix) };
  }
  return {
    ...common,
    format: 'log',
    weights:
      format === LOG_FORMAT
        ? logWeights(node, shape, data, scale, matrix)
        : nnieWeights(node, shape, data, scale, matrix),
  };
}

function integerAttribute(node: KernelNode, name: string, low: number, high: number): number {
  const value = node.attributes.int(name);
  if (!Number.isInteger(value) || value < low || value > high) {
    throw invalid(node, `attribute "${name}" is ${value}; expected an integer from ${low} to ${high}`);
  }
  return value;
}

function granularityOf(node: KernelNode): 'tensor' | 'channel' {
  const granularity = node.attributes.string('weight_granularity');
  if (granularity !== 'tensor' && granularity !== 'channel') {
    throw invalid(
      node,
      `attribute "weight_granularity" is "${granularity}"; expected ${listChoices(['tensor', 'channel'])}`,
    );
  }
  return granularity;
}

/** Per-channel scales must run along the op's output channels: the kernels scale whole output rows. */
function checkChannelAxis(node: KernelNode, axis: number, view: MatrixView, shape: readonly number[]): void {
  if (axis === view.outputAxis) return;
  throw new QuantError(
    'UNSUPPORTED',
    `${node.label}: per-channel scales along weight_axis ${axis} of weight_shape [${shape.join(', ')}]; ` +
      (view.outputAxis === undefined
        ? 'this weight has no output-channel axis'
        : `the packed kernels need them along the output-channel axis ${view.outputAxis}`),
  );
}

function checkScaleCount(node: KernelNode, scale: Tensor, expected: number, what: string): void {
  if (scale.data.length !== expected) {
    throw invalid(
      node,
      `attribute "weight_scale" holds ${scale.data.length} values; ${what} needs ${expected}`,
    );
  }
}

/** The logical flat index of each (batch, row, column) of the view, in compute order. */
function forEachElement(view: MatrixView, visit: (row: number, column: number, flat: number) => void): void {
  for (let batch = 0; batch < view.batches; batch++) {
    for (let j = 0; j < view.n; j++) {
      const row = batch * view.n + j;
      const base = batch * view.batchStride + j * view.nStride;
      for (let p = 0; p < view.k; p++) visit(row, p, base + p * view.kStride);
    }
  }
}

/**
 * 'binary-1bit': attributes axis, rows, rowBits, rowBytes, granularity (codeDType names the stock form's code type
 * and is not needed here). Row r holds every element whose index on `axis` is r, in row-major order of the other
 * dimensions; bit = 1 for +1, most significant bit first.
 */
function binaryWeights(
  node: KernelNode,
  shape: readonly number[],
  data: Uint8Array,
  scale: Tensor,
  view: MatrixView,
): BinaryWeights {
  const rank = shape.length;
  const axis = integerAttribute(node, 'weight_axis', 0, Math.max(rank - 1, 0));
  const rows = shape[axis] ?? 0;
  const size = sizeOf(shape);
  const rowBits = rows === 0 ? 0 : size / rows;
  const expected: Record<string, number> = {
    weight_rows: rows,
    weight_rowBits: rowBits,
    weight_rowBytes: Math.ceil(rowBits / 8),
  };
  for (const [name, value] of Object.entries(expected)) {
    const actual = node.attributes.int(name);
    if (actual !== value) {
      throw invalid(
        node,
        `attribute "${name}" is ${actual}, but weight_shape [${shape.join(', ')}] in rows along weight_axis ` +
          `${axis} needs ${value}`,
      );
    }
  }
  const rowBytes = expected['weight_rowBytes']!;
  if (data.length !== rows * rowBytes) {
    throw invalid(
      node,
      `the packed weight holds ${data.length} bytes; ${rows} rows of ${rowBytes} bytes need ${rows * rowBytes}`,
    );
  }
  const granularity = granularityOf(node);
  if (granularity === 'channel') {
    checkChannelAxis(node, axis, view, shape);
    checkScaleCount(node, scale, rows, `one alpha per channel of ${rows}`);
  } else {
    checkScaleCount(node, scale, 1, 'a per-tensor alpha');
  }
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const wordsPerRow = (view.k + 31) >>> 5;
  const bits = new Uint32Array(view.batches * view.n * wordsPerRow);
  forEachElement(view, (row, column, flat) => {
    const r = Math.floor(flat / inner) % rows;
    const outer = Math.floor(flat / (inner * rows));
    const bit = outer * inner + (flat % inner);
    if ((data[r * rowBytes + (bit >>> 3)]! >>> (7 - (bit & 7))) & 1) {
      bits[row * wordsPerRow + (column >>> 5)]! |= 1 << (column & 31);
    }
  });
  const alphas = scale.data as Float32Array;
  const alpha = new Float32Array(view.batches * view.n);
  for (let row = 0; row < alpha.length; row++) {
    alpha[row] = granularity === 'channel' ? alphas[row % view.n]! : alphas[0]!;
  }
  return { bits, k: view.k, wordsPerRow, alpha };
}

/** The integer e with 2^e === value, or undefined. */
function exponentOf(value: number): number | undefined {
  if (!(value > 0) || !Number.isFinite(value)) return undefined;
  const e = Math.round(Math.log2(value));
  return 2 ** e === value ? e : undefined;
}

/** Row tables, the float levels and (for short enough rows) the shift plan, from one level list per table. */
function logLayout(
  codes: Uint8Array,
  view: MatrixView,
  tables: readonly (readonly (LogLevel | undefined)[])[],
  values: readonly Float32Array[],
  factors: readonly number[],
  tableOfRow: (j: number) => number,
): LogWeights {
  const levels = new Float32Array(tables.length * LOG_TABLE_SIZE);
  values.forEach((table, t) => {
    levels.set(table, t * LOG_TABLE_SIZE);
  });
  const rowTable = new Int32Array(view.batches * view.n);
  for (let row = 0; row < rowTable.length; row++) rowTable[row] = tableOfRow(row % view.n);
  // Integer activations need shifts that keep k terms inside int32; past 2^22 terms only float inputs run.
  const shiftPlan = view.k < 2 ** 22 ? logShiftPlan(tables, factors, view.k) : undefined;
  return { codes, k: view.k, levels, rowTable, ...(shiftPlan !== undefined && { shiftPlan }) };
}

/** Gathers one code byte per element (read by `codeAt(flat)`) into the compute order. */
function gatherCodes(view: MatrixView, codeAt: (flat: number) => number): Uint8Array {
  const codes = new Uint8Array(view.batches * view.n * view.k);
  forEachElement(view, (row, column, flat) => {
    codes[row * view.k + column] = codeAt(flat);
  });
  return codes;
}

/**
 * 'log': attributes bits (3 to 8), stepsPerOctave (1), granularity, axis (per channel), form (the stock form,
 * not needed here). A code is a sign bit (bits - 1) and a magnitude index m: m = 0 is zero, else the level is
 * sign * 2^(FSR - M + m) with M = 2^(bits - 1) - 1 and 2^FSR the group's scale. Up to 4 bits two codes share a
 * byte, element 2i in the low nibble.
 */
function logWeights(
  node: KernelNode,
  shape: readonly number[],
  data: Uint8Array,
  scale: Tensor,
  view: MatrixView,
): LogWeights {
  const bits = integerAttribute(node, 'weight_bits', 3, 8);
  const steps = node.attributes.int('weight_stepsPerOctave', 1);
  if (steps !== 1) {
    throw invalid(node, `attribute "weight_stepsPerOctave" is ${steps}; format "log" has 1 step per octave`);
  }
  const granularity = granularityOf(node);
  let groups = 1;
  if (granularity === 'channel') {
    const axis = integerAttribute(node, 'weight_axis', 0, Math.max(shape.length - 1, 0));
    checkChannelAxis(node, axis, view, shape);
    groups = shape[axis]!;
  }
  checkScaleCount(node, scale, groups, granularity === 'channel' ? 'one scale per channel' : 'per tensor');
  const size = sizeOf(shape);
  const bytes = bits <= 4 ? Math.ceil(size / 2) : size;
  if (data.length !== bytes) {
    throw invalid(
      node,
      `the packed weight holds ${data.length} bytes; weight_shape [${shape.join(', ')}] at ${bits} bits needs ${bytes}`,
    );
  }
  const fsr = Array.from(scale.data as Float32Array, (value, group) => {
    const e = exponentOf(value);
    if (e === undefined) {
      throw invalid(node, `attribute "weight_scale" value ${group} is ${value}, not a power of two 2^FSR`);
    }
    return e;
  });
  const codeAt =
    bits <= 4
      ? (flat: number) => (data[flat >>> 1]! >>> ((flat & 1) * 4)) & 15
      : (flat: number) => data[flat]!;
  for (let flat = 0; flat < size; flat++) {
    if (codeAt(flat) >= 1 << bits) {
      throw invalid(node, `packed code ${codeAt(flat)} at element ${flat} does not fit weight_bits ${bits}`);
    }
  }
  const magnitudes = 2 ** (bits - 1) - 1;
  const tables = fsr.map((top) => {
    const levels: (LogLevel | undefined)[] = [];
    for (let code = 0; code < 1 << bits; code++) {
      const m = code & magnitudes;
      levels.push({ zero: m === 0, negative: code > magnitudes, exponent: top - magnitudes + m, factor: 0 });
    }
    return levels;
  });
  const values = tables.map((levels) =>
    Float32Array.from(levels, (level) => {
      if (level === undefined || level.zero) return 0;
      const magnitude = Math.fround(2 ** level.exponent);
      return level.negative ? -magnitude : magnitude;
    }),
  );
  return logLayout(gatherCodes(view, codeAt), view, tables, values, [1], (j) =>
    granularity === 'channel' ? j : 0,
  );
}

const NNIE_STEPS = 16;
/** T ranges over [-126 * 16, 128 * 16 - 1] (the log-nnie quantizer's MIN_NNIE_FSR and MAX_NNIE_FSR). */
const NNIE_LOWEST_FSR = -126 * NNIE_STEPS;
const NNIE_HIGHEST_FSR = 128 * NNIE_STEPS - 1;

/**
 * 'log-nnie': attributes bits (8), stepsPerOctave (16), fsr T; scale [2^floor(T/16)]. One sign-magnitude byte
 * per element: 0x80 is zero, otherwise m = code & 0x7f and the level is sign * 2^((T - 127 + m) / 16), computed as
 * the stock Gather form does: float32(2^((m - 127 + r) / 16)) * 2^floor(T/16), r = T mod 16.
 */
function nnieWeights(
  node: KernelNode,
  shape: readonly number[],
  data: Uint8Array,
  scale: Tensor,
  view: MatrixView,
): LogWeights {
  integerAttribute(node, 'weight_bits', 8, 8);
  integerAttribute(node, 'weight_stepsPerOctave', NNIE_STEPS, NNIE_STEPS);
  const top = integerAttribute(node, 'weight_fsr', NNIE_LOWEST_FSR, NNIE_HIGHEST_FSR);
  const octave = Math.floor(top / NNIE_STEPS);
  const remainder = top - octave * NNIE_STEPS;
  checkScaleCount(node, scale, 1, 'format "log-nnie" (per tensor)');
  if (scale.data[0] !== 2 ** octave) {
    throw invalid(
      node,
      `attribute "weight_scale" is [${scale.data[0]}]; weight_fsr ${top} needs [2^${octave} = ${2 ** octave}]`,
    );
  }
  const size = sizeOf(shape);
  if (data.length !== size) {
    throw invalid(
      node,
      `the packed weight holds ${data.length} bytes; weight_shape [${shape.join(', ')}] needs one per element, ${size}`,
    );
  }
  const levels: LogLevel[] = [];
  const values = new Float32Array(LOG_TABLE_SIZE);
  for (let code = 0; code < LOG_TABLE_SIZE; code++) {
    const m = code & 0x7f;
    const negative = code >= 0x80;
    const zero = code === 0x80;
    const sixteenths = top - 127 + m;
    const exponent = Math.floor(sixteenths / NNIE_STEPS);
    levels.push({ zero, negative, exponent, factor: sixteenths - exponent * NNIE_STEPS });
    if (zero) continue;
    const magnitude = Math.fround(Math.fround(2 ** ((m - 127 + remainder) / NNIE_STEPS)) * 2 ** octave);
    values[code] = negative ? -magnitude : magnitude;
  }
  const factors = Array.from({ length: NNIE_STEPS }, (_, r) => Math.fround(2 ** (r / NNIE_STEPS)));
  return logLayout(
    gatherCodes(view, (flat) => data[flat]!),
    view,
    [levels],
    [values],
    factors,
    () => 0,
  );
}
