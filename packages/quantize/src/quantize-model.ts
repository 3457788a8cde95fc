import {
  type LinearQuantParams,
  type MessagePart,
  QuantError,
  type QuantizerPlugin,
  type TargetPlugin,
  validatePlugin,
} from '@quantkit/core';
import {
  BUILTIN_OPS,
  type Graph,
  type Model,
  decodeModel,
  subgraphsOf,
  encodeModel,
  foldBatchNorm,
  opsetVersion,
} from '@quantkit/onnx';
import { linearQuantizer } from '@quantkit/quantizer-linear';
import { DEFAULT_TARGET, createDefaultRegistry } from './builtins.js';
import { checkModel, formatIssues } from '@quantkit/targets';
import { type ActivationRanges, activationRanges } from './activation-ranges.js';
import { buildQuantizeReport } from './build-report.js';
import { applyFloatPrecision } from './float-precision.js';
import { keepOverflowingNodesFp32 } from './float-ranges.js';
import { type QOperatorResult, qdqToQOperator } from './qoperator.js';
import type { QuantizeReport } from './report.js';
import { type FloatModelBytes, graphValueNames } from './calibrate.js';
import { type CalibrationCache, modelFingerprint } from './calibration-cache.js';
import { emitDynamic } from './emit-dynamic.js';
import { emitStatic } from './emit-static.js';
import { emitWeightOnly } from './emit-weight-only.js';
import { QdqEmitter } from './emitter.js';
import { type CalibrationSample, type QuantizeOptions, type Recipe, resolveRecipe } from './options.js';
import { type ConstantUse, type QuantPlan, planQuantization } from './plan.js';
import { writeProvenance } from './provenance.js';
import { type QuantizeSummary, weightBytes } from './summary.js';
import { ensureQdqOpset } from './upgrade-opset.js';
import { type ScopedDecision, hasSubgraphs, quantizeSubgraphs } from './subgraphs.js';
import { DEFAULT_SEED, randomSamples } from './random-samples.js';
import { type Verification, type VerificationSample, verifyQuantized } from './verify-model.js';

export interface QuantizeResult {
  /** The quantized model (IR); `bytes` is its encoding. */
  readonly model: Model;
  readonly bytes: Uint8Array;
  readonly plan: QuantPlan;
  readonly summary: QuantizeSummary;
  /** Static mode: the calibrated ranges, to save and reuse with options.calibrationCache. */
  readonly calibrationCache: CalibrationCache | undefined;
  /** The per-layer error report, when options.report asked for it. */
  readonly report: QuantizeReport | undefined;
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

/** Sizes random data tries for symbolic dims after the first, until the float model runs (audio wants more). */
const VERIFY_SYMBOLIC_DIMS = [64, 512, 16_000];

/**
 * The samples verification may run on, best first: the one given, the first calibration sample when they came as
 * an array, or seeded random data for the graph's inputs at a few sizes of their symbolic dims (a reason instead
 * when random data cannot be made for an input).
 */
function verificationSamples(
  graph: Graph,
  options: QuantizeOptions,
): { samples: CalibrationSample[]; sampleOrigin: VerificationSample } | { reason: string } {
  if (options.verifySample !== undefined) return { samples: [options.verifySample], sampleOrigin: 'given' };
  const data = options.calibrationData;
  if (Array.isArray(data) && data.length > 0) {
    return { samples: [(data as readonly CalibrationSample[])[0]!], sampleOrigin: 'calibration' };
  }
  const inputs = graph.inputs.filter((input) => !graph.initializers.has(input.name));
  try {
    const symbolic = (dim: unknown) => !(typeof dim === 'number' && Number.isInteger(dim) && dim >= 0);
    const sized = inputs.some((input) => (input.shape ?? []).slice(1).some(symbolic));
    const dims = sized ? VERIFY_SYMBOLIC_DIMS : VERIFY_SYMBOLIC_DIMS.slice(0, 1);
    return {
      samples: dims.map((dim) => randomSamples(inputs, 1, DEFAULT_SEED, dim)[0]!),
      sampleOrigin: 'random',
    };
  } catch (error) {
    return { reason: `no sample to run: ${(error as Error).message}` };
  }
}

/**
 * Quantizes an ONNX model: plan -> (calibrate) -> emit -> encode. The input is never modified.
 *
 * @example
 * const { bytes, summary } = await quantizeModel(modelBytes, { mode: 'dynamic' });
 * @example
 * const result = await quantizeModel(modelBytes, { mode: 'static', executor, calibrationData: samples });
 * @throws QuantError INVALID_ARGUMENT for bad options, INVALID_MODEL for a broken model, CALIBRATION_DATA for
 * missing or misfit samples, EXECUTOR when the runtime fails during calibration.
 */
export async function quantizeModel(
  input: Uint8Array | Model,
  options: QuantizeOptions,
): Promise<QuantizeResult> {
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

  // Work on a private copy: decoding the bytes again leaves the caller's model (or file) untouched.
  const inputBytes = input instanceof Uint8Array ? input : encodeModel(input);
  let model = decodeModel(inputBytes);
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
  const folded = foldBatchNorm(graph);
  graph.topologicalSort();
  // Calibration runs the float model with the values it observes appended as outputs to its encoding (see
  // exposeOutputsInBytes), so a run with many passes does not encode the model for each. That encoding is the
  // input's when nothing was folded; after BatchNorm folding it is the folded graph's, encoded once, so the
  // observed values are exactly those of the graph that gets quantized.
  let floatBytes: FloatModelBytes | undefined;
  const floatSource = (): FloatModelBytes => {
    floatBytes ??=
      folded === 0
        ? { bytes: inputBytes, values: inputValues }
        : { bytes: encodeModel(model), values: graphValueNames(model) };
    return floatBytes;
  };

  if (target?.minOpset !== undefined && opset < target.minOpset) {
    throw new QuantError(
      'UNSUPPORTED',
      `target "${target.name}" needs opset ${target.minOpset} or newer; the model has opset ${opset} (convert it first)`,
    );
  }
  const planOpset = recipe.mode === 'static' ? ensureQdqOpset(model, opset) : opset;
  const keepFirstLast = recipe.keepHigherPrecision && weightQuantizer.keepHigherPrecision === 'first-last';
  let plan = planQuantization(graph, recipe, planOpset, keepFirstLast);
  const quantizerFor = (use: ConstantUse) =>
    use.override?.quantizer === undefined
      ? weightQuantizer
      : registry.get('quantizer', use.override.quantizer);
  // The report compares against the float graph as planned (BatchNorm folded), so every value name lines up.
  // graph.clone() shares tensors, which quantization replaces rather than changes, so the copy costs no weights.
  const reference =
    options.report === undefined
      ? undefined
      : {
          ...model,
          opsetImports: model.opsetImports.map((entry) => ({ ...entry })),
          metadata: new Map(model.metadata),
          graph: model.graph.clone(),
        };
  const emitter = new QdqEmitter(model, planOpset, {
    weightRange: recipe.weightRange,
    perConsumer: recipe.qdqPerConsumer,
    packCodes: recipe.mode === 'weight-only',
  });
  let activations: ActivationRanges | undefined;
  let floatCalibration: { samples: number; threads: number } | undefined;
  let floatBodyDecisions: ScopedDecision[] = [];
  // fp16 overflows beyond 65504: check the float model's values on the calibration data, or failing that on the
  // sample the output will be verified on.
  const rangeData =
    options.calibrationData ?? (options.verifySample === undefined ? undefined : [options.verifySample]);
  if (
    recipe.mode === 'float' &&
    recipe.floatPrecision === 'fp16' &&
    options.executor !== undefined &&
    rangeData !== undefined
  ) {
    const checked = await keepOverflowingNodesFp32(
      model,
      plan,
      registry,
      { ...options, executor: options.executor, calibrationData: rangeData },
      floatSource,
    );
    plan = checked.plan;
    floatCalibration = checked;
    floatBodyDecisions = checked.bodyDecisions;
  }
  let activationParams = new Map<string, LinearQuantParams>();
  if (recipe.mode === 'static') {
    activations = await activationRanges(model, plan, recipe, registry, fingerprint, options, floatSource);
    activationParams = emitStatic(emitter, {
      plan,
      recipe,
      quantizerFor,
      activationQuantizer: linearQuantizer as typeof linearQuantizer &
        Required<Pick<QuantizerPlugin, 'paramsForRange'>>,
      ranges: activations.ranges,
      symmetric: activations.symmetric,
    });
  } else if (recipe.mode === 'dynamic') {
    emitDynamic(emitter, plan, recipe, quantizerFor);
  } else {
    emitWeightOnly(emitter, plan, recipe, quantizerFor);
  }
  emitter.finish();
  // Weights inside If/Loop/Scan bodies (a voice-activity model's whole network can live in If branches).
  const bodyDecisions =
    recipe.mode === 'float' || !hasSubgraphs(graph)
      ? floatBodyDecisions
      : quantizeSubgraphs(model, emitter, {
          recipe,
          opset: planOpset,
          quantizerFor,
          weightRange: recipe.weightRange,
        });
  // Models older than IR 4 list every weight as a graph input too; drop the float ones nothing reads any more.
  graph.inputs = graph.inputs.filter(
    (input) => !graph.initializers.has(input.name) || graph.consumers(input.name).length > 0,
  );
  graph.removeUnused();
  graph.topologicalSort();
  // Dynamic mode already writes integer operators; static QDQ is rewritten into them.
  let formatConversion: QOperatorResult | undefined;
  if (recipe.format === 'qoperator' && recipe.mode === 'static') {
    formatConversion = qdqToQOperator(model);
    model = formatConversion.model;
  }
  if (recipe.floatPrecision !== undefined) {
    const keepFp32 = [...plan.decisions, ...floatBodyDecisions]
      .filter((d) => recipe.mode === 'float' && !d.quantized && d.name !== '')
      .map((d) => d.name);
    model = applyFloatPrecision(model, recipe, keepFp32);
  }
  // The plan follows the target, so this finds nothing in the normal case; it guards what the plan cannot see
  // (an opset the runtime lacks a kernel for, a user override against the target's rules).
  const issues = target === undefined ? [] : checkModel(model, target);
  const errors = issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) {
    throw new QuantError(
      'UNSUPPORTED',
      `the quantized model does not fit target "${target!.name}": ${formatIssues(errors)}`,
      {
        details: { issues: errors },
      },
    );
  }
  writeProvenance(model, recipe, recipe.target, activations?.calibrationHash ?? options.calibrationHash);

  const bytes = encodeModel(model);
  let verification: Verification | undefined;
  if (options.executor !== undefined && options.verify !== false) {
    const sample = verificationSamples(model.graph, options);
    verification =
      'reason' in sample
        ? { verified: false, reason: sample.reason }
        : await verifyQuantized({
            executor: options.executor,
            float: () => decodeModel(inputBytes),
            floatBytes: inputBytes,
            quantized: model,
            quantizedBytes: bytes,
            ...sample,
            ...(recipe.mode === 'float' && {
              advice:
                floatCalibration === undefined
                  ? [
                      'pass calibration data (',
                      { option: 'calibrationData' },
                      ') so that nodes whose values overflow fp16 stay fp32, or keep them float (',
                      { option: 'exclude' },
                      ')',
                    ]
                  : ['keep the nodes that feed it fp32 (', { option: 'exclude' }, ')'],
            }),
          });
  }
  const summary: QuantizeSummary = {
    mode: recipe.mode,
    recipe,
    sizeBefore: inputBytes.length,
    sizeAfter: bytes.length,
    weightBytesBefore,
    weightBytesAfter: weightBytes(model.graph),
    nodes: [...plan.decisions, ...bodyDecisions],
    calibrationSamples: activations?.samples ?? floatCalibration?.samples ?? 0,
    calibrationThreads: activations?.threads ?? floatCalibration?.threads ?? 0,
    warnings: issues.filter((issue) => issue.severity === 'warning'),
    ...(verification !== undefined && { verification }),
    ...(formatConversion && {
      qoperator: { converted: formatConversion.converted.length, kept: formatConversion.kept },
    }),
  };
  let report: QuantizeReport | undefined;
  if (options.report !== undefined && reference !== undefined) {
    const samples = options.report.samples ?? options.calibrationData;
    if (options.executor === undefined || samples === undefined) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        'the per-layer report needs an executor and samples (report.samples or calibration data)',
      );
    }
    report = await buildQuantizeReport({
      modelName: options.report.modelName ?? 'model',
      reference,
      quantized: model,
      plan,
      summary,
      weights: emitter.weights,
      activationParams,
      observerOf: activations?.observerOf ?? (() => 'none'),
      executor: options.executor,
      samples,
      limit: options.report.limit,
      maxTensorsPerPass: options.maxTensorsPerPass,
    });
  }
  return { model, bytes, plan, summary, calibrationCache: activations?.cache, report };
}
