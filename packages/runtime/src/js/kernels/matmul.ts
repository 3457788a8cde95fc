import { QuantError, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { gemmBlockedFloat32 } from './float-gemm.js';
import { broadcastShape, float32Data, required, stridesOf, tensorOf } from '../tensor-utils.js';

/** MatMul with numpy semantics: 1-D operands promoted and squeezed back, batch dimensions broadcast. */
const matMul = jsKernel('MatMul', {
  run: (_, [a, b]) => {
    const left = required(a, 'A');
    const right = required(b, 'B');
    const aShape = left.shape.length === 1 ? [1, left.shape[0]!] : left.shape;
    const bShape = right.shape.length === 1 ? [right.shape[0]!, 1] : right.shape;
    const m = aShape[aShape.length - 2]!;
    const k = aShape[aShape.length - 1]!;
    const n = bShape[bShape.length - 1]!;
    if (bShape[bShape.length - 2] !== k) {
      throw new QuantError(
        'INVALID_MODEL',
        `inner dimensions differ: A is [${left.shape.join(', ')}], B is [${right.shape.join(', ')}]`,
      );
    }
    const batch = broadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
    const batches = sizeOf(batch);
    const out = new Float32Array(batches * m * n);
    const x = float32Data(left, 'A');
    const y = float32Data(right, 'B');
    const aBatch = batchOffsets(aShape.slice(0, -2), batch, m * k);
    const bBatch = batchOffsets(bShape.slice(0, -2), batch, k * n);
    for (let index = 0; index < batches; index++) {
      gemmBlockedFloat32(x, aBatch[index]!, y, bBatch[index]!, out, index * m * n, m, k, n);
    }
    const shape = [
      ...batch,
      ...(left.shape.length === 1 ? [] : [m]),
      ...(right.shape.length === 1 ? [] : [n]),
    ];
    return [tensorOf('float32', shape, out)];
  },
});

/** For each batch index of the broadcast batch shape, the element offset of the operand's matrix. */
function batchOffsets(shape: readonly number[], batch: readonly number[], matrixSize: number): number[] {
  const padded = [...new Array<number>(batch.length - shape.length).fill(1), ...shape];
  const strides = stridesOf(padded);
  const offsets: number[] = [];
  const total = sizeOf(batch);
  const counter = new Array<number>(batch.length).fill(0);
  for (let index = 0; index < total; index++) {
    let offset = 0;
    for (let axis = 0; axis < batch.length; axis++) {
      if (padded[axis] !== 1) offset += counter[axis]! * strides[axis]!;
    }
    offsets.push(offset * matrixSize);
    for (let axis = batch.length - 1; axis >= 0; axis--) {
      counter[axis]! += 1;
      if (counter[axis]! < batch[axis]!) break;
      counter[axis] = 0;
    }
  }
  return offsets;
}

export const matMulKernels = [matMul];
