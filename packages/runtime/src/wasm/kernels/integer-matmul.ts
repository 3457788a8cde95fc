import { type KernelNode, QuantError, type Tensor, sizeOf } from '@quantkit/core';
import { required, tensorOf } from '../../js/tensor-utils.js';
import { INT8_GROUP_ROWS, type WasmSimdHandle } from '../backend.js';
import { wasmKernel } from '../wasm-kernel.js';
import { type MatMulShape, matMulShape } from '../../js/kernels/matmul-shape.js';

/** Columns per packed panel of B (the micro-kernels' tile width). */
const PANEL = 8;

/** 8-bit codes as bytes, and whether they are signed. */
interface Codes {
  readonly bytes: Uint8Array;
  readonly signed: boolean;
}

function codesOf(tensor: Tensor, what: string): Codes {
  if (tensor.dtype !== 'uint8' && tensor.dtype !== 'int8') {
    throw new QuantError('UNSUPPORTED', `${what} is ${tensor.dtype}; this kernel takes uint8 or int8 codes`);
  }
  const data = tensor.data as Uint8Array | Int8Array;
  return {
    bytes: new Uint8Array(data.buffer, data.byteOffset, data.length),
    signed: tensor.dtype === 'int8',
  };
}

/** The geometry of the int8 GEMM for K x N: K padded to a multiple of 4, N to whole panels. */
interface Geometry {
  readonly k: number;
  readonly n: number;
  readonly kPadded: number;
  readonly panels: number;
  readonly width: number;
}

function geometryOf(k: number, n: number): Geometry {
  const panels = Math.ceil(n / PANEL);
  return { k, n, kPadded: Math.ceil(k / 4) * 4, panels, width: panels * PANEL };
}

/**
 * A constant B packed in the handle's int8 layout: per matrix, its panels, its column sums, and its widened
 * panels once a product with enough rows asked for them (then kept, freed with the kernel state like the rest).
 */
interface PackedInt8B {
  readonly geometry: Geometry;
  readonly signed: boolean;
  readonly matrices: readonly {
    readonly packed: number;
    readonly colSums: number;
    wide: number | undefined;
  }[];
  readonly owner: object;
}

function packConstantB(handle: WasmSimdHandle, owner: object, b: Tensor): PackedInt8B {
  const { heap, int8 } = handle;
  const codes = codesOf(b, 'B');
  const shape = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  const geometry = geometryOf(shape[shape.length - 2]!, shape[shape.length - 1]!);
  const { k, n, kPadded, panels, width } = geometry;
  const count = sizeOf(shape.slice(0, -2));
  const matrices: { packed: number; colSums: number; wide: number | undefined }[] = [];
  for (let index = 0; index < count; index++) {
    const packed = heap.allocate(panels * kPadded * PANEL);
    const colSums = heap.allocate(width * 4);
    const raw = heap.scratch(k * n);
    new Uint8Array(heap.buffer, raw, k * n).set(codes.bytes.subarray(index * k * n, (index + 1) * k * n));
    int8.packB(raw, k, n, n, 1, codes.signed ? 0 : 0x80, packed, colSums, kPadded);
    matrices.push({ packed, colSums, wide: undefined });
  }
  heap.freeWith(
    owner,
    matrices.flatMap(({ packed, colSums }) => [packed, colSums]),
  );
  return { geometry, signed: codes.signed, matrices, owner };
}

/** The widened panels of a constant B's matrix, made on first use. */
function widened(handle: WasmSimdHandle, packedB: PackedInt8B, index: number): number {
  const matrix = packedB.matrices[index]!;
  if (matrix.wide === undefined) {
    const bytes = packedB.geometry.panels * packedB.geometry.kPadded * PANEL;
    const wide = handle.heap.allocate(2 * bytes);
    handle.int8.widenB!(matrix.packed, bytes, wide);
    handle.heap.freeWith(packedB.owner, [wide]);
    matrix.wide = wide;
  }
  return matrix.wide;
}

/** What turns the i32 products into outputs: i32 as they are (MatMulInteger) or requantized codes. */
type Epilogue =
  | { readonly kind: 'int32'; readonly out: Int32Array }
  | {
      readonly kind: 'requantize';
      readonly out: Uint8Array;
      readonly signed: boolean;
      /** Per column of N: a_scale * b_scale[j] / y_scale in float32, as onnxruntime computes it. */
      readonly scales: Float32Array;
      readonly zeroPoint: number;
    };

/**
 * Runs every product of an integer MatMul: A's codes packed (widened, with row sums), B packed now unless it was
 * at prepare, the int8 GEMM, the zero points applied exactly in i32, then the epilogue. `zeroPointA` and
 * `zeroPointsB` (one per column of N, or one for all) are the ONNX zero points, in the codes' own types.
 */
function integerMatMul(
  handle: WasmSimdHandle,
  a: Codes,
  b: Codes,
  packedB: PackedInt8B | undefined,
  shape: MatMulShape,
  zeroPointA: number,
  zeroPointsB: ArrayLike<number>,
  epilogue: Epilogue,
): void {
  const { heap, kernels, int8 } = handle;
  const { m, k, n } = shape;
  const geometry = geometryOf(k, n);
  const { kPadded, panels, width } = geometry;
  const folded = shape.singleB;
  const rows = folded ? shape.aMatrices.length * m : m;
  const products = folded
    ? [{ aOffset: 0, bMatrix: 0, outOffset: 0 }]
    : shape.aMatrices.map((aMatrix, index) => ({
        aOffset: aMatrix * m * k,
        bMatrix: shape.bMatrices[index]!,
        outOffset: index * m * n,
      }));
  const variableB = packedB === undefined;
  const useWide = int8.widenB !== undefined && rows >= INT8_GROUP_ROWS;
  // Widen a constant B before taking the scratch arena (an allocation may move it).
  const wideMatrices =
    useWide && packedB !== undefined
      ? packedB.matrices.map((_, index) => widened(handle, packedB, index))
      : undefined;
  const sizes = {
    aRaw: rows * k,
    aPacked: rows * kPadded * 2,
    rowSums: rows * 4,
    za: rows * 4,
    c: rows * width * 4,
    zb: width * 4,
    scales: epilogue.kind === 'requantize' ? width * 4 : 0,
    out: epilogue.kind === 'requantize' ? rows * width : 0,
    bRaw: variableB ? k * n : 0,
    bPacked: variableB ? panels * kPadded * PANEL : 0,
    colSums: variableB ? width * 4 : 0,
    bWide: variableB && useWide ? 2 * panels * kPadded * PANEL : 0,
  };
  let total = 0;
  const at = {} as Record<keyof typeof sizes, number>;
  for (const [name, size] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
    at[name] = total;
    total += Math.ceil(size / 64) * 64;
  }
  const base = heap.scratch(total);
  for (const name of Object.keys(at) as (keyof typeof sizes)[]) at[name] += base;
  const buffer = heap.buffer;

  // Zero points in the stored codes' domain: signed A may be stored plus 128, unsigned B is stored minus 128.
  new Int32Array(buffer, at.za, rows).fill(zeroPointA + (a.signed ? int8.signedAOffset : 0));
  const zb = new Int32Array(buffer, at.zb, width).fill(0);
  const bShift = (packedB?.signed ?? b.signed) ? 0 : 128;
  for (let j = 0; j < n; j++) zb[j] = (zeroPointsB.length === 1 ? zeroPointsB[0]! : zeroPointsB[j]!) - bShift;
  if (epilogue.kind === 'requantize') new Float32Array(buffer, at.scales, n).set(epilogue.scales);

  for (const product of products) {
    new Uint8Array(buffer, at.aRaw, rows * k).set(
      a.bytes.subarray(product.aOffset, product.aOffset + rows * k),
    );
    int8.packA(at.aRaw, rows, k, k, a.signed ? 1 : 0, at.aPacked, at.rowSums, kPadded);
    let bPacked: number;
    let bWide = 0;
    let colSums: number;
    if (packedB !== undefined) {
      const matrix = packedB.matrices[product.bMatrix]!;
      bPacked = matrix.packed;
      colSums = matrix.colSums;
      if (wideMatrices !== undefined) bWide = wideMatrices[product.bMatrix]!;
    } else {
      const from = product.bMatrix * k * n;
      new Uint8Array(buffer, at.bRaw, k * n).set(b.bytes.subarray(from, from + k * n));
      int8.packB(at.bRaw, k, n, n, 1, b.signed ? 0 : 0x80, at.bPacked, at.colSums, kPadded);
      bPacked = at.bPacked;
      colSums = at.colSums;
      if (useWide) {
        int8.widenB!(at.bPacked, panels * kPadded * PANEL, at.bWide);
        bWide = at.bWide;
      }
    }
    int8.gemm(at.aPacked, bPacked, bWide, at.c, width * 4, rows, panels, kPadded);
    kernels.apply_zero_points(at.c, width * 4, rows, panels, at.rowSums, at.za, colSums, at.zb, k);
    if (epilogue.kind === 'int32') {
      copyRows(new Int32Array(buffer, at.c, rows * width), epilogue.out, product.outOffset, rows, n, width);
    } else {
      kernels.requantize(
        at.c,
        width * 4,
        rows,
        panels,
        at.scales,
        epilogue.zeroPoint,
        epilogue.signed ? 1 : 0,
        at.out,
        width,
      );
      copyRows(new Uint8Array(buffer, at.out, rows * width), epilogue.out, product.outOffset, rows, n, width);
    }
  }
}

/** The first n of each of `rows` rows of `width` values, into `out` from `offset`. */
function copyRows<T extends Int32Array | Uint8Array>(
  source: T,
  out: T,
  offset: number,
  rows: number,
  n: number,
  width: number,
): void {
  if (width === n) out.set(source.subarray(0, rows * n), offset);
  else for (let i = 0; i < rows; i++) out.set(source.subarray(i * width, i * width + n), offset + i * n);
}

/** The values of a zero-point or scale input as numbers (absent: 0). */
function valuesOf(tensor: Tensor | undefined): number[] {
  if (tensor === undefined) return [0];
  return Array.from(tensor.data as ArrayLike<number>, Number);
}

/** A per-tensor value (one element). @throws QuantError UNSUPPORTED otherwise. */
function scalarOf(tensor: Tensor | undefined, what: string): number {
  const values = valuesOf(tensor);
  if (values.length !== 1) {
    throw new QuantError(
      'UNSUPPORTED',
      `${what} has ${values.length} values; this kernel takes one (per-tensor quantization)`,
    );
  }
  return values[0]!;
}

/** A per-tensor or per-column (N values) parameter of B. @throws QuantError UNSUPPORTED otherwise. */
function perColumnOf(tensor: Tensor | undefined, n: number, what: string): number[] {
  const values = valuesOf(tensor);
  if (values.length !== 1 && (values.length !== n || (tensor?.shape.length ?? 0) > 1)) {
    throw new QuantError(
      'UNSUPPORTED',
      `${what} has shape [${tensor?.shape.join(', ')}]; this kernel takes one value or one per column (${n})`,
    );
  }
  return values;
}

function checkZeroPointType(zeroPoint: Tensor | undefined, codes: Tensor, what: string): void {
  if (zeroPoint !== undefined && zeroPoint.dtype !== codes.dtype) {
    throw new QuantError(
      'INVALID_MODEL',
      `${what} is ${zeroPoint.dtype}; it must have the type of its input (${codes.dtype})`,
    );
  }
}

/** 8-bit code inputs (where the planner knows the type) in `slots`. */
function supportsCodes(node: KernelNode, slots: readonly number[]): true | string {
  for (const slot of slots) {
    const dtype = node.inputs[slot]?.dtype;
    if (dtype !== undefined && dtype !== 'uint8' && dtype !== 'int8') {
      return `input ${slot} is ${dtype}; this kernel takes uint8 or int8 codes`;
    }
  }
  return true;
}

interface IntegerState {
  readonly handle: WasmSimdHandle;
  readonly packedB: PackedInt8B | undefined;
}

function prepareIntegerState(node: KernelNode, handle: WasmSimdHandle, bSlot: number): IntegerState {
  const state: { handle: WasmSimdHandle; packedB: PackedInt8B | undefined } = { handle, packedB: undefined };
  const constant = node.inputs[bSlot]?.constant;
  if (constant !== undefined && (constant.dtype === 'uint8' || constant.dtype === 'int8')) {
    state.packedB = packConstantB(handle, state, constant);
  }
  return state;
}

/** MatMulInteger (opset 10): int32 sum of (a - a_zero_point)(b - b_zero_point), numpy MatMul shapes. */
const matMulInteger = wasmKernel<IntegerState>('MatMulInteger', {
  opsets: { min: 10 },
  description:
    'MatMulInteger on the int8 GEMM core (i16 dot products, or relaxed SIMD i8 dot where verified)',
  supports: (node) => supportsCodes(node, [0, 1, 2, 3]),
  prepare: (node, handle) => prepareIntegerState(node, handle, 1),
  run({ handle, packedB }, [a, b, aZeroPoint, bZeroPoint]) {
    const left = required(a, 'A');
    const right = required(b, 'B');
    checkZeroPointType(aZeroPoint, left, 'a_zero_point');
    checkZeroPointType(bZeroPoint, right, 'b_zero_point');
    const shape = matMulShape(left.shape, right.shape);
    const out = new Int32Array(sizeOf(shape.outShape));
    if (out.length > 0) {
      integerMatMul(
        handle,
        codesOf(left, 'A'),
        codesOf(right, 'B'),
        packedB,
        shape,
        scalarOf(aZeroPoint, 'a_zero_point'),
        perColumnOf(bZeroPoint, shape.n, 'b_zero_point'),
        { kind: 'int32', out },
      );
    }
    return [tensorOf('int32', shape.outShape, out)];
  },
});

/**
 * QLinearMatMul (opset 10 and 21 with float32 scales and 8-bit codes): the integer product requantized as
 * onnxruntime does, with the scale ratio a_scale * b_scale / y_scale in float32, rounding half to even and
 * saturating to the output type.
 */
const qLinearMatMul = wasmKernel<IntegerState>('QLinearMatMul', {
  opsets: { min: 10 },
  description: 'QLinearMatMul on the int8 GEMM core with a SIMD requantization epilogue',
  supports(node) {
    for (const slot of [1, 4, 6]) {
      const dtype = node.inputs[slot]?.dtype;
      if (dtype !== undefined && dtype !== 'float32')
        return `scale input ${slot} is ${dtype}; expected float32`;
    }
    return supportsCodes(node, [0, 2, 3, 5, 7]);
  },
  prepare: (node, handle) => prepareIntegerState(node, handle, 3),
  run({ handle, packedB }, [a, aScale, aZeroPoint, b, bScale, bZeroPoint, yScale, yZeroPoint]) {
    const left = required(a, 'a');
    const right = required(b, 'b');
    const outputZeroPoint = required(yZeroPoint, 'y_zero_point');
    checkZeroPointType(aZeroPoint, left, 'a_zero_point');
    checkZeroPointType(bZeroPoint, right, 'b_zero_point');
    for (const [scale, what] of [
      [aScale, 'a_scale'],
      [bScale, 'b_scale'],
      [yScale, 'y_scale'],
    ] as const) {
      if (required(scale, what).dtype !== 'float32') {
        throw new QuantError('UNSUPPORTED', `${what} is ${scale!.dtype}; this kernel takes float32 scales`);
      }
    }
    const outputCodes = codesOf(outputZeroPoint, 'y_zero_point');
    const shape = matMulShape(left.shape, right.shape);
    const { n } = shape;
    const aScaleValue = scalarOf(aScale, 'a_scale');
    const yScaleValue = scalarOf(yScale, 'y_scale');
    const bScales = perColumnOf(bScale, n, 'b_scale');
    const scales = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const bScaleValue = bScales.length === 1 ? bScales[0]! : bScales[j]!;
      scales[j] = Math.fround(Math.fround(aScaleValue * bScaleValue) / yScaleValue);
    }
    const size = sizeOf(shape.outShape);
    const out = new Uint8Array(size);
    if (size > 0) {
      integerMatMul(
        handle,
        codesOf(left, 'a'),
        codesOf(right, 'b'),
        packedB,
        shape,
        scalarOf(aZeroPoint, 'a_zero_point'),
        perColumnOf(bZeroPoint, n, 'b_zero_point'),
        {
          kind: 'requantize',
          out,
          signed: outputCodes.signed,
          scales,
          zeroPoint: scalarOf(outputZeroPoint, 'y_zero_point'),
        },
      );
    }
    const data = outputCodes.signed ? new Int8Array(out.buffer, 0, size) : out;
    return [tensorOf(outputZeroPoint.dtype, shape.outShape, data)];
  },
});

export const integerMatMulKernels = [matMulInteger, qLinearMatMul];
