// `quantkit auto`: chooses a candidate per weighted layer under a budget. Sensitivity first (each layer alone under
// each candidate, the rest float), then a greedy walk from the float model to the smallest one, every step and every
// uniform scheme written and measured for real, then the best measured assignment that meets every budget.
import { type ExecutorPlugin, QuantError, type Tensor } from '@quantkit/core';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { BUILTIN_OPS } from '@quantkit/onnx';
import type { AutoReportData, AutoReportLayer, AutoReportPoint } from '@quantkit/report';
import { measureLatency } from '../measure-latency.js';
import { fidelitySamples } from '../min-sqnr.js';
import type { CalibrationSample, CalibrationSource, Recipe, WeightOnlyForm } from '../options.js';
import { planModel, quantizeModel } from '../quantize-model.js';
import { type AutoAssignment, assignmentLabel, assignmentOptions } from './auto-assignment.js';
import { type AutoCandidateName, UNMIXED_FORMATS, autoCandidates } from './auto-candidates.js';
import { AssignmentEvaluator, type AutoMeasurement } from './auto-evaluator.js';
import { type LayerOptions, greedyPath, neighbors, noiseOf, sqnrOf } from './greedy-path.js';
import { measureAssignments } from './measure-assignments.js';

/** Runs a model on one sample's feeds and returns its outputs by name. */
export type AutoRun = (feeds: Readonly<Record<string, Tensor>>) => Promise<Record<string, Tensor>>;

/**
 * A user's accuracy measure (--metric): runs the model through `run` on the user's own data and returns a score,
 * higher is better. It is called once on the float model and once per assignment checked; the drop is the float
 * score minus the assignment's.
 */
export type AutoMetric = (
  run: AutoRun,
  context: { readonly model: 'float' | 'quantized' },
) => number | Promise<number>;

export interface AutoQuantizeOptions {
  /** Runs the models (default onnxruntime-node). Worker threads always use onnxruntime-node. */
  readonly executor?: ExecutorPlugin;
  /** Samples to compare outputs on (the first 4); seeded random inputs when omitted. */
  readonly calibrationData?: CalibrationSource;
  /** Candidate names to choose from (default all: float, int8, log, int4, binary). */
  readonly candidates?: readonly string[];
  /** The written file must hold at most this many bytes. */
  readonly maxSize?: number;
  /** The layers' weights must average at most this many bits (file bytes beyond the non-weight part, x8 / weights). */
  readonly bitsPerWeight?: number;
  /** The worst output's SQNR against the float model must be at least this many dB. */
  readonly minSqnr?: number;
  /** The metric may drop at most this much from the float model's score (needs metric). */
  readonly maxDrop?: number;
  readonly metric?: AutoMetric;
  /** The written model may take at most this times the float model's latency in the executor. */
  readonly maxLatencyRatio?: number;
  /**
   * How int8 weights are written: 'dequantize' (DequantizeLinear on every run: the least memory) or 'fold' (folded
   * into fp32 weights when onnxruntime loads the model: fp32 speed, the same file size). Default 'fold' with
   * maxLatencyRatio, else 'dequantize'. Codes of 4 bits or fewer fold at load either way; MatMulNBits runs as is.
   */
  readonly weightOnlyForm?: WeightOnlyForm;
  /** Worker threads for the measurements (default: one per core); the result does not depend on it. */
  readonly workers?: number;
  /** The model's name in the report. */
  readonly modelName?: string;
  readonly onProgress?: (event: {
    readonly phase: 'sensitivity' | 'search' | 'metric' | 'latency';
    readonly done: number;
    readonly total: number;
  }) => void;
}

export interface AutoQuantizeResult {
  /** The chosen model. */
  readonly bytes: Uint8Array;
  /** Its recipe: quantizeModel(input, optionsFromRecipe(recipe)) writes the same bytes. */
  readonly recipe: Recipe;
  readonly assignment: AutoAssignment;
  readonly report: AutoReportData;
}

/** Local search: rounds at most, and single-layer changes measured per round at most. */
const REFINE_ROUNDS = 3;
const REFINE_WIDTH = 12;

interface Point {
  readonly label: string;
  readonly kind: AutoReportPoint['kind'];
  readonly assignment: AutoAssignment;
  readonly size: number;
  readonly sqnr: number;
}

function checkBudget(option: string, value: number | undefined, min: number): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= min)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [{ option }, ` must be a number >= ${min}, got ${String(value)}`],
      {
        details: { option, value },
      },
    );
  }
}

function infeasible(option: string, message: string, achievable: number): QuantError {
  return new QuantError('INVALID_ARGUMENT', [{ option }, ` cannot be met: ${message}`], {
    details: { option, achievable },
  });
}

const keyOf = (layers: readonly string[], assignment: AutoAssignment) =>
  layers.map((layer) => assignment[layer] ?? 'float').join('|');

/** A byte count as bytes and decimal megabytes (the CLI's --max-size unit). */
const sizeText = (count: number) => `${count} bytes (${(count / 1e6).toFixed(3)} MB)`;

const finiteOrNull = (value: number) => (Number.isFinite(value) ? value : null);

/** The points no other point beats: none both at most as big and at least as close, and better in one. */
function paretoFront(points: readonly Point[]): Set<Point> {
  return new Set(
    points.filter(
      (point) =>
        !points.some(
          (other) =>
            other.size <= point.size &&
            other.sqnr >= point.sqnr &&
            (other.size < point.size || other.sqnr > point.sqnr),
        ),
    ),
  );
}

/**
 * Chooses a candidate per weighted layer so the written model meets every budget given: the best fidelity within
 * a size budget (maxSize, bitsPerWeight), else the smallest model within the fidelity budgets (minSqnr, maxDrop
 * with metric). Each budget is checked on a real written model; maxLatencyRatio is then timed in the executor and
 * the layers saving fewest bytes go back to float until it holds.
 *
 * @example
 * const { bytes, recipe, report } = await autoQuantize(modelBytes, { maxSize: 2_000_000 });
 * @throws QuantError INVALID_ARGUMENT for a bad budget, or one no assignment meets (naming it and what is
 *   achievable); UNSUPPORTED for a model with no weighted layer or a node name that reads as a pattern.
 */
export async function autoQuantize(
  input: Uint8Array,
  options: AutoQuantizeOptions,
): Promise<AutoQuantizeResult> {
  checkBudget('maxSize', options.maxSize, 1);
  checkBudget('bitsPerWeight', options.bitsPerWeight, 0);
  if (options.minSqnr !== undefined) checkBudget('minSqnr', options.minSqnr, Number.NEGATIVE_INFINITY);
  checkBudget('maxDrop', options.maxDrop, 0);
  checkBudget('maxLatencyRatio', options.maxLatencyRatio, 0);
  if ((options.maxDrop === undefined) !== (options.metric === undefined)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        { option: options.maxDrop === undefined ? 'metric' : 'maxDrop' },
        ' needs ',
        { option: options.maxDrop === undefined ? 'maxDrop' : 'metric' },
      ],
      { details: { option: 'maxDrop' } },
    );
  }
  const sizeBudget = options.maxSize !== undefined || options.bitsPerWeight !== undefined;
  if (!sizeBudget && options.minSqnr === undefined && options.maxDrop === undefined) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      [
        'auto needs a budget: ',
        { option: 'maxSize' },
        ', ',
        { option: 'bitsPerWeight' },
        ', ',
        { option: 'minSqnr' },
        ' or ',
        { option: 'maxDrop' },
      ],
      { details: { option: 'maxSize' } },
    );
  }
  const candidates = autoCandidates(options.candidates);
  const form = options.weightOnlyForm ?? (options.maxLatencyRatio === undefined ? 'dequantize' : 'fold');
  const executor = options.executor ?? createOrtNodeExecutor();

  // The weighted layers: what weight-only mode would quantize in the main graph.
  const planned = await planModel(input, assignmentOptions([], {}, form));
  const { graph } = planned.model;
  const opTypes = new Set(graph.nodes.map((node) => node.opType));
  const layerInfo: { name: string; opType: string; weightElements: number; floatBytes: number }[] = [];
  for (const decision of planned.plan.decisions) {
    if (!decision.quantized || decision.scope !== undefined) continue;
    // Overrides match names as globs and op types too: such a name would reach other nodes.
    if (/[*?]/.test(decision.name) || opTypes.has(decision.name)) {
      throw new QuantError(
        'UNSUPPORTED',
        `node "${decision.name}" cannot be addressed by name alone (it reads as a pattern or an op type); rename it`,
      );
    }
    const node = graph.nodes.find((candidate) => candidate.name === decision.name)!;
    let weightElements = 0;
    for (const slot of BUILTIN_OPS.of(node)?.weight?.slots ?? []) {
      const tensor = graph.getConstant(node.inputs[slot] ?? '');
      if (tensor?.dtype === 'float32') weightElements += tensor.data.length;
    }
    layerInfo.push({
      name: decision.name,
      opType: decision.opType,
      weightElements,
      floatBytes: weightElements * 4,
    });
  }
  if (layerInfo.length === 0) {
    throw new QuantError(
      'UNSUPPORTED',
      'the model has no weighted layer that weight-only quantization can store',
    );
  }
  const layers = layerInfo.map((layer) => layer.name);
  const { samples, origin } = await fidelitySamples(graph, {
    mode: 'weight-only',
    ...(options.calibrationData !== undefined && { calibrationData: options.calibrationData }),
  });

  // Sensitivity and the uniform schemes, measured together: float, each candidate everywhere, each layer alone.
  const quantizing = candidates.filter((candidate) => candidate.name !== 'float');
  const uniform = quantizing.map((candidate) =>
    Object.fromEntries(layers.map((layer) => [layer, candidate.name])),
  );
  // Each layer alone under each candidate it has a form for: MatMulNBits covers MatMul and Gemm only, and another
  // op's 4-bit blocks would be its per-channel int4 again (the planner's fallback), measured twice.
  const skipped = (opType: string, candidate: AutoCandidateName) =>
    candidate === 'int4-block' && opType !== 'MatMul' && opType !== 'Gemm'
      ? `MatMulNBits covers MatMul and Gemm; a ${opType} gets int4 per channel instead`
      : undefined;
  const singleIndex = new Map<string, number>();
  const single: AutoAssignment[] = [];
  for (const info of layerInfo) {
    for (const candidate of quantizing) {
      if (skipped(info.opType, candidate.name) !== undefined) continue;
      singleIndex.set(`${info.name}\u0000${candidate.name}`, single.length);
      single.push({ [info.name]: candidate.name });
    }
  }
  const settings = {
    model: input,
    layers,
    samples: samples as readonly CalibrationSample[],
    form,
    executor,
    workers: options.workers,
  };
  // This thread writes the chosen model and runs the metric and latency checks. Built before any worker starts: its
  // float run loads onnxruntime-node here first, and with onnxruntime-node 1.23 two workers loading the binding
  // first, at once, fail with "Module did not self-register".
  const evaluator = await AssignmentEvaluator.create(executor, input, layers, samples, form);
  const firstJobs: AutoAssignment[] = [{}, ...uniform, ...single];
  let measuredCount = 0;
  const first = await measureAssignments(
    {
      ...settings,
      onMeasured: () =>
        options.onProgress?.({ phase: 'sensitivity', done: ++measuredCount, total: firstJobs.length }),
    },
    firstJobs,
  );
  const floatMeasurement = first[0]!;
  if (floatMeasurement.error !== undefined) {
    throw new QuantError(
      'EXECUTOR',
      `the float model could not be written and run: ${floatMeasurement.error}`,
    );
  }
  const floatSize = floatMeasurement.size;
  const layerBytes = layerInfo.reduce((sum, layer) => sum + layer.floatBytes, 0);
  const layerElements = layerInfo.reduce((sum, layer) => sum + layer.weightElements, 0);
  const nonLayerBytes = floatSize - layerBytes;
  const bitsPerWeight = (size: number) => ((size - nonLayerBytes) * 8) / Math.max(1, layerElements);

  const table: LayerOptions[] = [];
  const reportLayers: AutoReportLayer[] = [];
  for (const info of layerInfo) {
    const options: LayerOptions['options'][number][] = [
      { candidate: 'float', size: info.floatBytes, sqnr: Number.POSITIVE_INFINITY },
    ];
    const cells: Record<string, AutoReportLayer['candidates'][string]> = {
      float: { size: info.floatBytes, sqnr: null },
    };
    for (const candidate of quantizing) {
      const reason = skipped(info.opType, candidate.name);
      if (reason !== undefined) {
        cells[candidate.name] = { skipped: reason };
        continue;
      }
      const measured = first[1 + uniform.length + singleIndex.get(`${info.name}\u0000${candidate.name}`)!]!;
      if (measured.error !== undefined) {
        cells[candidate.name] = { error: measured.error };
        continue;
      }
      // The layer's bytes this way: its fp32 bytes plus what the file grew or shrank by with it alone quantized.
      const size = info.floatBytes + measured.size - floatSize;
      options.push({ candidate: candidate.name, size, sqnr: measured.sqnr });
      cells[candidate.name] = { size, sqnr: finiteOrNull(measured.sqnr) };
    }
    table.push({ layer: info.name, options });
    reportLayers.push({ ...info, candidates: cells });
  }

  // The walk, each step written and measured (the float model is step 0, already measured).
  const path = greedyPath(table).slice(1);
  measuredCount = 0;
  const walked = await measureAssignments(
    {
      ...settings,
      onMeasured: () => options.onProgress?.({ phase: 'search', done: ++measuredCount, total: path.length }),
    },
    path.map((step) => step.assignment),
  );
  const points: Point[] = [];
  const seen = new Set<string>();
  const add = (kind: Point['kind'], label: string, assignment: AutoAssignment, measured: AutoMeasurement) => {
    const key = keyOf(layers, assignment);
    if (measured.error !== undefined || seen.has(key)) return;
    seen.add(key);
    points.push({ kind, label, assignment, size: measured.size, sqnr: measured.sqnr });
  };
  add('float', 'float', {}, floatMeasurement);
  for (const [index, assignment] of uniform.entries())
    add('uniform', `uniform ${quantizing[index]!.name}`, assignment, first[1 + index]!);
  for (const [index, step] of path.entries())
    add(
      'search',
      `step ${index + 1}: ${assignmentLabel(layers, step.assignment)}`,
      step.assignment,
      walked[index]!,
    );

  // The budgets, on real bytes and real outputs.
  const sizeFits = (point: Point) =>
    (options.maxSize === undefined || point.size <= options.maxSize) &&
    (options.bitsPerWeight === undefined || bitsPerWeight(point.size) <= options.bitsPerWeight + 1e-9);
  const sqnrHolds = (point: Point) => options.minSqnr === undefined || point.sqnr >= options.minSqnr;
  // Local search around the best measured point: single-layer changes the noise model expects to help, measured
  // for real, a few rounds while they keep improving it.
  const objective = (a: Point, b: Point) =>
    sizeBudget ? b.sqnr - a.sqnr || a.size - b.size : a.size - b.size || b.sqnr - a.sqnr;
  const incumbent = () =>
    points
      .filter((point) => sizeFits(point) && sqnrHolds(point))
      .sort((a, b) => objective(a, b) || points.indexOf(a) - points.indexOf(b))[0];
  for (let round = 1; round <= REFINE_ROUNDS; round++) {
    const start = incumbent();
    if (start === undefined) break;
    const startNoise = noiseOf(start.sqnr);
    const tries = neighbors(table, start.assignment, start.sqnr)
      .filter((neighbor) => !seen.has(keyOf(layers, neighbor.assignment)))
      .filter((neighbor) =>
        sizeBudget
          ? neighbor.estimatedNoise < startNoise &&
            sizeFits({ ...start, size: start.size + neighbor.sizeDelta })
          : neighbor.sizeDelta < 0 &&
            (options.minSqnr === undefined || sqnrOf(neighbor.estimatedNoise) >= options.minSqnr),
      )
      .sort((a, b) => (sizeBudget ? a.estimatedNoise - b.estimatedNoise : a.sizeDelta - b.sizeDelta))
      .slice(0, REFINE_WIDTH);
    if (tries.length === 0) break;
    measuredCount = 0;
    const measured = await measureAssignments(
      {
        ...settings,
        onMeasured: () =>
          options.onProgress?.({ phase: 'search', done: ++measuredCount, total: tries.length }),
      },
      tries.map((neighbor) => neighbor.assignment),
    );
    for (const [index, neighbor] of tries.entries()) {
      add(
        'refine',
        `refine ${round}: ${neighbor.layer} to ${neighbor.assignment[neighbor.layer]} (${assignmentLabel(layers, neighbor.assignment)})`,
        neighbor.assignment,
        measured[index]!,
      );
    }
    if (incumbent() === start) break;
  }

  const fitting = points.filter(sizeFits);
  if (fitting.length === 0) {
    const smallest = Math.min(...points.map((point) => point.size));
    if (options.maxSize !== undefined && smallest > options.maxSize) {
      throw infeasible(
        'maxSize',
        `no assignment fits ${sizeText(options.maxSize)}; the smallest achievable is ${sizeText(smallest)}`,
        smallest,
      );
    }
    const fewest = bitsPerWeight(smallest);
    throw infeasible(
      'bitsPerWeight',
      `no assignment stores ${options.bitsPerWeight} bits per weight; the fewest achievable is ${fewest.toFixed(3)}`,
      fewest,
    );
  }
  const eligible = fitting.filter(sqnrHolds);
  if (eligible.length === 0) {
    const best = Math.max(...fitting.map((point) => point.sqnr));
    throw infeasible(
      'minSqnr',
      `no assignment${sizeBudget ? ' within the size budget' : ''} reaches ${options.minSqnr} dB; the best is ${best.toFixed(2)} dB`,
      best,
    );
  }
  // Within a size budget the closest model wins; under fidelity budgets only, the smallest.
  const ranked = [...eligible].sort((a, b) => objective(a, b) || points.indexOf(a) - points.indexOf(b));

  const metricOf = async (bytes: Uint8Array, model: 'float' | 'quantized'): Promise<number> => {
    // One thread: the same sums in the same order on every run, so the metric does not move between runs.
    const session = await executor.createSession(bytes, { threads: 1 });
    try {
      let value: number;
      try {
        value = await options.metric!((feeds) => session.run(feeds), { model });
      } catch (error) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          [{ option: 'metric' }, ` failed on the ${model} model: ${(error as Error).message}`],
          { cause: error, details: { option: 'metric' } },
        );
      }
      if (typeof value !== 'number' || Number.isNaN(value)) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          [{ option: 'metric' }, ` must return a number, got ${String(value)}`],
          {
            details: { option: 'metric' },
          },
        );
      }
      return value;
    } finally {
      await session.dispose();
    }
  };
  let chosen: Point | undefined;
  let metric: { float: number; quantized: number; drop: number } | undefined;
  if (options.metric === undefined) {
    chosen = ranked[0];
  } else {
    const floatScore = await metricOf(input, 'float');
    let smallestDrop = Number.POSITIVE_INFINITY;
    for (const [index, point] of ranked.entries()) {
      options.onProgress?.({ phase: 'metric', done: index + 1, total: ranked.length });
      const score = await metricOf(await evaluator.write(point.assignment), 'quantized');
      const drop = floatScore - score;
      smallestDrop = Math.min(smallestDrop, drop);
      if (drop <= options.maxDrop!) {
        chosen = point;
        metric = { float: floatScore, quantized: score, drop };
        break;
      }
    }
    if (chosen === undefined) {
      throw infeasible(
        'maxDrop',
        `no assignment within the other budgets keeps the metric's drop within ${options.maxDrop}; the smallest drop is ${smallestDrop}`,
        smallestDrop,
      );
    }
  }
  chosen = chosen!;

  // The latency budget: time the chosen model; while too slow, put back to float the layer saving fewest bytes.
  let latency: NonNullable<AutoReportData['chosen']['latency']> | undefined;
  if (options.maxLatencyRatio !== undefined) {
    const sizes = new Map(table.map((row) => [row.layer, row.options]));
    const saved = (layer: string, candidate: AutoCandidateName) =>
      layerInfo.find((info) => info.name === layer)!.floatBytes -
      (sizes.get(layer)!.find((option) => option.candidate === candidate)?.size ?? 0);
    const reverted: string[] = [];
    for (let round = 1; ; round++) {
      const bytes = await evaluator.write(chosen.assignment);
      const timing = await measureLatency(executor, input, bytes, samples[0]!);
      options.onProgress?.({ phase: 'latency', done: round, total: layers.length + 1 });
      latency = { ratio: timing.ratio, floatMs: timing.floatMs, quantizedMs: timing.quantizedMs, reverted };
      if (timing.ratio <= options.maxLatencyRatio) break;
      const quantized = layers.filter((layer) => (chosen!.assignment[layer] ?? 'float') !== 'float');
      if (quantized.length === 0) {
        throw infeasible(
          'maxLatencyRatio',
          `even with every layer float the model measures ${timing.ratio.toFixed(2)}x the float latency here`,
          timing.ratio,
        );
      }
      const layer = [...quantized].sort(
        (a, b) => saved(a, chosen!.assignment[a]!) - saved(b, chosen!.assignment[b]!),
      )[0]!;
      reverted.push(layer);
      const assignment: AutoAssignment = { ...chosen.assignment, [layer]: 'float' };
      const measured = await evaluator.measure(assignment);
      if (measured.error !== undefined) throw new QuantError('INTERNAL', measured.error);
      chosen = {
        kind: 'latency',
        label: `${assignmentLabel(layers, assignment)} (latency)`,
        assignment,
        size: measured.size,
        sqnr: measured.sqnr,
      };
      points.push(chosen);
      if (!sizeFits(chosen)) {
        throw infeasible(
          'maxLatencyRatio',
          `within the size budget the model measures ${timing.ratio.toFixed(2)}x the float latency; keeping ${reverted.join(', ')} float to speed it up breaks the size budget`,
          timing.ratio,
        );
      }
      if (metric !== undefined) {
        const score = await metricOf(await evaluator.write(assignment), 'quantized');
        metric = { float: metric.float, quantized: score, drop: metric.float - score };
      }
    }
  }

  const result = await quantizeModel(input, assignmentOptions(layers, chosen.assignment, form));
  const front = paretoFront(points);
  const full = (assignment: AutoAssignment) =>
    Object.fromEntries(layers.map((layer) => [layer, assignment[layer] ?? 'float']));
  const report: AutoReportData = {
    kind: 'quantkit-auto',
    model: options.modelName ?? 'model.onnx',
    samples: { origin, count: samples.length },
    candidates: candidates.map(({ name, description }) => ({ name, description })),
    notMixed: UNMIXED_FORMATS,
    weightOnlyForm: form,
    budgets: {
      ...(options.maxSize !== undefined && { maxSize: options.maxSize }),
      ...(options.bitsPerWeight !== undefined && { bitsPerWeight: options.bitsPerWeight }),
      ...(options.minSqnr !== undefined && { minSqnr: options.minSqnr }),
      ...(options.maxDrop !== undefined && { maxDrop: options.maxDrop }),
      ...(options.maxLatencyRatio !== undefined && { maxLatencyRatio: options.maxLatencyRatio }),
    },
    floatSize,
    layers: reportLayers,
    points: points.map((point) => ({
      label: point.label,
      kind: point.kind,
      size: point.size,
      sqnr: finiteOrNull(point.sqnr),
      bitsPerWeight: bitsPerWeight(point.size),
      front: front.has(point),
      chosen: point === chosen,
      assignment: full(point.assignment),
    })),
    chosen: {
      label: chosen.label,
      assignment: full(chosen.assignment),
      size: result.bytes.byteLength,
      sqnr: finiteOrNull(chosen.sqnr),
      bitsPerWeight: bitsPerWeight(result.bytes.byteLength),
      ...(metric !== undefined && { metric }),
      ...(latency !== undefined && { latency }),
    },
  };
  return {
    bytes: result.bytes,
    recipe: result.summary.recipe,
    assignment: full(chosen.assignment) as AutoAssignment,
    report,
  };
}
