import { QuantError } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { broadcastIndex, broadcastShape, float32Data, required, stridesOf } from '../tensor-utils.js';
import { floatOutput } from './float-output.js';

/**
 * PRelu: x where x >= 0, else slope * x, with slope broadcast to X (a scalar, one value per channel as
 * [C, 1, 1], or any shape that broadcasts). A slope varying along one axis only is indexed arithmetically; other
 * shapes go through a broadcast index.
 */
export const preluKernel = jsKernel('PRelu', {
  run: (_, [xInput, slopeInput]) => {
    const x = required(xInput, 'X');
    const slopeTensor = required(slopeInput, 'slope');
    const shape = broadcastShape(x.shape, slopeTensor.shape);
    if (shape.length !== x.shape.length || shape.some((dim, axis) => dim !== x.shape[axis])) {
      throw new QuantError(
        'INVALID_MODEL',
        `slope [${slopeTensor.shape.join(', ')}] does not broadcast to X [${x.shape.join(', ')}]`,
      );
    }
    const data = float32Data(x, 'X');
    const slope = float32Data(slopeTensor, 'slope');
    const out = new Float32Array(data.length);
    const padded = [
      ...new Array<number>(x.shape.length - slopeTensor.shape.length).fill(1),
      ...slopeTensor.shape,
    ];
    const varying = padded.flatMap((dim, axis) => (dim > 1 ? [axis] : []));
    if (varying.length <= 1) {
      // slope[(i / stride) % dim]: stride is the size of the axes after the one the slope varies along.
      const axis = varying[0] ?? 0;
      const dim = varying.length === 0 ? 1 : padded[axis]!;
      const stride = varying.length === 0 ? 1 : (stridesOf(x.shape)[axis] ?? 1);
      for (let i = 0; i < data.length; i++) {
        const value = data[i]!;
        out[i] = value >= 0 ? value : value * slope[Math.floor(i / stride) % dim]!;
      }
    } else {
      const index = broadcastIndex(slopeTensor.shape, x.shape);
      for (let i = 0; i < data.length; i++) {
        const value = data[i]!;
        out[i] = value >= 0 ? value : value * slope[index === undefined ? i : index[i]!]!;
      }
    }
    return [floatOutput(x.dtype, [...x.shape], out)];
  },
});
