import { type KernelNode, QuantError, type Tensor } from '@quantkit/core';
import { required, tensorOf } from '../../js/tensor-utils.js';
import type { WasmSimdHandle } from '../backend.js';
import { wasmKernel } from '../wasm-kernel.js';
import {
  type ConvAttributes,
  type ConvShape,
  GEOMETRY_BYTES,
  PANEL,
  carveScratch,
  chunkPanels,
  convShape,
  depthwisePadding,
  fillPlaneTable,
  isDepthwise,
  isPointwise,
  readConvAttributes,
  writeGeometry,
} from './conv-layout.js';

/** A constant weight made ready once: packed as the GEMM's A per group, or copied as it is for depthwise. */
type PreparedWeights =
  | { readonly kind: 'gemm'; readonly groups: readonly number[] }
  | { readonly kind: 'depthwise'; readonly at: number };

interface ConvState {
  readonly handle: WasmSimdHandle;
  readonly attributes: ConvAttributes;
  readonly weights: PreparedWeights | undefined;
  /** Address of a constant bias (float32, one per output channel). */
  readonly bias: number | undefined;
}

function float32Of(tensor: Tensor, what: string): Float32Array {
  if (tensor.dtype !== 'float32') {
    throw new QuantError('UNSUPPORTED', `${what} is ${tensor.dtype}; this kernel computes on float32`);
  }
  return tensor.data as Float32Array;
}

/** Whether a weight of this shape with this group runs the depthwise kernel (see isDepthwise). */
function depthwiseWeight(shape: readonly number[], group: number): boolean {
  return shape[1] === 1 && group > 1 && shape.length <= 4;
}

/** Packs each group's [M / group, K] rows of a float32 weight into A blocks (pack_a_f32) at `packed`. */
function packGroups(
  handle: WasmSimdHandle,
  raw: number,
  packed: readonly number[],
  rows: number,
  k: number,
): void {
  for (const [g, at] of packed.entries()) {
    handle.kernels.pack_a_f32(raw + g * rows * k * 4, rows, k, k, 1, at);
  }
}

function prepareWeights(
  handle: WasmSimdHandle,
  owner: object,
  weight: Tensor,
  group: number,
): PreparedWeights | undefined {
  if (weight.dtype !== 'float32' || weight.shape.length < 3 || weight.shape[0]! % group !== 0) {
    return undefined;
  }
  const { heap } = handle;
  const data = weight.data as Float32Array;
  if (depthwiseWeight(weight.shape, group)) {
    const at = heap.allocate(data.length * 4);
    new Float32Array(heap.buffer, at, data.length).set(data);
    heap.freeWith(owner, [at]);
    return { kind: 'depthwise', at };
  }
  const rows = weight.shape[0]! / group;
  const k = data.length / weight.shape[0]!;
  const groups = Array.from({ length: group }, () => heap.allocate(rows * k * 4));
  const raw = heap.scratch(data.length * 4);
  new Float32Array(heap.buffer, raw, data.length).set(data);
  packGroups(handle, raw, groups, rows, k);
  heap.freeWith(owner, groups);
  return { kind: 'gemm', groups };
}

function supportsFloat32(node: KernelNode): true | string {
  for (const slot of [0, 1, 2]) {
    const dtype = node.inputs[slot]?.dtype;
    if (dtype !== undefined && dtype !== 'float32')
      return `input ${slot} is ${dtype}; this kernel takes float32`;
  }
  return true;
}

/**
 * float32 Conv over 1 to 3 spatial axes with groups, pads or auto_pad, strides and dilations. Depthwise
 * convolutions on 1 or 2 axes run a direct SIMD kernel over padded planes (3x3 unrolled at strides 1 and 2);
 * any other runs per image and group as the f32 GEMM of the weights (packed once when constant) by the input's
 * patches, written by im2col straight into packed panels a cache-sized range at a time (a 1x1 convolution without
 * stride or pads packs the input itself), the bias added as the rows are copied out.
 */
const conv = wasmKernel<ConvState>('Conv', {
  description: 'float32 Conv: im2col into packed panels and the f32 GEMM; a SIMD depthwise kernel',
  supports: supportsFloat32,
  prepare(node, handle) {
    const attributes = readConvAttributes(node);
    const state: { -readonly [K in keyof ConvState]: ConvState[K] } = {
      handle,
      attributes,
      weights: undefined,
      bias: undefined,
    };
    const weight = node.inputs[1]?.constant;
    if (weight !== undefined && attributes.group >= 1) {
      state.weights = prepareWeights(handle, state, weight, attributes.group);
    }
    const bias = node.inputs[2]?.constant;
    if (bias !== undefined && bias.dtype === 'float32' && bias.data.length > 0) {
      const at = handle.heap.allocate(bias.data.length * 4);
      new Float32Array(handle.heap.buffer, at, bias.data.length).set(bias.data as Float32Array);
      handle.heap.freeWith(state, [at]);
      state.bias = at;
    }
    return state;
  },
  run(state, [xInput, wInput, bInput]) {
    const x = required(xInput, 'X');
    const w = required(wInput, 'W');
    const data = float32Of(x, 'X');
    const weight = float32Of(w, 'W');
    const shape = convShape(x, w, state.attributes);
    let bias: Float32Array | undefined;
    if (bInput !== undefined) {
      bias = float32Of(bInput, 'B');
      if (bias.length !== shape.outChannels) {
        throw new QuantError('INVALID_MODEL', `B has ${bias.length} values; expected ${shape.outChannels}`);
      }
    }
    const total = shape.batch * shape.outChannels * shape.outSize;
    if (total === 0) return [tensorOf('float32', shape.outShape)];
    if (data.length === 0) {
      // No input channels: every output is its bias.
      const out = new Float32Array(total);
      if (bias !== undefined) {
        for (let row = 0; row < shape.batch * shape.outChannels; row++) {
          out.fill(bias[row % shape.outChannels]!, row * shape.outSize, (row + 1) * shape.outSize);
        }
      }
      return [tensorOf('float32', shape.outShape, out)];
    }
    const operands = { data, weight, bias };
    const out = isDepthwise(shape) ? depthwise(state, shape, operands) : im2colGemm(state, shape, operands);
    return [tensorOf('float32', shape.outShape, out)];
  },
});

interface Operands {
  readonly data: Float32Array;
  readonly weight: Float32Array;
  readonly bias: Float32Array | undefined;
}

function depthwise(state: ConvState, shape: ConvShape, { data, weight, bias }: Operands): Float32Array {
  const { heap, kernels } = state.handle;
  const prepared = state.weights?.kind === 'depthwise' ? state.weights.at : undefined;
  const constantBias = bias === undefined ? undefined : state.bias;
  const padded = depthwisePadding(shape);
  const imageIn = shape.channels * shape.inSize;
  const imageOut = shape.outChannels * shape.outSize;
  const at = carveScratch(heap, {
    geometry: GEOMETRY_BYTES,
    x: data.length * 4,
    weights: prepared === undefined ? weight.length * 4 : 0,
    bias: bias !== undefined && constantBias === undefined ? bias.length * 4 : 0,
    out: shape.batch * imageOut * 4,
    // The stride-2 reads may pass the padded plane's end by 4 bytes.
    padded: padded.height * padded.width * 4 + 64,
  });
  const buffer = heap.buffer;
  writeGeometry(heap, at.geometry, shape, 0, padded);
  new Float32Array(buffer, at.x, data.length).set(data);
  if (prepared === undefined) new Float32Array(buffer, at.weights, weight.length).set(weight);
  if (bias !== undefined && constantBias === undefined)
    new Float32Array(buffer, at.bias, bias.length).set(bias);
  const biasAt = bias === undefined ? 0 : (constantBias ?? at.bias);
  for (let image = 0; image < shape.batch; image++) {
    kernels.depthwise_f32(
      at.geometry,
      at.x + image * imageIn * 4,
      prepared ?? at.weights,
      biasAt,
      shape.outChannels / shape.channels,
      shape.outChannels,
      at.out + image * imageOut * 4,
      at.padded,
    );
  }
  return new Float32Array(heap.buffer, at.out, shape.batch * imageOut).slice();
}

function im2colGemm(state: ConvState, shape: ConvShape, { data, weight, bias }: Operands): Float32Array {
  const { heap, kernels } = state.handle;
  const { batch, group, groupChannels, groupOutputs: m, outChannels, kernelSize, outSize } = shape;
  const [, inH, inW] = shape.input;
  const [outD, outH, outW] = shape.output;
  const [kD] = shape.kernel;
  const k = groupChannels * kernelSize;
  const planes = groupChannels * kD;
  const slicePositions = outH * outW;
  const slicePanels = Math.ceil(slicePositions / PANEL);
  const panelsPerPass = chunkPanels((k + m) * PANEL * 4, slicePanels);
  // A 1x1 window without stride or pads reads the input planes as they are: pack them, no im2col.
  const pointwise = isPointwise(shape);
  const prepared = state.weights?.kind === 'gemm' ? state.weights.groups : undefined;
  const constantBias = bias === undefined ? undefined : state.bias;
  const at = carveScratch(heap, {
    geometry: GEOMETRY_BYTES,
    planes: planes * 4,
    // The im2col's stride-2 reads may pass a plane's end by 4 bytes.
    x: data.length * 4 + 64,
    weightsRaw: prepared === undefined ? weight.length * 4 : 0,
    weights: prepared === undefined ? weight.length * 4 : 0,
    bias: bias !== undefined && constantBias === undefined ? bias.length * 4 : 0,
    b: panelsPerPass * k * PANEL * 4,
    c: panelsPerPass * m * PANEL * 4,
    out: batch * outChannels * outSize * 4,
  });
  const buffer = heap.buffer;
  writeGeometry(heap, at.geometry, shape, planes);
  new Float32Array(buffer, at.x, data.length).set(data);
  let groups = prepared;
  if (groups === undefined) {
    new Float32Array(buffer, at.weightsRaw, weight.length).set(weight);
    groups = Array.from({ length: group }, (_, g) => at.weights + g * m * k * 4);
    packGroups(state.handle, at.weightsRaw, groups, m, k);
  }
  if (bias !== undefined && constantBias === undefined)
    new Float32Array(buffer, at.bias, bias.length).set(bias);
  const biasAt = bias === undefined ? undefined : (constantBias ?? at.bias);
  const table = new Int32Array(buffer, at.planes, planes);
  for (let image = 0; image < batch; image++) {
    for (let g = 0; g < group; g++) {
      for (let slice = 0; slice < outD; slice++) {
        fillPlaneTable(table, shape, at.x, 4, image, g, slice);
        const target = at.out + ((image * outChannels + g * m) * outSize + slice * slicePositions) * 4;
        for (let first = 0; first < slicePanels; first += panelsPerPass) {
          const count = Math.min(panelsPerPass, slicePanels - first);
          const columns = Math.min(count * PANEL, slicePositions - first * PANEL);
          if (pointwise) {
            kernels.pack_b_f32(table[0]! + first * PANEL * 4, k, columns, inH * inW, 1, at.b);
          } else {
            kernels.im2col_f32(at.geometry, at.planes, first, count, at.b);
          }
          kernels.gemm_f32(groups[g]!, at.b, at.c, count * PANEL * 4, m, count, k);
          kernels.copy_rows_32(
            at.c,
            count * PANEL * 4,
            m,
            columns,
            biasAt === undefined ? 0 : biasAt + g * m * 4,
            target + first * PANEL * 4,
            outSize * 4,
          );
        }
      }
    }
  }
  return new Float32Array(heap.buffer, at.out, batch * outChannels * outSize).slice();
}

export const convKernels = [conv];
