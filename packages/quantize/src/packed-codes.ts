import { type QuantDType, type Tensor, createTensor, sizeOf } from '@quantkit/core';
import type { Graph } from '@quantkit/onnx';

/** Codes of a tensor narrower than its 8-bit container, stored several to a byte. */
export interface PackedCodes {
  /** Bits per code: enough for qmax - qmin + 1 levels. */
  readonly bits: number;
  /** Codes per byte: floor(8 / bits). */
  readonly perByte: number;
  readonly bytes: Uint8Array;
  /**
   * The codes' distinct values when they are few but spread wide (power-of-two codes ±1..±64): bytes then hold
   * indices into this ascending table, and a Gather maps them back.
   */
  readonly table?: Int32Array;
}

/** Fewer codes than this stay unpacked: the unpack nodes would cost more bytes than they save. */
export const MIN_PACKED_CODES = 256;

/** Bits that hold `levels` distinct values. */
export function bitsFor(levels: number): number {
  return Math.max(1, Math.ceil(Math.log2(levels)));
}

/**
 * Packs 8-bit codes that use only `qmin..qmax` (at most 16 levels): code c is stored as c - qmin in `bits` bits,
 * code j of each byte at bit offset j * bits. Codes of a wider range that take at most 16 distinct values are
 * stored as indices into `table` instead. Undefined when packing saves nothing (more levels, or few codes).
 */
export function packCodes(codes: Tensor<QuantDType>, qmin: number, qmax: number): PackedCodes | undefined {
  if (codes.dtype !== 'int8' && codes.dtype !== 'uint8') return undefined;
  const count = sizeOf(codes.shape);
  if (count < MIN_PACKED_CODES) return undefined;
  const data = codes.data as Int8Array | Uint8Array;
  let bits = bitsFor(qmax - qmin + 1);
  let indexOf = (code: number) => code - qmin;
  let table: Int32Array | undefined;
  if (bits > 4) {
    const distinct = [...new Set(data)].sort((a, b) => a - b);
    if (distinct.length > 16) return undefined;
    table = Int32Array.from(distinct);
    const index = new Map(distinct.map((value, i) => [value, i]));
    bits = bitsFor(distinct.length);
    indexOf = (code) => index.get(code)!;
  }
  const perByte = Math.floor(8 / bits);
  const bytes = new Uint8Array(Math.ceil(count / perByte));
  for (let i = 0; i < count; i++)
    bytes[Math.floor(i / perByte)]! |= indexOf(data[i]!) << ((i % perByte) * bits);
  return { bits, perByte, bytes, ...(table !== undefined && { table }) };
}

/** The inverse of packCodes, as the unpack nodes compute it (for tests). */
export function unpackCodes(packed: PackedCodes, count: number, qmin: number): number[] {
  const codes: number[] = [];
  for (let i = 0; i < count; i++) {
    const byte = packed.bytes[Math.floor(i / packed.perByte)]!;
    const index = (byte >> ((i % packed.perByte) * packed.bits)) & ((1 << packed.bits) - 1);
    codes.push(packed.table === undefined ? index + qmin : packed.table[index]!);
  }
  return codes;
}

/** int32 constants the unpack nodes read: per-slot divisors 2^(bits j), the next slot's, and 2^bits. */
export function unpackConstants(packed: PackedCodes): {
  divisors: Tensor<'int32'>;
  nextDivisors: Tensor<'int32'>;
  modulus: Tensor<'int32'>;
} {
  const powers = (offset: number) =>
    createTensor(
      'int32',
      [1, packed.perByte],
      Int32Array.from({ length: packed.perByte }, (_, j) => 2 ** (packed.bits * (j + offset))),
    );
  return {
    divisors: powers(0),
    nextDivisors: powers(1),
    modulus: createTensor('int32', [], Int32Array.of(2 ** packed.bits)),
  };
}

/**
 * The codes behind `name` in a graph quantkit wrote: the initializer itself, or the codes its unpack nodes
 * (codesConstant in the emitter) compute from packed bytes, with `packedBits` their stored width. Undefined for
 * anything else.
 */
export function storedCodes(
  graph: Graph,
  name: string,
): (Tensor & { readonly packedBits?: number }) | undefined {
  const direct = graph.getConstant(name);
  if (direct !== undefined) return direct;
  const input = (value: string | undefined, opType: string, slot = 0) => {
    const node = value === undefined ? undefined : graph.producer(value);
    return node?.opType === opType ? node.inputs[slot] : undefined;
  };
  const reshape = graph.producer(name);
  if (reshape?.opType !== 'Reshape') return undefined;
  const shape = graph.getConstant(reshape.inputs[1]!);
  const last = graph.producer(reshape.inputs[0]!);
  // Either Add(offset) -> Cast, or a Gather from the table of distinct codes.
  const gather = last?.opType === 'Gather' ? last : undefined;
  const table = gather === undefined ? undefined : graph.getConstant(gather.inputs[0]!);
  const add = gather === undefined ? input(reshape.inputs[0], 'Cast') : undefined;
  const addNode = add === undefined ? undefined : graph.producer(add);
  if (last === undefined || shape === undefined || (addNode?.opType !== 'Add' && table === undefined))
    return undefined;
  const offset =
    addNode === undefined
      ? createTensor('int32', [], Int32Array.of(0))
      : graph.getConstant(addNode.inputs[1]!);
  let flat = gather?.inputs[1] ?? addNode!.inputs[0];
  if (graph.producer(flat!)?.opType === 'Slice') flat = input(flat, 'Slice');
  const sub = graph.producer(input(flat, 'Reshape') ?? '');
  const div = sub?.opType === 'Sub' ? graph.producer(sub.inputs[0]!) : undefined;
  const mul = sub?.opType === 'Sub' ? graph.producer(sub.inputs[1]!) : undefined;
  const divisors = div?.opType === 'Div' ? graph.getConstant(div.inputs[1]!) : undefined;
  const bytesName = input(input(div?.inputs[0], 'Reshape'), 'Cast');
  const bytes = bytesName === undefined ? undefined : graph.getConstant(bytesName);
  if (offset === undefined || divisors === undefined || bytes === undefined || mul?.opType !== 'Mul')
    return undefined;
  const perByte = divisors.data.length;
  const modulus = graph.getConstant(mul.inputs[1]!);
  if (modulus === undefined) return undefined;
  const bits = Math.log2(Number(modulus.data[0]));
  const dims = Array.from(shape.data as BigInt64Array, Number);
  const count = sizeOf(dims);
  const codes = unpackCodes(
    {
      bits,
      perByte,
      bytes: bytes.data as Uint8Array,
      ...(table !== undefined && { table: Int32Array.from(table.data as ArrayLike<number>) }),
    },
    count,
    Number(offset.data[0]),
  );
  const to = last.attributes.get('to');
  const dtype = table?.dtype === 'uint8' || (to?.type === 'int' && to.value === 2) ? 'uint8' : 'int8';
  const tensor = createTensor(
    dtype,
    dims,
    dtype === 'uint8' ? Uint8Array.from(codes) : Int8Array.from(codes),
  );
  return { ...tensor, packedBits: bits };
}
