import { type KernelNode, QuantError, type Tensor, sizeOf } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import {
  broadcastIndex,
  broadcastShape,
  float32Data,
  normalizeAxis,
  required,
  tensorOf,
} from '../tensor-utils.js';
import { floatOutput } from './float-output.js';

/** Whether the node asks for any output past the first (training statistics, LayerNormalization's Mean...). */
function wantsOutput(node: KernelNode, slot: number): boolean {
  return node.outputs.length > slot && node.outputs[slot]!.name !== '';
}

interface BatchNormalizationState {
  readonly epsilon: number;
}

/**
 * BatchNormalization in inference form: y = (x - mean) / sqrt(var + epsilon) * scale + B per channel of an
 * [N, C, ...] input. Before opset 9 `spatial` 0 gives the parameters one value per (channel, position), which runs
 * too. Training (training_mode 1, or the running / saved statistics outputs of older opsets) is refused.
 */
export const batchNormalizationKernel = jsKernel('BatchNormalization', {
  supports: (node) => {
    if (node.attributes.int('training_mode', 0) !== 0) return 'training_mode 1 is not implemented';
    if (node.outputs.some((_, slot) => slot > 0 && wantsOutput(node, slot))) {
      return 'the training statistics outputs are not implemented';
    }
    return true;
  },
  // supports refused the training form, so the node is in inference form here.
  prepare: (node): BatchNormalizationState => ({ epsilon: node.attributes.float('epsilon', 1e-5) }),
  run: ({ epsilon }, [xInput, scaleInput, biasInput, meanInput, varianceInput]) => {
    const x = required(xInput, 'X');
    const scale = float32Data(required(scaleInput, 'scale'), 'scale');
    const bias = float32Data(required(biasInput, 'B'), 'B');
    const mean = float32Data(required(meanInput, 'input_mean'), 'input_mean');
    const variance = float32Data(required(varianceInput, 'input_var'), 'input_var');
    if (x.shape.length < 2) {
      throw new QuantError('INVALID_MODEL', `X is [${x.shape.join(', ')}]; expected [N, C, ...]`);
    }
    const channels = x.shape[1]!;
    const inner = sizeOf(x.shape.slice(2));
    // One parameter per channel, or (spatial 0) one per channel and position.
    const features = scale.length;
    if (features !== channels && features !== channels * inner) {
      throw new QuantError(
        'INVALID_MODEL',
        `scale has ${features} values; expected ${channels} (one per channel)`,
      );
    }
    for (const [name, values] of [
      ['B', bias],
      ['input_mean', mean],
      ['input_var', variance],
    ] as const) {
      if (values.length !== features) {
        throw new QuantError('INVALID_MODEL', `${name} has ${values.length} values; expected ${features}`);
      }
    }
    const factor = new Float32Array(features);
    for (let f = 0; f < features; f++) factor[f] = scale[f]! / Math.sqrt(Math.fround(variance[f]! + epsilon));
    const data = float32Data(x, 'X');
    const out = new Float32Array(data.length);
    const span = features === channels ? inner : 1;
    const planes = data.length / span;
    for (let plane = 0; plane < planes; plane++) {
      const f = plane % features;
      const shift = mean[f]!;
      const multiplier = factor[f]!;
      const offset = bias[f]!;
      const end = (plane + 1) * span;
      for (let i = plane * span; i < end; i++) out[i] = (data[i]! - shift) * multiplier + offset;
    }
    return [floatOutput(x.dtype, x.shape, out)];
  },
});

/** InstanceNormalization: each [n, c] plane normalized by its own mean and variance, then scale[c] and B[c]. */
export const instanceNormalizationKernel = jsKernel('InstanceNormalization', {
  prepare: (node) => ({ epsilon: node.attributes.float('epsilon', 1e-5) }),
  run: ({ epsilon }, [xInput, scaleInput, biasInput]) => {
    const x = required(xInput, 'input');
    if (x.shape.length < 3) {
      throw new QuantError('INVALID_MODEL', `input is [${x.shape.join(', ')}]; expected [N, C, ...spatial]`);
    }
    const channels = x.shape[1]!;
    const scale = float32Data(required(scaleInput, 'scale'), 'scale');
    const bias = float32Data(required(biasInput, 'B'), 'B');
    if (scale.length !== channels || bias.length !== channels) {
      throw new QuantError(
        'INVALID_MODEL',
        `scale and B have ${scale.length} and ${bias.length} values; expected ${channels}`,
      );
    }
    const data = float32Data(x, 'input');
    const out = new Float32Array(data.length);
    const planeSize = sizeOf(x.shape.slice(2));
    const planes = data.length / Math.max(planeSize, 1);
    for (let plane = 0; plane < planes && planeSize > 0; plane++) {
      const begin = plane * planeSize;
      const { mean, inverse } = moments(data, begin, planeSize, epsilon);
      const c = plane % channels;
      const multiplier = scale[c]! * inverse;
      const offset = bias[c]!;
      for (let i = begin; i < begin + planeSize; i++) out[i] = (data[i]! - mean) * multiplier + offset;
    }
    return [floatOutput(x.dtype, x.shape, out)];
  },
});

/** Mean and 1 / sqrt(variance + epsilon) of `count` values from `begin`, in float64 over two passes. */
function moments(
  data: Float32Array,
  begin: number,
  count: number,
  epsilon: number,
): { mean: number; inverse: number } {
  let sum = 0;
  for (let i = begin; i < begin + count; i++) sum += data[i]!;
  const mean = sum / count;
  let squares = 0;
  for (let i = begin; i < begin + count; i++) {
    const centered = data[i]! - mean;
    squares += centered * centered;
  }
  return { mean, inverse: 1 / Math.sqrt(squares / count + epsilon) };
}

interface LayerNormalizationState {
  readonly axis: number;
  readonly epsilon: number;
  readonly wantMean: boolean;
  readonly wantInverse: boolean;
}

/**
 * LayerNormalization (opset 17): each slice over the axes from `axis` on normalized by its mean and variance, then
 * times Scale and plus B (both broadcast to the normalized shape); the optional Mean and InvStdDev outputs have
 * X's shape with the normalized axes set to 1.
 */
export const layerNormalizationKernel = jsKernel('LayerNormalization', {
  prepare: (node): LayerNormalizationState => ({
    axis: node.attributes.int('axis', -1),
    epsilon: node.attributes.float('epsilon', 1e-5),
    wantMean: wantsOutput(node, 1),
    wantInverse: wantsOutput(node, 2),
  }),
  run: (state, [xInput, scaleInput, biasInput]) => {
    const x = required(xInput, 'X');
    const rank = x.shape.length;
    const axis = normalizeAxis(state.axis, rank);
    const normalizedShape = x.shape.slice(axis);
    const size = sizeOf(normalizedShape);
    const scaleTensor = required(scaleInput, 'Scale');
    const scale = float32Data(scaleTensor, 'Scale');
    const scaleIndex = parameterIndex(scaleTensor, normalizedShape, 'Scale');
    const bias = biasInput === undefined ? undefined : float32Data(biasInput, 'B');
    const biasIndex = biasInput === undefined ? undefined : parameterIndex(biasInput, normalizedShape, 'B');
    const data = float32Data(x, 'X');
    const out = new Float32Array(data.length);
    const slices = size === 0 ? 0 : data.length / size;
    const means = new Float32Array(sizeOf(x.shape.slice(0, axis)));
    const inverses = new Float32Array(means.length);
    for (let slice = 0; slice < slices; slice++) {
      const begin = slice * size;
      const { mean, inverse } = moments(data, begin, size, state.epsilon);
      means[slice] = mean;
      inverses[slice] = inverse;
      for (let j = 0; j < size; j++) {
        const normalized = (data[begin + j]! - mean) * inverse;
        const scaled = normalized * scale[scaleIndex === undefined ? j : scaleIndex[j]!]!;
        out[begin + j] =
          bias === undefined ? scaled : scaled + bias[biasIndex === undefined ? j : biasIndex[j]!]!;
      }
    }
    const statisticsShape = [...x.shape.slice(0, axis), ...normalizedShape.map(() => 1)];
    const outputs: Tensor[] = [floatOutput(x.dtype, x.shape, out)];
    if (state.wantMean || state.wantInverse) outputs.push(tensorOf('float32', statisticsShape, means));
    if (state.wantInverse) outputs.push(tensorOf('float32', statisticsShape, inverses));
    return outputs;
  },
});

/**
 * Where each element of the normalized shape reads a parameter of the same size (undefined: in order) or one that
 * broadcasts to it.
 */
function parameterIndex(parameter: Tensor, shape: readonly number[], what: string): Int32Array | undefined {
  if (sizeOf(parameter.shape) === sizeOf(shape)) return undefined;
  const target = broadcastShape(parameter.shape, shape);
  if (target.length !== shape.length || target.some((dim, axis) => dim !== shape[axis])) {
    throw new QuantError(
      'INVALID_MODEL',
      `${what} [${parameter.shape.join(', ')}] does not broadcast to the normalized shape [${shape.join(', ')}]`,
    );
  }
  return broadcastIndex(parameter.shape, shape);
}
