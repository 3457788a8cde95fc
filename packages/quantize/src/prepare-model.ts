// The first stage of a run: the plugins and recipe resolved and checked, and quantkit's private copy of the
// model decoded, named, checked and rewritten by the float transforms, ready to plan.
import {
  type MessagePart,
  QuantError,
  type QuantizerPlugin,
  type Registry,
  type TargetPlugin,
  validatePlugin,
} from '@quantkit/core';
import {
  BUILTIN_OPS,
  type Graph,
  type Model,
  cloneModel,
  decodeModel,
  encodeModel,
  encodedSize,
  hasPagedTensors,
  opsetVersion,
  subgraphsOf,
  validateModel,
} from '@quantkit/onnx';
import { DEFAULT_TARGET, createDefaultRegistry } from './builtins.js';
import { type FloatModelBytes, graphValueNames } from './calibrate.js';
import { modelFingerprint } from './calibration-cache.js';
import { type DataFreePreparation, dataFreePreparation } from './data-free-preparation.js';
import { BUILTIN_TRANSFORMS, applyTransforms } from './model-transforms.js';
import type { QuantizeOptions, Recipe } from './options.js';
import { resolveRecipe } from './resolve-recipe.js';
import { weightBytes } from './summary.js';

/** What a run uses: its registry, target, weight quantizer and the checked recipe. */
export interface RunSetup {
  readonly registry: Registry;
  readonly target: TargetPlugin | undefined;
  readonly weightQuantizer: QuantizerPlugin;
  readonly recipe: Recipe;
}

/** The model ready to plan, with what later stages need to know of the input. */
export interface PreparedModel {
  /** quantkit's private copy: transformed, nodes named, topologically sorted. */
  readonly model: Model;
  /**
   * The input's encoding: the bytes given, or the given model encoded on first use (verification runs it in the
   * executor). A model whose data waits in external files is thus not read whole unless something runs it.
   */
  readonly inputBytes: () => Uint8Array;
  /** The input's size in bytes: its encoding's, counted without reading tensors still in their file. */
  readonly inputSize: () => number;
  /** True when the input holds tensors still in their external data file (see pagedTensor in @quantkit/onnx). */
  readonly paged: boolean;
  /** The input graph's fingerprint (calibration caches are keyed by it). */
  readonly fingerprint: string;
  readonly opset: number;
  readonly weightBytesBefore: number;
  /**
   * The float model's encoding, for calibration to append its outputs to: the input's when no transform changed
   * anything, else the transformed graph's, encoded once on first use, so the observed values are exactly those of
   * the graph that gets quantized.
   */
  readonly floatSource: () => FloatModelBytes;
  /** Mode 'data-free': the BatchNorm statistics and what equalization and absorption did. */
  readonly dataFree?: DataFreePreparation;
}

function checkQuantizer(quantizer: QuantizerPlugin, recipe: Recipe): void {
  const { bits, granularities, symmetric } = quantizer.capabilities;
  const problems: MessagePart[][] = [];
  if (!bits.includes(recipe.bits))
    problems.push([{ option: 'bits', value: recipe.bits }, ` (it takes ${bits.join(', ')})`]);
  if (!granularities.includes(recipe.granularity))
    problems.push([{ option: 'granularity', value: recipe.granularity }]);
  if (!symmetric.includes(recipe.symmetric))
    problems.push([recipe.symmetric ? 'symmetric weights' : 'asymmetric weights']);
  if (problems.length > 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        { option: 'quantizer', value: quantizer.name },
        ' does not support ',
        ...problems.flatMap((problem, index) => (index === 0 ? problem : [', ', ...problem])),
      ],
      { details: { option: 'quantizer', value: quantizer.name } },
    );
  }
}

/**
 * Resolves the registry, target and weight quantizer of a run and checks the recipe against them.
 * @throws QuantError INVALID_ARGUMENT or UNSUPPORTED naming the option, PLUGIN_NOT_FOUND for an unknown plugin.
 */
export function resolveRun(options: QuantizeOptions): RunSetup {
  const registry = options.registry ?? createDefaultRegistry();
  const target =
    typeof options.target === 'object'
      ? (validatePlugin(options.target, 'options.target') as TargetPlugin)
      : options.target !== undefined
        ? registry.get('target', options.target)
        : registry.find('target', DEFAULT_TARGET);
  const weightQuantizer = registry.get('quantizer', options.quantizer ?? 'linear');
  // A quantizer that takes one width only (binary 1, ternary 2) needs no --bits; others default to 8.
  const widths = weightQuantizer.capabilities.bits;
  const defaultBits = widths.includes(8) || widths.length !== 1 ? undefined : widths[0];
  const recipe = resolveRecipe(
    options.bits === undefined && defaultBits !== undefined ? { ...options, bits: defaultBits } : options,
    target,
  );
  checkQuantizer(weightQuantizer, recipe);
  if (recipe.format === 'packed' && weightQuantizer.packing === undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      [
        { option: 'quantizer', value: weightQuantizer.name },
        ' has no packed form; ',
        { option: 'format', value: 'packed' },
        ' is for quantizers that pack (binary, log)',
      ],
      { details: { option: 'format', value: 'packed' } },
    );
  }
  return { registry, target, weightQuantizer, recipe };
}

/**
 * A model that already holds quantization ops (a quantization-aware-trained export, or quantkit's own output) would
 * be quantized a second time around its Q/DQ pairs, stacking grids. Until quantkit imports such scales, it says so.
 * @throws QuantError UNSUPPORTED counting the quantization ops found.
 */
function refuseQuantizedInput(graph: Graph): void {
  const counts = new Map<string, number>();
  const visit = (g: Graph) => {
    for (const node of g.nodes) {
      if (BUILTIN_OPS.of(node)?.quantizedForm) counts.set(node.opType, (counts.get(node.opType) ?? 0) + 1);
      for (const body of subgraphsOf(node)) visit(body);
    }
  };
  visit(graph);
  if (counts.size === 0) return;
  const found = [...counts].map(([op, count]) => `${count} ${op}`).join(', ');
  throw new QuantError(
    'UNSUPPORTED',
    `the model is already quantized: it holds ${found} (a quantization-aware-trained or quantized export); ` +
      'quantkit quantizes float models, so quantize the float original instead',
    { details: { quantizationOps: Object.fromEntries(counts) } },
  );
}

/**
 * Decodes a private copy of the input (the caller's model or file is never changed), names its nodes, checks that
 * it is a float model the target can take, and applies the built-in and the caller's float transforms.
 * @throws QuantError INVALID_MODEL for a broken model, UNSUPPORTED for no default opset, an already quantized
 *   model or an opset older than the target's.
 */
export async function prepareModel(
  input: Uint8Array | Model,
  setup: RunSetup,
  options: QuantizeOptions,
): Promise<PreparedModel> {
  // Bytes are decoded into the private copy; a decoded model is cloned (tensors shared: quantkit replaces tensors,
  // never writes into them), so the input is decoded once and its weights are never copied.
  let encoded = input instanceof Uint8Array ? input : undefined;
  const inputBytes = (): Uint8Array => {
    encoded ??= encodeModel(input as Model);
    return encoded;
  };
  let model: Model;
  if (input instanceof Uint8Array) {
    model = decodeModel(input);
  } else {
    validateModel(input);
    model = cloneModel(input);
  }
  const paged = !(input instanceof Uint8Array) && hasPagedTensors(input);
  const inputSize = (): number => (paged ? encodedSize(input as Model) : inputBytes().length);
  const { graph } = model;
  const inputValues = graphValueNames(model);
  const fingerprint = modelFingerprint(model);
  // Names key the plan, overrides and the report; older exporters leave them empty. Give each a unique one.
  for (const [index, node] of graph.nodes.entries())
    if (node.name === '') node.name = graph.uniqueName(`${node.opType}_${index}`);
  graph.invalidate();
  const weightBytesBefore = weightBytes(graph);
  const opset = opsetVersion(model);
  if (opset === undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      'the model imports no default ONNX opset; quantkit needs an ai.onnx opset to plan for',
    );
  }
  refuseQuantizedInput(graph);
  // Initializers that are not graph inputs need IR version 4; older models list every weight as an input.
  if (model.irVersion < 4) model.irVersion = 4;
  // Data-free mode reads the BatchNorm statistics before folding removes them, and equalizes after it.
  const dataFree =
    setup.recipe.dataFree === undefined ? undefined : dataFreePreparation(setup.recipe.dataFree);
  const changes = await applyTransforms(
    model,
    [
      ...(dataFree === undefined ? [] : [dataFree.before]),
      ...BUILTIN_TRANSFORMS,
      ...(dataFree?.after ?? []),
      ...(options.transforms ?? []),
    ],
    setup.recipe.mode,
  );
  let floatBytes: FloatModelBytes | undefined;
  const floatSource = (): FloatModelBytes => {
    floatBytes ??=
      changes === 0
        ? { bytes: inputBytes(), values: inputValues }
        : { bytes: encodeModel(model), values: graphValueNames(model) };
    return floatBytes;
  };
  const { target } = setup;
  if (target?.minOpset !== undefined && opset < target.minOpset) {
    throw new QuantError(
      'UNSUPPORTED',
      [
        { option: 'target', value: target.name },
        ` needs opset ${target.minOpset} or newer; the model has opset ${opset} (convert it first)`,
      ],
      { details: { option: 'target', value: target.name } },
    );
  }
  return {
    model,
    inputBytes,
    inputSize,
    paged,
    fingerprint,
    opset,
    weightBytesBefore,
    floatSource,
    ...(dataFree !== undefined && { dataFree }),
  };
}
