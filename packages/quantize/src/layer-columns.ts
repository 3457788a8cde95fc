// A Conv, Gemm or MatMul computes y = W x for many input vectors x: a Conv's im2col patches (one per output
// position), a Gemm's or MatMul's rows. AdaRound needs a bounded sample of them: a reservoir keeps a uniform random
// subset of fixed size over every sample's vectors, seeded, without holding the layer's whole input.
import { type Tensor, createSeededRandom } from '@quantkit/core';
import {
  type AutoPad,
  type Node,
  intAttribute,
  intsAttribute,
  stringAttribute,
  windowGeometry,
} from '@quantkit/onnx';

/** A weight seen as a matrix [rows, inner]: `order[r * inner + k]` is element (r, k)'s index in the tensor. */
export interface WeightLayout {
  readonly rows: number;
  readonly inner: number;
  /** Rows split into this many equal runs, each reading its own input channels (grouped Conv). */
  readonly groups: number;
  readonly order: Int32Array;
}

/** Row-major [K, N] read as [N, K]. */
function transposedOrder(inner: number, rows: number): Int32Array {
  const order = new Int32Array(rows * inner);
  for (let r = 0; r < rows; r++) for (let k = 0; k < inner; k++) order[r * inner + k] = k * rows + r;
  return order;
}

const identity = (size: number) => Int32Array.from({ length: size }, (_, i) => i);

/**
 * The matrix view of `stored` (the weight as quantized: the node's constant, or its [K, N] transpose where an
 * integer kernel wants one) for `node` reading it at input 1; undefined for forms not handled (ConvTranspose,
 * batched MatMul weights).
 */
export function weightLayout(node: Node, constant: Tensor, stored: Tensor): WeightLayout | undefined {
  const { shape } = stored;
  const size = stored.data.length;
  if (node.opType === 'Conv' && shape.length >= 3 && stored === constant) {
    const groups = intAttribute(node, 'group', 1);
    const rows = shape[0]!;
    if (groups < 1 || rows % groups !== 0) return undefined;
    return { rows, inner: size / rows, groups, order: identity(size) };
  }
  if (shape.length !== 2) return undefined;
  const [first, second] = shape as [number, number];
  if (node.opType === 'Gemm') {
    // B is [K, N], or [N, K] with transB; a copy made for an integer kernel is [K, N] either way.
    const rowsFirst = intAttribute(node, 'transB', 0) !== 0 && stored === constant;
    if (rowsFirst) return { rows: first, inner: second, groups: 1, order: identity(size) };
    return { rows: second, inner: first, groups: 1, order: transposedOrder(first, second) };
  }
  if (node.opType === 'MatMul')
    return { rows: second, inner: first, groups: 1, order: transposedOrder(first, second) };
  return undefined;
}

/** Where a Conv reads its input: per spatial dimension, the window's start for each output and its taps. */
interface ConvGeometry {
  readonly channels: number;
  readonly spatial: readonly number[];
  readonly outputs: readonly number[];
  readonly strides: readonly number[];
  readonly padsBegin: readonly number[];
  readonly dilations: readonly number[];
  readonly kernel: readonly number[];
}

function convGeometry(
  node: Node,
  inputShape: readonly number[],
  weightShape: readonly number[],
): ConvGeometry {
  const kernel = weightShape.slice(2);
  const window = windowGeometry(
    {
      kernelShape: undefined,
      strides: intsAttribute(node, 'strides'),
      dilations: intsAttribute(node, 'dilations'),
      pads: intsAttribute(node, 'pads'),
      autoPad: stringAttribute(node, 'auto_pad', 'NOTSET') as AutoPad,
      ceilMode: false,
    },
    inputShape.slice(2),
    kernel,
  );
  return {
    channels: inputShape[1]!,
    spatial: window.input,
    outputs: window.output,
    strides: window.strides,
    padsBegin: window.padBegin,
    dilations: window.dilations,
    kernel,
  };
}

/**
 * A uniform random sample of at most `capacity` of a layer's input vectors over every sample added (reservoir
 * sampling), stored per vector as [groups * inner] values laid out like the weight's rows.
 */
export class ColumnSampler {
  private readonly store: Float32Array;
  private readonly random: () => number;
  private seen = 0;
  private filled = 0;

  constructor(
    private readonly node: Node,
    private readonly weightShape: readonly number[],
    private readonly layout: WeightLayout,
    private readonly capacity: number,
    seed: number,
  ) {
    this.store = new Float32Array(capacity * layout.groups * layout.inner);
    this.random = createSeededRandom(seed);
  }

  /** The slot the next vector goes to, or -1 when the reservoir passes it over. */
  private slot(): number {
    const index = this.seen++;
    if (index < this.capacity) {
      this.filled++;
      return index;
    }
    const chosen = Math.floor(this.random() * (index + 1));
    return chosen < this.capacity ? chosen : -1;
  }

  /** Adds one run's input; false when its shape does not fit the layer. */
  add(value: Tensor): boolean {
    if (value.dtype !== 'float32') return false;
    return this.node.opType === 'Conv'
      ? this.addConv(value as Tensor<'float32'>)
      : this.addRows(value as Tensor<'float32'>);
  }

  private addRows(value: Tensor<'float32'>): boolean {
    const { inner } = this.layout;
    const { shape, data } = value;
    const transposed = this.node.opType === 'Gemm' && intAttribute(this.node, 'transA', 0) !== 0;
    if (transposed) {
      // A is [K, M]: its columns are the vectors.
      if (shape.length !== 2 || shape[0] !== inner) return false;
      const count = shape[1]!;
      for (let m = 0; m < count; m++) {
        const slot = this.slot();
        if (slot < 0) continue;
        for (let k = 0; k < inner; k++) this.store[slot * inner + k] = data[k * count + m]!;
      }
      return true;
    }
    if (shape.length === 0 || shape[shape.length - 1] !== inner) return false;
    const count = data.length / inner;
    for (let row = 0; row < count; row++) {
      const slot = this.slot();
      if (slot >= 0) this.store.set(data.subarray(row * inner, (row + 1) * inner), slot * inner);
    }
    return true;
  }

  private addConv(value: Tensor<'float32'>): boolean {
    const { groups, inner } = this.layout;
    const { shape, data } = value;
    const kernelRank = this.weightShape.length - 2;
    const perGroup = this.weightShape[1]!;
    if (shape.length !== kernelRank + 2 || shape[1] !== perGroup * groups) return false;
    const geometry = convGeometry(this.node, shape, this.weightShape);
    const { spatial, outputs, strides, padsBegin, dilations, kernel, channels } = geometry;
    const taps = kernel.reduce((product, size) => product * size, 1);
    const positions = outputs.reduce((product, size) => product * size, 1);
    const plane = spatial.reduce((product, size) => product * size, 1);
    const batch = shape[0]!;
    const output = new Array<number>(kernelRank).fill(0);
    const tap = new Array<number>(kernelRank).fill(0);
    // Per tap: its offset into the plane, or -1 when it falls into the padding, for the current output position.
    const offsets = new Int32Array(taps);
    for (let b = 0; b < batch; b++) {
      for (let position = 0; position < positions; position++) {
        const slot = this.slot();
        if (slot < 0) continue;
        let rest = position;
        for (let d = kernelRank - 1; d >= 0; d--) {
          output[d] = rest % outputs[d]!;
          rest = Math.floor(rest / outputs[d]!);
        }
        for (let t = 0; t < taps; t++) {
          let remaining = t;
          for (let d = kernelRank - 1; d >= 0; d--) {
            tap[d] = remaining % kernel[d]!;
            remaining = Math.floor(remaining / kernel[d]!);
          }
          let offset = 0;
          for (let d = 0; d < kernelRank; d++) {
            const coordinate = output[d]! * strides[d]! - padsBegin[d]! + tap[d]! * dilations[d]!;
            if (coordinate < 0 || coordinate >= spatial[d]!) {
              offset = -1;
              break;
            }
            offset = offset * spatial[d]! + coordinate;
          }
          offsets[t] = offset;
        }
        const base = slot * groups * inner;
        for (let c = 0; c < channels; c++) {
          // Channel c is row-input (c % perGroup) of group floor(c / perGroup); [g][c][tap] matches the weight rows.
          const target = base + c * taps;
          const source = (b * channels + c) * plane;
          for (let t = 0; t < taps; t++) {
            const offset = offsets[t]!;
            this.store[target + t] = offset < 0 ? 0 : data[source + offset]!;
          }
        }
      }
    }
    return true;
  }

  /** The vectors kept, per group [inner, count] row-major (AdaRound's column layout), and how many. */
  columns(): { inputs: Float32Array; count: number } {
    const { groups, inner } = this.layout;
    const count = this.filled;
    const width = groups * inner;
    const inputs = new Float32Array(width * count);
    for (let n = 0; n < count; n++) {
      for (let row = 0; row < width; row++) inputs[row * count + n] = this.store[n * width + row]!;
    }
    return { inputs, count };
  }
}
