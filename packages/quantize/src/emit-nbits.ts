import { QuantError, createTensor, paramShape } from '@quantkit/core';
import { type Attribute, floatAttribute } from '@quantkit/onnx';
import type { WeightQuantization } from './compute-quantization.js';
import { MS_DOMAIN, type QdqEmitter } from './emitter.js';
import type { Recipe } from './options.js';
import type { ConstantUse } from './plan.js';

/**
 * The MatMulNBits layout of 4-bit block codes: B is uint8 [N, blocks, blockSize / 2] with codes packed two per
 * byte, low nibble first, along K; scales are [N * blocks]; zero points (asymmetric only) are uint8
 * [N * ceil(blocks / 2)], two per byte. Symmetric codes are stored offset by 8, which is the zero point the
 * operator assumes when none is given.
 *
 * @param codes signed (symmetric) or unsigned codes of a [K, N] weight, blocked along K
 * @param scale one scale per block, row-major over [blocks, N]
 */
export function packMatMulNBits(
  codes: ArrayLike<number>,
  scale: Float32Array,
  zeroPoint: Int32Array,
  k: number,
  n: number,
  blockSize: number,
  symmetric: boolean,
): { weight: Uint8Array; scales: Float32Array; zeroPoints: Uint8Array | undefined } {
  const blocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const weight = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zeroBytes = Math.ceil(blocks / 2);
  const zeroPoints = symmetric ? undefined : new Uint8Array(n * zeroBytes);
  for (let column = 0; column < n; column++) {
    for (let block = 0; block < blocks; block++) {
      const param = block * n + column;
      scales[column * blocks + block] = scale[param]!;
      const zero = symmetric ? 8 : zeroPoint[param]!;
      if (zeroPoints !== undefined)
        zeroPoints[column * zeroBytes + (block >> 1)]! |= zero << ((block & 1) * 4);
      for (let j = 0; j < blockSize; j++) {
        const row = block * blockSize + j;
        // Rows past K pad the last block with the zero point, which dequantizes to exactly 0.
        const stored = row < k ? codes[row * n + column]! + (symmetric ? 8 : 0) : zero;
        weight[(column * blocks + block) * blob + (j >> 1)]! |= (stored & 0x0f) << ((j & 1) * 4);
      }
    }
  }
  return { weight, scales, zeroPoints };
}

/**
 * Rewrites a MatMul (or a Gemm without transA) with a constant weight into com.microsoft MatMulNBits: 4-bit
 * block-wise weights, float activations, what transformers.js calls q4. Gemm's alpha folds into the scales; its
 * bias is added after.
 */
/** Block size of 4-bit blocks asked for by a node override when the recipe itself is not block-wise. */
export const DEFAULT_BLOCK_SIZE = 32;

export function emitMatMulNBits(
  emitter: QdqEmitter,
  use: ConstantUse,
  recipe: Recipe,
  weight: WeightQuantization,
): void {
  const { graph } = emitter;
  const { node } = use;
  const isGemm = node.opType === 'Gemm';
  // computeWeightQuantization quantized B as [K, N] (a transB Gemm's transposed).
  const [k, n] = weight.tensor.shape as [number, number];
  const blockSize = recipe.blockSize ?? DEFAULT_BLOCK_SIZE;
  const symmetric = weight.options.symmetric;
  const { quantized } = weight;
  const { params } = quantized;
  if (quantized.lookup !== undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      `MatMulNBits "${node.name}": quantizer "${weight.quantizer}" gave table-indexed codes; MatMulNBits needs linear 4-bit codes`,
    );
  }
  const expected = paramShape(weight.tensor.shape, params);
  if (
    expected[0] !== Math.ceil(k / blockSize) ||
    expected[1] !== n ||
    params.scale.length !== expected[0] * n
  ) {
    throw new QuantError(
      'INTERNAL',
      `MatMulNBits "${node.name}": unexpected scale shape [${expected.join(', ')}]`,
    );
  }
  const alpha = isGemm ? floatAttribute(node, 'alpha', 1) : 1;
  const scale = alpha === 1 ? params.scale : params.scale.map((s) => Math.fround(s * alpha));
  const packed = packMatMulNBits(quantized.codes.data, scale, params.zeroPoint, k, n, blockSize, symmetric);
  const blocks = Math.ceil(k / blockSize);
  const base = node.inputs[1]!;
  const inputs = [
    node.inputs[0]!,
    emitter.constant(`${base}_q4`, createTensor('uint8', [n, blocks, blockSize / 2], packed.weight)),
    emitter.constant(`${base}_scales`, createTensor('float32', [n * blocks], packed.scales)),
  ];
  if (packed.zeroPoints !== undefined) {
    inputs.push(
      emitter.constant(
        `${base}_zero_points`,
        createTensor('uint8', [packed.zeroPoints.length], packed.zeroPoints),
      ),
    );
  }
  const attributes: Record<string, Attribute> = {
    K: { type: 'int', value: k },
    N: { type: 'int', value: n },
    bits: { type: 'int', value: 4 },
    block_size: { type: 'int', value: blockSize },
    accuracy_level: { type: 'int', value: recipe.accuracyLevel },
  };
  const output = node.outputs[0]!;
  const bias = isGemm ? node.inputs[2] : undefined;
  graph.removeNode(node);
  const product = bias ? graph.uniqueName(`${output}_product`) : output;
  emitter.node('MatMulNBits', inputs, [product], { domain: MS_DOMAIN, attributes, replaces: node.name });
  emitter.requireMsDomain();
  if (bias) {
    const beta = floatAttribute(node, 'beta', 1);
    let addend = bias;
    if (beta !== 1) {
      addend = graph.uniqueName(`${bias}_times_beta`);
      emitter.node(
        'Mul',
        [bias, emitter.constant(`${node.name}_beta`, createTensor('float32', [], Float32Array.of(beta)))],
        [addend],
      );
    }
    emitter.node('Add', [product, addend], [output]);
  }
}
