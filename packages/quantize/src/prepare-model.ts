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
  type Model,
  cloneModel,
  decodeModel,
  encodeModel,
  encodedSize,
  hasPagedTensors,
  opsetVersion,
  validateModel,
} from '@quantkit/onnx';
import { DEFAULT_TARGET, createDefaultRegistry } from './builtins.js';
import { type FloatModelBytes, graphValueNames } from './calibrate.js';
import { modelFingerprint } from './calibration-cache.js';
import { type KeptQuantization, importQuantization } from './import-quantization.js';
import { type DataFreePreparation, dataFreePreparation } from './data-free-preparation.js';
import { BUILTIN_TRANSFORMS, applyTransforms } from './model-transforms.js';
import { checkKeptPoints } from './plan-kept.js';
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
  /** A quantization-aware-trained input's own Q/DQ parameters and weight codes, taken out of `model`. */
  readonly kept?: KeptQuantization;
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
 * A quantization-aware-trained model keeps its own Q/DQ in static and weight-only runs. Dynamic mode would compute
 * activation scales at run time over the trained ones, and float mode has no integer grid to keep them on.
 * @throws QuantError UNSUPPORTED naming the mode and a node of the model's own quantization.
 */
function checkKeptMode(kept: KeptQuantization, recipe: Recipe): void {
  if (recipe.mode === 'static' || recipe.mode === 'weight-only') return;
  const [first] = [...kept.activations.keys(), ...kept.weights.keys()];
  throw new QuantError(
    'UNSUPPORTED',
    [
      'the model is already quantized (quantization-aware trained, or a QDQ export): it carries its own Q/DQ ' +
        `(${kept.removedNodes} nodes, e.g. on ` +
        `"${first ?? kept.biases[0]}"), which `,
      { option: 'mode', value: recipe.mode },
      recipe.mode === 'dynamic'
        ? ' would replace with scales computed at run time; use '
        : recipe.mode === 'float'
          ? ' has no integer grid to keep; use '
          : ' does not keep; use ',
      { option: 'mode', value: 'static' },
      ' (keeps them and quantizes the rest) or weight-only',
    ],
    { details: { option: 'mode', value: recipe.mode, allowed: ['static', 'weight-only'] } },
  );
}

/**
 * Decodes a private copy of the input (the caller's model or file is never changed), names its nodes, checks that
 * it is a float model the target can take, and applies the built-in and the caller's float transforms.
 * A quantization-aware-trained model's Q/DQ are taken out of the copy, their parameters kept (PreparedModel.kept).
 * @throws QuantError INVALID_MODEL for a broken model, UNSUPPORTED for no default opset, quantized operators other
 *   than Q/DQ, a QAT model in dynamic or float mode, or an opset older than the target's.
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
  // A quantization-aware-trained model: its own Q/DQ come out of the private copy, their parameters kept.
  const kept = importQuantization(graph);
  if (kept !== undefined) checkKeptMode(kept, setup.recipe);
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
      changes === 0 && kept === undefined
        ? { bytes: inputBytes(), values: inputValues }
        : { bytes: encodeModel(model), values: graphValueNames(model) };
    return floatBytes;
  };
  if (kept !== undefined) checkKeptPoints(graph, kept);
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
    ...(kept !== undefined && { kept }),
    ...(dataFree !== undefined && { dataFree }),
  };
}
