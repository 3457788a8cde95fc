import { type KernelNode, QuantError, sizeOf } from '@quantkit/core';
import {
  type WindowAttributes,
  type WindowGeometry,
  readWindowAttributes,
  windowGeometry,
} from './window-geometry.js';

// One convolution geometry for every Conv-shaped kernel (float, integer, packed; JS and WASM): the checks that X, W
// and group fit together and where the window sits, so a model that one backend refuses is refused by all with the
// same message.

/** The attributes every convolution kernel reads once, when its node is prepared: its window and its group. */
export interface ConvAttributes {
  readonly window: WindowAttributes;
  readonly group: number;
}

/**
 * Reads a Conv-shaped node's window attributes and group.
 * @throws QuantError INVALID_MODEL for an unknown auto_pad or a group below 1.
 */
export function readConvAttributes(node: KernelNode): ConvAttributes {
  const group = node.attributes.int('group', 1);
  if (!Number.isInteger(group) || group < 1) {
    throw new QuantError('INVALID_MODEL', `group is ${group}; expected a positive integer`);
  }
  return { window: readWindowAttributes(node), group };
}

/** A convolution resolved against its input [N, C, ...spatial] and weight [M, C / group, ...kernel]. */
export interface ConvGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly outChannels: number;
  readonly group: number;
  /** Input channels per group (1 for depthwise). */
  readonly groupChannels: number;
  /** Output channels per group. */
  readonly groupOutputs: number;
  /** Where the window slides over the spatial axes. */
  readonly window: WindowGeometry;
  /** Elements of one output plane and of one kernel. */
  readonly outSize: number;
  readonly kernelSize: number;
  /** [N, M, ...output spatial]. */
  readonly outShape: readonly number[];
  /** Whether some output position's window reads padding (so patches have holes). */
  readonly padded: boolean;
}

/**
 * Checks a convolution's shapes and attributes against each other and places its window (ONNX rules, see
 * windowGeometry).
 * @example
 * const geometry = convGeometry(readConvAttributes(node), [1, 8, 32, 32], [16, 8, 3, 3]); // outShape [1, 16, 30, 30]
 * @throws QuantError INVALID_MODEL when X and W are not an N-D convolution of one rank, their channels do not fit
 *   group, kernel_shape differs from W, or the kernel spans more than the padded input.
 */
export function convGeometry(
  attributes: ConvAttributes,
  inputShape: readonly number[],
  weightShape: readonly number[],
): ConvGeometry {
  if (inputShape.length < 3 || weightShape.length !== inputShape.length) {
    throw new QuantError(
      'INVALID_MODEL',
      `X of shape [${inputShape.join(', ')}] and W of shape [${weightShape.join(', ')}] are not an N-D ` +
        'convolution ([N, C, ...spatial] and [M, C / group, ...kernel] of one rank)',
    );
  }
  const { group } = attributes;
  const [batch, channels] = inputShape as [number, number];
  const outChannels = weightShape[0]!;
  const groupChannels = weightShape[1]!;
  if (groupChannels * group !== channels || outChannels % group !== 0) {
    throw new QuantError(
      'INVALID_MODEL',
      `X has ${channels} channels and W is [${weightShape.join(', ')}]; with group ${group} W must be ` +
        `[M, ${channels / group}, ...] with M a multiple of ${group}`,
    );
  }
  const kernel = weightShape.slice(2);
  const declared = attributes.window.kernelShape;
  if (declared !== undefined && declared.join() !== kernel.join()) {
    throw new QuantError(
      'INVALID_MODEL',
      `kernel_shape [${declared.join(', ')}] differs from W's spatial shape [${kernel.join(', ')}]`,
    );
  }
  const window = windowGeometry(attributes.window, inputShape.slice(2), kernel);
  window.input.forEach((size, axis) => {
    const extent = (kernel[axis]! - 1) * window.dilations[axis]! + 1;
    const padded = size + window.padBegin[axis]! + window.padEnd[axis]!;
    if (size > 0 && extent > padded) {
      throw new QuantError(
        'INVALID_MODEL',
        `the kernel spans ${extent} along spatial axis ${axis}, more than the padded input's ${padded}`,
      );
    }
  });
  // Padding is read when the first window starts before 0 or the last ends past the input.
  const padded = window.output.some((count, axis) => {
    const first = -window.padBegin[axis]!;
    const last = (count - 1) * window.strides[axis]! + first + (kernel[axis]! - 1) * window.dilations[axis]!;
    return count > 0 && (first < 0 || last >= window.input[axis]!);
  });
  return {
    batch,
    channels,
    outChannels,
    group,
    groupChannels,
    groupOutputs: outChannels / group,
    window,
    outSize: sizeOf(window.output),
    kernelSize: sizeOf(kernel),
    outShape: [batch, outChannels, ...window.output],
    padded,
  };
}
