import { type KernelAttributes, QuantError, listChoices } from '@quantkit/core';

// A small Conv geometry and im2col for the packed Conv kernels. The float Conv kernel (another file) has its own;
// the two can share one once both exist.

/** The shapes and attributes of one Conv, resolved against its input and weight. */
export interface ConvGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly group: number;
  readonly outChannels: number;
  /** Input spatial dimensions. */
  readonly input: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Padding before each spatial dimension (the padding after only changes the output size). */
  readonly padsBegin: readonly number[];
  readonly output: readonly number[];
  /** Whether any padding is read by some output position (so patches have holes). */
  readonly padded: boolean;
}

/** The attributes of a Conv node, read once in prepare. */
export interface ConvAttributes {
  readonly autoPad: string;
  readonly dilations: readonly number[] | undefined;
  readonly group: number;
  readonly kernelShape: readonly number[] | undefined;
  readonly pads: readonly number[] | undefined;
  readonly strides: readonly number[] | undefined;
}

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/**
 * Conv's attributes with their ONNX defaults left undefined where they depend on the rank.
 * @throws QuantError INVALID_MODEL for an unknown auto_pad or a group below 1.
 */
export function convAttributes(attributes: KernelAttributes): ConvAttributes {
  const autoPad = attributes.string('auto_pad', 'NOTSET');
  if (!AUTO_PADS.includes(autoPad)) {
    throw new QuantError('INVALID_MODEL', `auto_pad "${autoPad}" is none of ${listChoices(AUTO_PADS)}`);
  }
  const group = attributes.int('group', 1);
  if (!Number.isInteger(group) || group < 1) {
    throw new QuantError('INVALID_MODEL', `group is ${group}; expected a positive integer`);
  }
  const optional = (name: string) => (attributes.has(name) ? attributes.ints(name) : undefined);
  return {
    autoPad,
    group,
    dilations: optional('dilations'),
    kernelShape: optional('kernel_shape'),
    pads: optional('pads'),
    strides: optional('strides'),
  };
}

function perAxis(
  name: string,
  values: readonly number[] | undefined,
  rank: number,
  fallback: number,
): number[] {
  const resolved = values === undefined ? new Array<number>(rank).fill(fallback) : [...values];
  if (resolved.length !== rank || resolved.some((value) => !Number.isInteger(value) || value < 1)) {
    throw new QuantError(
      'INVALID_MODEL',
      `${name} [${resolved.join(', ')}] must hold ${rank} positive integers (one per spatial axis)`,
    );
  }
  return resolved;
}

/**
 * Resolves a Conv against its input shape [N, C, D1, ...] and weight shape [M, C / group, k1, ...].
 * @throws QuantError INVALID_MODEL for shapes or attributes that do not fit together.
 */
export function convGeometry(
  attributes: ConvAttributes,
  inputShape: readonly number[],
  weightShape: readonly number[],
): ConvGeometry {
  const rank = inputShape.length - 2;
  if (rank < 1 || weightShape.length !== inputShape.length) {
    throw new QuantError(
      'INVALID_MODEL',
      `input [${inputShape.join(', ')}] and weight [${weightShape.join(', ')}] must both be [N, C, spatial...] ` +
        'of the same rank, at least 3',
    );
  }
  const [batch, channels] = inputShape as [number, number];
  const { group } = attributes;
  const outChannels = weightShape[0]!;
  if (channels !== weightShape[1]! * group || outChannels % group !== 0) {
    throw new QuantError(
      'INVALID_MODEL',
      `input channels ${channels} and weight [${weightShape.join(', ')}] do not fit group ${group}: ` +
        'expected C = weight[1] * group and weight[0] divisible by group',
    );
  }
  const input = inputShape.slice(2);
  const kernel = weightShape.slice(2);
  if (attributes.kernelShape !== undefined && attributes.kernelShape.join() !== kernel.join()) {
    throw new QuantError(
      'INVALID_MODEL',
      `kernel_shape [${attributes.kernelShape.join(', ')}] differs from the weight's [${kernel.join(', ')}]`,
    );
  }
  const strides = perAxis('strides', attributes.strides, rank, 1);
  const dilations = perAxis('dilations', attributes.dilations, rank, 1);
  const padsBegin: number[] = [];
  const output: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const extent = (kernel[axis]! - 1) * dilations[axis]! + 1;
    const size = input[axis]!;
    const stride = strides[axis]!;
    let begin = 0;
    let end = 0;
    if (attributes.autoPad === 'SAME_UPPER' || attributes.autoPad === 'SAME_LOWER') {
      const total = Math.max(0, (Math.ceil(size / stride) - 1) * stride + extent - size);
      begin = attributes.autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      end = total - begin;
    } else if (attributes.autoPad === 'NOTSET' && attributes.pads !== undefined) {
      const { pads } = attributes;
      if (pads.length !== 2 * rank || pads.some((pad) => !Number.isInteger(pad) || pad < 0)) {
        throw new QuantError(
          'INVALID_MODEL',
          `pads [${pads.join(', ')}] must hold ${2 * rank} non-negative integers`,
        );
      }
      begin = pads[axis]!;
      end = pads[axis + rank]!;
    }
    const span = size + begin + end - extent;
    if (span < 0) {
      throw new QuantError(
        'INVALID_MODEL',
        `the kernel spans ${extent} along spatial axis ${axis}, more than the padded input's ${size + begin + end}`,
      );
    }
    padsBegin.push(begin);
    output.push(Math.floor(span / stride) + 1);
  }
  // Padding is read when a window starts before 0 or ends past the input.
  const padded = output.some((count, axis) => {
    const first = -padsBegin[axis]!;
    const last = (count - 1) * strides[axis]! - padsBegin[axis]! + (kernel[axis]! - 1) * dilations[axis]!;
    return count > 0 && (first < 0 || last >= input[axis]!);
  });
  return {
    batch,
    channels,
    group,
    outChannels,
    input,
    kernel,
    strides,
    dilations,
    padsBegin,
    output,
    padded,
  };
}

/** Writable typed arrays im2col fills. */
export type PatchArray = Float32Array | Int8Array | Uint8Array;

/**
 * Copies the receptive fields of `channels` input channels (starting at `xOffset`) into `patches`, one row per
 * output position (row-major over the output's spatial dimensions) of `channels * prod(kernel)` elements in the
 * weight's order (channel, then kernel position row-major). Padding reads as 0; `valid`, when given, gets 1 for
 * elements inside the input and 0 for padding.
 */
export function im2col(
  x: ArrayLike<number>,
  xOffset: number,
  channels: number,
  geometry: ConvGeometry,
  patches: PatchArray,
  valid?: Uint8Array,
): void {
  const { input, kernel, strides, dilations, padsBegin, output } = geometry;
  const rank = input.length;
  const kernelSize = kernel.reduce((a, b) => a * b, 1);
  const inputSize = input.reduce((a, b) => a * b, 1);
  const positions = output.reduce((a, b) => a * b, 1);
  const inputStrides = new Array<number>(rank);
  for (let axis = rank - 1, stride = 1; axis >= 0; axis--) {
    inputStrides[axis] = stride;
    stride *= input[axis]!;
  }
  // Each kernel position's offset along each axis, dilated.
  const taps = new Int32Array(kernelSize * rank);
  for (let q = 0; q < kernelSize; q++) {
    for (let axis = rank - 1, rest = q; axis >= 0; axis--) {
      taps[q * rank + axis] = (rest % kernel[axis]!) * dilations[axis]!;
      rest = Math.floor(rest / kernel[axis]!);
    }
  }
  const rowLength = channels * kernelSize;
  const start = new Int32Array(rank);
  const position = new Int32Array(rank);
  for (let l = 0; l < positions; l++) {
    for (let axis = 0; axis < rank; axis++) {
      start[axis] = position[axis]! * strides[axis]! - padsBegin[axis]!;
    }
    const row = l * rowLength;
    for (let q = 0; q < kernelSize; q++) {
      let offset = 0;
      let inside = true;
      for (let axis = 0; axis < rank; axis++) {
        const coordinate = start[axis]! + taps[q * rank + axis]!;
        if (coordinate < 0 || coordinate >= input[axis]!) {
          inside = false;
          break;
        }
        offset += coordinate * inputStrides[axis]!;
      }
      for (let c = 0; c < channels; c++) {
        const at = row + c * kernelSize + q;
        patches[at] = inside ? x[xOffset + c * inputSize + offset]! : 0;
        if (valid !== undefined) valid[at] = inside ? 1 : 0;
      }
    }
    for (let axis = rank - 1; axis >= 0; axis--) {
      position[axis]! += 1;
      if (position[axis]! < output[axis]!) break;
      position[axis] = 0;
    }
  }
}
