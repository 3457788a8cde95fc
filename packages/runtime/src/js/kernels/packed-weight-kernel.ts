import {
  API_VERSION,
  type KernelNode,
  type KernelPlugin,
  type KernelValueInfo,
  QuantError,
  type Tensor,
} from '@quantkit/core';
import { BUILTIN_OPS } from '@quantkit/onnx';
import { dequantizePackedWeight } from './dequantize-packed-weight.js';
import { packedFormatProblem } from './packed-matrix.js';

// `quantkit quantize --mode weight-only --format packed` moves every node whose weight a quantizer packs to domain
// ai.quantkit (see packed-matrix.ts): besides MatMul, Gemm and Conv, which have kernels that multiply by the packed
// codes (packed-kernels.ts), that is Gather (an embedding table), ConvTranspose, LSTM, GRU and RNN, and the node
// that first moves a weight built from constants by data movement (a Slice of an LSTM's weight_ih). For those the
// weight is dequantized once, when the node is prepared, and the default-domain kernel runs with it as a constant:
// the same float math as the stock form, which dequantizes the same codes in front of the same op.

const DOMAIN = 'ai.quantkit';

/** The latest ONNX opset the default-domain kernels are shown when a node does not say it is older. */
const LATEST_OPSET = 21;

/**
 * The slot of a node's packed weight: among the inputs the op reads a weight from (its weight slots, or the data
 * inputs of an op that moves data), the one holding a uint8 initializer; or why there is none.
 */
function packedSlotOf(node: KernelNode): number | string {
  const descriptor = BUILTIN_OPS.get(node.opType);
  const candidates =
    descriptor?.weight?.slots ??
    (descriptor?.movesData === true
      ? descriptor.dataInputs === 'all'
        ? node.inputs.map((_, slot) => slot)
        : descriptor.dataInputs
      : []);
  const packed = candidates.filter((slot) => node.inputs[slot]?.constant?.dtype === 'uint8');
  if (packed.length === 1) return packed[0]!;
  if (packed.length === 0) {
    return `none of its weight inputs (${candidates.join(', ') || 'none'}) is a uint8 initializer`;
  }
  return `inputs ${packed.join(' and ')} are both uint8 initializers; one packed weight per node is read`;
}

/**
 * The default-domain opset the float kernel sees. The node carries the ai.quantkit opset, not the model's ONNX
 * one; the float kernels only read it where ONNX moved an attribute to an input (Slice 10, Squeeze, Unsqueeze and
 * Split 13, Concat's axis required from 4), so the attributes the node has say which side it was written on.
 */
function onnxOpsetOf(node: KernelNode): number {
  const { attributes, opType } = node;
  if (opType === 'Slice' && attributes.has('starts')) return 9;
  if ((opType === 'Squeeze' || opType === 'Unsqueeze') && attributes.has('axes')) return 12;
  if (opType === 'Split' && attributes.has('split')) return 12;
  if (opType === 'Concat' && !attributes.has('axis')) return 3;
  return LATEST_OPSET;
}

interface PackedWeightState {
  readonly inner: unknown;
  readonly slot: number;
  readonly weight: Tensor<'float32'>;
}

/**
 * The node as the default-domain kernel sees it: domain '', its ONNX opset, and the dequantized weight as the
 * constant in the packed slot (the weight_* attributes stay; the float kernels read only their own).
 */
function floatNode(node: KernelNode, slot: number, weight: Tensor<'float32'>): KernelNode {
  const info: KernelValueInfo = {
    name: node.inputs[slot]!.name,
    dtype: 'float32',
    shape: weight.shape,
    constant: weight,
  };
  return {
    ...node,
    domain: '',
    opset: onnxOpsetOf(node),
    inputs: node.inputs.map((input, index) => (index === slot ? info : input)),
  };
}

/**
 * The ai.quantkit form of a default-domain kernel: the packed weight is dequantized to float32 once, when the node
 * is prepared, and `kernel` prepares and runs with it in the weight slot.
 *
 * @example
 * const packedLstm = packedWeightKernel(lstmKernel); // js/ai.quantkit.LSTM
 */
export function packedWeightKernel<State, Handle>(
  kernel: KernelPlugin<State, Handle>,
): KernelPlugin<PackedWeightState, Handle> {
  const { supports } = kernel;
  return {
    kind: 'kernel',
    name: `${kernel.backend}/${DOMAIN}.${kernel.opType}`,
    apiVersion: API_VERSION,
    description: `${kernel.opType} with a packed binary or log weight (ai.quantkit), dequantized once`,
    opType: kernel.opType,
    domain: DOMAIN,
    backend: kernel.backend,
    supports: (node) => {
      const slot = packedSlotOf(node);
      if (typeof slot === 'string') return slot;
      const problem = packedFormatProblem(node, slot);
      if (problem !== undefined) return problem;
      if (supports === undefined) return true;
      // The weight's values do not change what a float kernel supports: show it the weight's type and shape.
      const info = node.inputs[slot]!;
      const shape = node.attributes.ints('weight_shape');
      return supports({
        ...node,
        domain: '',
        opset: onnxOpsetOf(node),
        inputs: node.inputs.map((input, index) =>
          index === slot ? { name: info.name, dtype: 'float32', shape } : input,
        ),
      });
    },
    prepare: (node, handle) => {
      const slot = packedSlotOf(node);
      if (typeof slot === 'string') throw new QuantError('UNSUPPORTED', `${node.label}: ${slot}`);
      const weight = dequantizePackedWeight(node, slot);
      const inner = kernel.prepare(floatNode(node, slot, weight), handle);
      return inner instanceof Promise
        ? inner.then((resolved): PackedWeightState => ({ inner: resolved, slot, weight }))
        : { inner, slot, weight };
    },
    run: (state, inputs, context) =>
      kernel.run(
        state.inner as State,
        inputs.map((input, index) => (index === state.slot ? state.weight : input)),
        context,
      ),
  };
}

/**
 * ai.quantkit forms ({@link packedWeightKernel}) of the default-domain kernels whose op can hold a packed weight
 * (an op weight-only mode stores a weight of, or one that moves data), except ops that already have an
 * ai.quantkit kernel among `kernels`.
 */
export function packedWeightKernels(kernels: readonly KernelPlugin[]): KernelPlugin[] {
  const covered = new Set(
    kernels.flatMap((kernel) => (kernel.domain === DOMAIN ? [`${kernel.backend}:${kernel.opType}`] : [])),
  );
  return kernels.flatMap((kernel) => {
    if (kernel.domain !== '' || covered.has(`${kernel.backend}:${kernel.opType}`)) return [];
    const descriptor = BUILTIN_OPS.get(kernel.opType);
    if (descriptor?.weightOnly !== true && descriptor?.movesData !== true) return [];
    return [packedWeightKernel(kernel) as KernelPlugin];
  });
}
