import { type KernelNode, QuantError, type Tensor, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { float32Data, required, tensorOf } from '../tensor-utils.js';
import { gemmBlockedFloat32 } from './float-gemm.js';

interface NBitsState {
  readonly k: number;
  readonly n: number;
  readonly bits: number;
  readonly blockSize: number;
  /** The dequantized weight [K, N] when B, scales and zero points are constants (computed once). */
  readonly weight: Float32Array | undefined;
}

/** The widths onnxruntime's CPU kernel runs (the op allows 2 to 8). */
const SUPPORTED_BITS = [4, 8];

/** Reads `bits` bits at bit offset `offset` of `bytes` (little-endian bit order: low bits first). */
function readBits(bytes: Uint8Array, offset: number, bits: number): number {
  const byte = offset >> 3;
  const shift = offset & 7;
  // 4- and 8-bit values never straddle two bytes.
  return (bytes[byte]! >> shift) & ((1 << bits) - 1);
}

/**
 * Dequantizes MatMulNBits' packed B [N, blocks, blockSize * bits / 8] into a float32 [K, N] weight:
 * `(code - zero_point) * scale` per block along K, the zero point packed like B (uint8, `bits` bits each), given
 * as floats, or 2^(bits - 1) when absent.
 * @throws QuantError INVALID_MODEL when the inputs' sizes do not match K, N, bits and block_size.
 */
export function dequantizeNBits(
  packed: Tensor,
  scales: Tensor,
  zeroPoints: Tensor | undefined,
  k: number,
  n: number,
  bits: number,
  blockSize: number,
): Float32Array {
  const blocks = Math.ceil(k / blockSize);
  const blobBytes = (blockSize * bits) / 8;
  if (packed.dtype !== 'uint8' || packed.data.length !== n * blocks * blobBytes) {
    throw new QuantError(
      'INVALID_MODEL',
      `B must be uint8 with ${n * blocks * blobBytes} bytes (N ${n}, ${blocks} blocks of ${blobBytes}); it is ${packed.dtype}[${packed.shape.join(', ')}]`,
    );
  }
  const scale = float32Data(scales, 'scales');
  if (scale.length !== n * blocks) {
    throw new QuantError(
      'INVALID_MODEL',
      `scales has ${scale.length} values; expected ${n * blocks} (N x blocks)`,
    );
  }
  const codes = packed.data as Uint8Array;
  const zeroBytes = Math.ceil((blocks * bits) / 8);
  let packedZeros: Uint8Array | undefined;
  let floatZeros: Float32Array | undefined;
  if (zeroPoints !== undefined) {
    if (zeroPoints.dtype === 'uint8') {
      packedZeros = zeroPoints.data as Uint8Array;
      if (packedZeros.length !== n * zeroBytes) {
        throw new QuantError(
          'INVALID_MODEL',
          `packed zero_points has ${packedZeros.length} bytes; expected ${n * zeroBytes}`,
        );
      }
    } else {
      floatZeros = float32Data(zeroPoints, 'zero_points');
      if (floatZeros.length !== n * blocks) {
        throw new QuantError(
          'INVALID_MODEL',
          `zero_points has ${floatZeros.length} values; expected ${n * blocks}`,
        );
      }
    }
  }
  const defaultZero = 1 << (bits - 1);
  const weight = new Float32Array(k * n);
  for (let column = 0; column < n; column++) {
    for (let block = 0; block < blocks; block++) {
      const param = column * blocks + block;
      const zero =
        floatZeros !== undefined
          ? floatZeros[param]!
          : packedZeros !== undefined
            ? readBits(packedZeros, column * zeroBytes * 8 + block * bits, bits)
            : defaultZero;
      const blockScale = scale[param]!;
      const blob = param * blobBytes * 8;
      const first = block * blockSize;
      const count = Math.min(blockSize, k - first);
      for (let j = 0; j < count; j++) {
        const code = readBits(codes, blob + j * bits, bits);
        weight[(first + j) * n + column] = Math.fround(Math.fround(code - zero) * blockScale);
      }
    }
  }
  return weight;
}

function prepareNBits(node: KernelNode): NBitsState {
  const { attributes } = node;
  const k = attributes.int('K');
  const n = attributes.int('N');
  const bits = attributes.int('bits', 4);
  const blockSize = attributes.int('block_size');
  if (!SUPPORTED_BITS.includes(bits)) {
    throw new QuantError(
      'UNSUPPORTED',
      `MatMulNBits with ${bits} bits is not implemented; it takes ${SUPPORTED_BITS.join(', ')}`,
    );
  }
  if (blockSize < 1 || (blockSize * bits) % 8 !== 0) {
    throw new QuantError(
      'INVALID_MODEL',
      `block_size ${blockSize} does not pack ${bits}-bit codes into whole bytes`,
    );
  }
  if (node.inputs[4] !== undefined) {
    throw new QuantError('UNSUPPORTED', 'MatMulNBits with g_idx (deprecated) is not implemented');
  }
  const [b, scales, zeroPoints] = [node.inputs[1], node.inputs[2], node.inputs[3]];
  const constant =
    b?.constant !== undefined &&
    scales?.constant !== undefined &&
    (zeroPoints === undefined || zeroPoints.constant !== undefined);
  const weight = constant
    ? dequantizeNBits(b.constant, scales.constant, zeroPoints?.constant, k, n, bits, blockSize)
    : undefined;
  return { k, n, bits, blockSize, weight };
}

/**
 * com.microsoft MatMulNBits: float A [..., K] times a weight quantized block-wise along K to 4 or 8 bits
 * (packed uint8 B, per-block scales, optional packed or float zero points), plus an optional bias [N]. The weight
 * is dequantized in float32 once when B is a constant and the product computed in float32; accuracy_level (how
 * onnxruntime may quantize A internally) is ignored.
 */
const matMulNBits = jsKernel('MatMulNBits', {
  domain: 'com.microsoft',
  prepare: prepareNBits,
  run: (state, [a, b, scales, zeroPoints, gIndex, bias]) => {
    if (gIndex !== undefined)
      throw new QuantError('UNSUPPORTED', 'MatMulNBits with g_idx is not implemented');
    const { k, n } = state;
    const input = required(a, 'A');
    const values = float32Data(input, 'A');
    if (input.shape[input.shape.length - 1] !== k) {
      throw new QuantError(
        'INVALID_MODEL',
        `A of shape [${input.shape.join(', ')}] does not end in K = ${k}`,
      );
    }
    const weight =
      state.weight ??
      dequantizeNBits(
        required(b, 'B'),
        required(scales, 'scales'),
        zeroPoints,
        k,
        n,
        state.bits,
        state.blockSize,
      );
    const m = k === 0 ? sizeOf(input.shape.slice(0, -1)) : values.length / k;
    const out = new Float32Array(m * n);
    gemmBlockedFloat32(values, 0, weight, 0, out, 0, m, k, n);
    if (bias !== undefined) {
      const addend = float32Data(bias, 'bias');
      if (addend.length !== n)
        throw new QuantError('INVALID_MODEL', `bias has ${addend.length} values; expected N = ${n}`);
      for (let row = 0; row < m; row++) {
        for (let column = 0; column < n; column++) {
          out[row * n + column] = out[row * n + column]! + addend[column]!;
        }
      }
    }
    return [tensorOf('float32', [...input.shape.slice(0, -1), n], out)];
  },
});

export const matMulNBitsKernels = [matMulNBits];
