import { jsKernel } from '../backend.js';
import { gemmBlockedFloat32 } from './float-gemm.js';
import { float32Data, required, tensorOf } from '../tensor-utils.js';
import { matMulShape } from './matmul-shape.js';

/** MatMul with numpy semantics: 1-D operands promoted and squeezed back, batch dimensions broadcast. */
const matMul = jsKernel('MatMul', {
  run: (_, [a, b]) => {
    const left = required(a, 'A');
    const right = required(b, 'B');
    const { m, k, n, aMatrices, bMatrices, outShape } = matMulShape(left.shape, right.shape);
    const out = new Float32Array(aMatrices.length * m * n);
    const x = float32Data(left, 'A');
    const y = float32Data(right, 'B');
    for (let index = 0; index < aMatrices.length; index++) {
      gemmBlockedFloat32(
        x,
        aMatrices[index]! * m * k,
        y,
        bMatrices[index]! * k * n,
        out,
        index * m * n,
        m,
        k,
        n,
      );
    }
    return [tensorOf('float32', outShape, out)];
  },
});

export const matMulKernels = [matMul];
