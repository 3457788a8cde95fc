import { QuantError, listChoices } from '@quantkit/core';
import { type Graph, type Model, cloneModel, opsetVersion, subgraphsOf } from '@quantkit/onnx';
import { convertFloat16Scope } from './convert-float16-scope.js';
import { DEFAULT_FLOAT16_BLOCK_LIST } from './float16-op-rules.js';
import { planFloat16Scope } from './plan-float16-scope.js';
import { storeBfloat16Weights } from './store-bfloat16-weights.js';

export interface ConvertToFloat16Options {
  /**
   * 'float16' (default) converts operators: their float32 inputs, outputs and weights become float16.
   * 'bfloat16' converts only weight storage: eligible float32 initializers are stored as bfloat16 and a Cast to
   * float32 is put in front of their consumers, so every operator still runs in float32 (onnxruntime's CPU
   * provider has bfloat16 kernels for few operators; this is the form that runs there, halving the file size).
   */
  dtype?: 'float16' | 'bfloat16';
  /**
   * Keep graph inputs and outputs float32 (default true): a Cast to float16 follows each float input and a Cast to
   * float32 precedes each float output, so callers feed and read float32 as before. false makes them float16.
   */
  keepIoTypes?: boolean;
  /** Operator types kept in float32; default {@link DEFAULT_FLOAT16_BLOCK_LIST}. Replaces the default list. */
  blockList?: readonly string[];
  /** Node names kept in float32 (e.g. a layer that overflows float16). */
  nodeBlockList?: readonly string[];
}

const DTYPES = ['float16', 'bfloat16'] as const;

function checkStrings(value: unknown, flag: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) {
    throw new QuantError('INVALID_ARGUMENT', `convertToFloat16 option ${flag} must be an array of strings`);
  }
  return value as string[];
}

/** Sorts a graph and every body in it (Casts were added at the end). */
function sortScopes(graph: Graph): void {
  graph.topologicalSort();
  for (const node of graph.nodes) for (const body of subgraphsOf(node)) sortScopes(body);
}

/**
 * Converts a float32 model to float16 (operators and weights) or to bfloat16 weight storage, returning a new model
 * (the input is not modified; unchanged tensors are shared).
 *
 * float16: every node not blocked computes in float16. Its float32 inputs, outputs, value_info types and the
 * weights only it reads become float16 (weights beyond +-65504 saturate); a weight read by both float16 and
 * float32 nodes is stored twice. Casts are inserted where a float32 value meets a float16 consumer and the other way
 * round, one per value and direction. Kept float32: nodes of {@link ConvertToFloat16Options.blockList} (default
 * {@link DEFAULT_FLOAT16_BLOCK_LIST}) and `nodeBlockList`; custom-domain nodes other than
 * {@link FLOAT16_CUSTOM_OPS}; If/Loop/Scan nodes themselves (their bodies convert, keeping float32 inputs and
 * outputs, and a main-graph weight that only converted body nodes read is stored in float16); nodes
 * reading values of unknown type; shape arithmetic done in float (values computed only from Shape/Size outputs and
 * constants, which float16 would round above 2048); Resize's roi/scales and Upsample's scales inputs (float32 by
 * spec). Cast(to float), EyeLike(dtype float) and ConstantOfShape (value) in converted regions produce float16.
 *
 * bfloat16: only weight storage changes (see {@link ConvertToFloat16Options.dtype}); `keepIoTypes` has no effect.
 *
 * @example
 * const half = convertToFloat16(model); // float32 in and out, float16 inside
 * const storage = convertToFloat16(model, { dtype: 'bfloat16' });
 * const custom = convertToFloat16(model, { blockList: [...DEFAULT_FLOAT16_BLOCK_LIST, 'Pow'], nodeBlockList: ['head'] });
 * @throws QuantError INVALID_ARGUMENT for an unknown dtype or malformed lists; UNSUPPORTED for bfloat16 below
 *   opset 13 (Cast from bfloat16 needs opset 13); INVALID_MODEL when the graph has a cycle.
 */
export function convertToFloat16(model: Model, options: ConvertToFloat16Options = {}): Model {
  const dtype = options.dtype ?? 'float16';
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `convertToFloat16 dtype "${String(dtype)}" is not supported; choose ${listChoices(DTYPES)}`,
    );
  }
  const blockList = new Set(checkStrings(options.blockList, 'blockList') ?? DEFAULT_FLOAT16_BLOCK_LIST);
  const nodeBlockList = new Set(checkStrings(options.nodeBlockList, 'nodeBlockList') ?? []);
  if (dtype === 'bfloat16') {
    const opset = opsetVersion(model) ?? 1;
    if (opset < 13) {
      throw new QuantError(
        'UNSUPPORTED',
        `bfloat16 weight storage needs opset 13 or newer (Cast from bfloat16), but the model imports opset ${opset}; ` +
          're-export the model with opset >= 13 or use dtype "float16"',
      );
    }
  }
  const result = cloneModel(model);
  const scope = planFloat16Scope(result.graph, { blockList, nodeBlockList }, new Map());
  if (dtype === 'bfloat16') storeBfloat16Weights(scope, new Set());
  else convertFloat16Scope(scope, options.keepIoTypes ?? true, undefined, new Set());
  sortScopes(result.graph);
  return result;
}
