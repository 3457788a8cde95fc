import { QuantError } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { broadcastIndex, broadcastShape, float32Data, required } from '../tensor-utils.js';
import { floatOutput } from './float-output.js';
import { gemmBlockedFloat32, gemmTransposedFloat32, transposeFloat32 } from './float-gemm.js';

interface GemmState {
  readonly transA: boolean;
  readonly transB: boolean;
  readonly alpha: number;
  readonly beta: number;
}

/** Gemm: Y = alpha * A' * B' + beta * C, A' and B' optionally transposed, C broadcast to [M, N] (optional from opset 11). */
export const gemmKernel = jsKernel('Gemm', {
  prepare: (node): GemmState => ({
    transA: node.attributes.int('transA', 0) !== 0,
    transB: node.attributes.int('transB', 0) !== 0,
    alpha: node.attributes.float('alpha', 1),
    beta: node.attributes.float('beta', 1),
  }),
  run: ({ transA, transB, alpha, beta }, [aInput, bInput, cInput]) => {
    const a = required(aInput, 'A');
    const b = required(bInput, 'B');
    if (a.shape.length !== 2 || b.shape.length !== 2) {
      throw new QuantError(
        'INVALID_MODEL',
        `A is [${a.shape.join(', ')}] and B is [${b.shape.join(', ')}]; both must be matrices`,
      );
    }
    const [m, k] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [kB, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (k !== kB) {
      throw new QuantError(
        'INVALID_MODEL',
        `inner dimensions differ: A${transA ? "'" : ''} is [${m}, ${k}], B${transB ? "'" : ''} is [${kB}, ${n}]`,
      );
    }
    const left = transA ? transposeFloat32(float32Data(a, 'A'), k, m) : float32Data(a, 'A');
    const right = float32Data(b, 'B');
    const out = new Float32Array(m * n);
    if (transB) gemmTransposedFloat32(left, 0, right, 0, out, 0, m, k, n);
    else gemmBlockedFloat32(left, 0, right, 0, out, 0, m, k, n);
    if (alpha !== 1) for (let i = 0; i < out.length; i++) out[i]! *= alpha;
    if (cInput !== undefined && beta !== 0) {
      const shape = broadcastShape(cInput.shape, [m, n]);
      if (shape.length !== 2 || shape[0] !== m || shape[1] !== n) {
        throw new QuantError(
          'INVALID_MODEL',
          `C [${cInput.shape.join(', ')}] does not broadcast to [${m}, ${n}]`,
        );
      }
      const c = float32Data(cInput, 'C');
      const index = broadcastIndex(cInput.shape, [m, n]);
      if (index === undefined) for (let i = 0; i < out.length; i++) out[i]! += beta * c[i]!;
      else for (let i = 0; i < out.length; i++) out[i]! += beta * c[index[i]!]!;
    }
    return [floatOutput(a.dtype, [m, n], out)];
  },
});
