import type { KernelContext, KernelNode, KernelPlugin, KernelValueInfo, Tensor } from '@quantkit/core';
import { type HalfDType, float32ToHalf, halfToFloat32, isHalfDType } from './half-float.js';

// The JS kernels compute in float32. A float16 (or bfloat16) model runs on them the way onnxruntime's CPU provider
// runs one on its float kernels (it inserts Casts around each node that has no float16 kernel): the 16-bit inputs
// are widened to float32 (exactly), the float32 kernel runs, and its float outputs are rounded to the 16-bit type,
// once per node. This file does that for every kernel in one place, so no kernel carries its own float16 path.

/**
 * Ops whose JS kernels take 16-bit floats as they are: Cast and CastLike convert from and to them, If and Loop
 * hand values to subgraphs unchanged, and the rest move elements without reading them as numbers (widening and
 * rounding back would give the same bits, only slower).
 */
const TAKES_HALF_AS_IS: ReadonlySet<string> = new Set([
  'Cast',
  'CastLike',
  'If',
  'Loop',
  'Scan',
  'Identity',
  'Reshape',
  'Shape',
  'Size',
  'Transpose',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Expand',
  'Tile',
  'Concat',
  'Split',
  'Slice',
  'Gather',
  'GatherElements',
  'Where',
  'ConstantOfShape',
]);

/**
 * Outputs whose float type is not the first float input's: LayerNormalization's Mean and InvStdDev have type U,
 * which stash_type picks (float32 by default) whatever X is.
 */
function keepsFloat32(node: KernelNode, output: number): boolean {
  return node.domain === '' && node.opType === 'LayerNormalization' && output > 0;
}

interface HalfFloatState {
  readonly inner: unknown;
  readonly node: KernelNode;
  /** Constant 16-bit inputs (as the runtime passes them) and their float32 values, converted once. */
  readonly widened: ReadonlyMap<Tensor, Tensor>;
}

const FLOAT_DTYPES: ReadonlySet<string> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

function widenInfo(info: KernelValueInfo, widened: Map<Tensor, Tensor>): KernelValueInfo {
  if (info.dtype === undefined || !isHalfDType(info.dtype)) return info;
  const constant = info.constant === undefined ? undefined : widen(info.constant, widened);
  return { ...info, dtype: 'float32', ...(constant !== undefined && { constant }) };
}

function widen(tensor: Tensor, cache: Map<Tensor, Tensor>): Tensor {
  let wide = cache.get(tensor);
  if (wide === undefined) {
    wide = {
      dtype: 'float32',
      shape: tensor.shape,
      data: halfToFloat32(tensor.data as Uint16Array, tensor.dtype as HalfDType),
    };
    cache.set(tensor, wide);
  }
  return wide;
}

/** The node as the float32 kernel sees it: 16-bit float inputs and outputs as float32, constants converted. */
function widenNode(node: KernelNode, widened: Map<Tensor, Tensor>): KernelNode {
  const halfInput = node.inputs.some((info) => info?.dtype !== undefined && isHalfDType(info.dtype));
  const halfOutput = node.outputs.some((info) => info.dtype !== undefined && isHalfDType(info.dtype));
  if (!halfInput && !halfOutput) return node;
  return {
    ...node,
    inputs: node.inputs.map((info) => (info === undefined ? undefined : widenInfo(info, widened))),
    outputs: node.outputs.map((info) => widenInfo(info, widened)),
  };
}

/**
 * The 16-bit float type of a node's outputs for these inputs: that of its first float input (X for most ops,
 * the scale for DequantizeLinear), or undefined when that input is float32 or float64, or there is none.
 */
function halfTypeOf(inputs: readonly (Tensor | undefined)[]): HalfDType | undefined {
  for (const input of inputs) {
    if (input === undefined || !FLOAT_DTYPES.has(input.dtype)) continue;
    return isHalfDType(input.dtype) ? input.dtype : undefined;
  }
  return undefined;
}

function roundOutputs(
  node: KernelNode,
  outputs: readonly Tensor[],
  halfType: HalfDType | undefined,
): readonly Tensor[] {
  return outputs.map((output, index) => {
    if (output.dtype !== 'float32') return output;
    // A declared output type decides; otherwise the outputs follow the first float input.
    const declared = node.outputs[index]?.dtype;
    const target =
      declared !== undefined
        ? isHalfDType(declared)
          ? declared
          : undefined
        : keepsFloat32(node, index)
          ? undefined
          : halfType;
    if (target === undefined) return output;
    return { dtype: target, shape: output.shape, data: float32ToHalf(output.data as Float32Array, target) };
  });
}

/**
 * A float32 kernel that also runs float16 and bfloat16 nodes: 16-bit float inputs are widened to float32
 * (constants once, when the node is prepared), the kernel runs, and float32 outputs are rounded back to the
 * 16-bit type of the node's first float input (or to an output's declared type). Nodes without 16-bit float
 * inputs reach the kernel untouched.
 *
 * @example
 * const conv = halfFloatKernel(convKernel); // runs Conv on float16 X, W and B
 */
export function halfFloatKernel<State, Handle>(
  kernel: KernelPlugin<State, Handle>,
): KernelPlugin<HalfFloatState, Handle> {
  // supports() and prepare() see the same widened node (and constants converted once) for a node.
  const widenedNodes = new WeakMap<KernelNode, { node: KernelNode; widened: Map<Tensor, Tensor> }>();
  const widenedOf = (node: KernelNode) => {
    let entry = widenedNodes.get(node);
    if (entry === undefined) {
      const widened = new Map<Tensor, Tensor>();
      entry = { node: widenNode(node, widened), widened };
      widenedNodes.set(node, entry);
    }
    return entry;
  };
  const { supports } = kernel;
  return {
    ...kernel,
    ...(supports !== undefined && { supports: (node: KernelNode) => supports(widenedOf(node).node) }),
    prepare: (node, handle) => {
      const { node: widenedNode, widened } = widenedOf(node);
      const inner = kernel.prepare(widenedNode, handle);
      return inner instanceof Promise
        ? inner.then((resolved): HalfFloatState => ({ inner: resolved, node, widened }))
        : { inner, node, widened };
    },
    run: (state, inputs, context: KernelContext) => {
      if (!inputs.some((input) => input !== undefined && isHalfDType(input.dtype))) {
        return kernel.run(state.inner as State, inputs, context);
      }
      const halfType = halfTypeOf(inputs);
      const cache = state.widened;
      const wide = inputs.map((input) => {
        if (input === undefined || !isHalfDType(input.dtype)) return input;
        return (
          cache.get(input) ?? {
            dtype: 'float32' as const,
            shape: input.shape,
            data: halfToFloat32(input.data as Uint16Array, input.dtype),
          }
        );
      });
      const outputs = kernel.run(state.inner as State, wide, context);
      return outputs instanceof Promise
        ? outputs.then((resolved) => roundOutputs(state.node, resolved, halfType))
        : roundOutputs(state.node, outputs, halfType);
    },
  };
}

/**
 * The kernels, each able to run 16-bit float nodes ({@link halfFloatKernel}), except those that take 16-bit
 * floats as they are (casts, control flow, ops that only move elements).
 */
export function withHalfFloats(kernels: readonly KernelPlugin[]): KernelPlugin[] {
  return kernels.map((kernel) =>
    kernel.domain === '' && TAKES_HALF_AS_IS.has(kernel.opType)
      ? kernel
      : (halfFloatKernel(kernel) as KernelPlugin),
  );
}
