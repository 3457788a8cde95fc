// What `quantkit quantize` prints: the human summary of a run and of its report.
import {
  type LayerReport,
  type QuantizeReport,
  type QuantizeSummary,
  RANDOM_DATA_TEXT,
  nodeCount,
  worstFirst,
} from '@quantkit/quantize';
import type { SampleOrigin } from '@quantkit/quantize/node';
import type { DataFreeResult } from '@quantkit/quantize';
import { renderMessage } from '@quantkit/core';
import { FLAG_NAMES } from '../flag-terms.js';
import { formatSuggestion } from '@quantkit/report';
import { formatBytes, formatMetric, formatTable } from '../format.js';
import { type ChosenTarget, describeTarget } from '../resolve-target.js';

function describeRecipe(summary: QuantizeSummary): string {
  const recipe = summary.recipe;
  if (recipe.mode === 'float') return `float, ${recipe.floatPrecision ?? 'fp16'} weights`;
  const granularity =
    recipe.granularity === 'tensor'
      ? 'per-tensor'
      : recipe.granularity === 'block'
        ? `per-block (${recipe.blockSize})`
        : `per-${recipe.granularity}`;
  const weights = `${recipe.quantizer} int${recipe.bits} ${granularity} ${recipe.symmetric ? 'symmetric' : 'asymmetric'} weights`;
  // q4f16 and friends: what stays float is converted too.
  const float = recipe.floatPrecision === undefined ? '' : `, ${recipe.floatPrecision} for the rest`;
  const folded = recipe.weightOnlyForm === 'fold' ? ', folded to fp32 at load' : '';
  const fake = recipe.emit === 'fake-quant' ? ', fake-quant (float weights behind Q/DQ)' : '';
  return `${recipe.mode}, ${weights}${folded}${float}${fake}`;
}

/**
 * For a quantization-aware-trained input: the points kept from the model (scales as trained) and those quantkit
 * added.
 *
 * @example keptQuantizationLines(summary) // ['  QAT model     kept from the model: 3 activation and 2 weight Q/DQ ...']
 */
function keptQuantizationLines(summary: QuantizeSummary): string[] {
  const points = summary.keptQuantization;
  if (points === undefined) return [];
  const count = (names: readonly string[], what: string) => `${names.length} ${what}`;
  const added =
    points.addedActivations.length + points.addedWeights.length === 0
      ? "nothing (every point was the model's own)"
      : `${count(points.addedActivations, 'activation')} and ${count(points.addedWeights, 'weight')} (${[
          ...points.addedWeights,
          ...points.addedActivations,
        ]
          .slice(0, 4)
          .join(', ')}${points.addedActivations.length + points.addedWeights.length > 4 ? ', ...' : ''})`;
  return [
    `  QAT model     kept from the model: ${count(points.keptActivations, 'activation')} and ${count(points.keptWeights, 'weight')} Q/DQ points, scales as trained`,
    `                added by quantkit: ${added}`,
  ];
}

function ratio(before: number, after: number): string {
  if (before === 0 || after === 0) return '';
  // Tiny models can grow (Q/DQ nodes and scales outweigh the saved bytes); say so rather than print "0.2x smaller".
  return after <= before
    ? ` (${(before / after).toFixed(2)}x smaller)`
    : ` (${(after / before).toFixed(2)}x larger)`;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts.entries()];
}

/**
 * The plan words a node that is stored in int8 but computes in float as "weights stored in ..." (the weight-only
 * form). In a mode that promises integer compute that is a fallback worth saying, not a detail for --json only.
 */
const WEIGHT_ONLY_REASON = 'weights stored in ';

/**
 * What data-free quantization did, and where its activation ranges came from: estimated from BatchNorm statistics
 * (or carried from such an estimate), or measured on seeded random inputs where the model has no statistics.
 *
 * @example dataFreeLines(summary.dataFree) // ['  data-free     3 layer pairs equalized (5 sweeps), ...', '  ranges ...']
 */
function dataFreeLines(result: DataFreeResult, deviations: number): string[] {
  const plural = (count: number, word: string, many = `${word}s`) => `${count} ${count === 1 ? word : many}`;
  const skipped =
    result.absorptionSkippedForPadding === 0
      ? ''
      : ` (${result.absorptionSkippedForPadding} skipped: the next layer pads)`;
  const sources = result.rangeSources;
  const estimated = [
    sources['batch-norm'] > 0 &&
      `${sources['batch-norm']} from BatchNorm statistics (mean +- ${deviations} std)`,
    sources.propagated > 0 && `${sources.propagated} carried from those`,
    sources.fixed > 0 && `${sources.fixed} fixed by overrides`,
    sources.random > 0 &&
      `${sources.random} measured on ${plural(result.randomSamples, 'random input')} (no statistics)`,
  ].filter((part): part is string => part !== false);
  return [
    `  data-free     ${plural(result.equalizedPairs, 'layer pair')} equalized (${plural(result.equalizationSweeps, 'sweep')}), ` +
      `${plural(result.biasesAbsorbed, 'bias', 'biases')} absorbed${skipped}, ${plural(result.biasesCorrected, 'bias', 'biases')} corrected ` +
      `analytically (${plural(result.batchNormStatistics, 'BatchNorm')} read)`,
    `  ranges        estimated without data: ${estimated.length === 0 ? 'none needed' : estimated.join(', ')}`,
  ];
}

/**
 * Note lines for nodes that static or dynamic mode quantized only as weight-only (dynamic mode below opset 11
 * for Conv, static mode inside If/Loop bodies), grouped by the plan's reason.
 *
 * @example weightOnlyNotes(summary) // ['  note          Conv x1 ran as weight-only, not dynamic: weights stored in int8 (...)']
 */
function weightOnlyNotes(summary: QuantizeSummary): string[] {
  if (summary.mode !== 'static' && summary.mode !== 'dynamic' && summary.mode !== 'data-free') return [];
  const byReason = new Map<string, Map<string, number>>();
  for (const node of summary.nodes) {
    if (!node.quantized || !node.reason.startsWith(WEIGHT_ONLY_REASON)) continue;
    const ops = byReason.get(node.reason) ?? new Map<string, number>();
    ops.set(node.opType, (ops.get(node.opType) ?? 0) + 1);
    byReason.set(node.reason, ops);
  }
  return [...byReason].map(([reason, ops], index) => {
    const list = [...ops].map(([op, count]) => `${op} x${count}`).join(', ');
    return `  ${index === 0 ? 'note' : ''.padEnd(4)}          ${list} ran as weight-only, not ${summary.mode}: ${reason}`;
  });
}

/**
 * Weight-only codes behind DequantizeLinear (the default form, not MatMulNBits blocks or packed custom ops):
 * onnxruntime keeps the DequantizeLinear and runs it on every inference.
 */
function dequantizesEveryRun(summary: QuantizeSummary): boolean {
  const { recipe } = summary;
  return (
    summary.mode === 'weight-only' &&
    recipe.weightOnlyForm !== 'fold' &&
    recipe.format === 'qdq' &&
    recipe.granularity !== 'block'
  );
}

/** What the human summary says besides the pipeline's summary. */
export interface SummaryContext {
  /** The --load-calib file the ranges came from. */
  readonly loadedCache?: string | undefined;
  /** The target the run planned for, and why. */
  readonly target?: ChosenTarget | undefined;
}

/**
 * The human summary: the target, sizes, which op types were quantized and which stayed float and why. The
 * compatibility warnings are not part of it; the command prints them after everything else (formatIssues).
 */
export function formatQuantizeSummary(
  input: string,
  output: string,
  summary: QuantizeSummary,
  context: SummaryContext = {},
): string[] {
  const quantized = summary.nodes.filter((node) => node.quantized);
  const kept = summary.nodes.filter((node) => !node.quantized);
  const lines = [`quantized ${input} -> ${output} (${describeRecipe(summary)})`];
  if (context.target !== undefined) lines.push(`  target        ${describeTarget(context.target)}`);
  lines.push(
    `  model size    ${formatBytes(summary.sizeBefore)} -> ${formatBytes(summary.sizeAfter)}${ratio(summary.sizeBefore, summary.sizeAfter)}`,
    `  weight bytes  ${formatBytes(summary.weightBytesBefore)} -> ${formatBytes(summary.weightBytesAfter)}${ratio(summary.weightBytesBefore, summary.weightBytesAfter)}`,
  );
  const quantizedOps = countBy(quantized, (node) => node.opType).map(([op, count]) => `${op} x${count}`);
  // Float mode converts rather than quantizes; the decisions are the same shape.
  const done = summary.mode === 'float' ? 'converted' : 'quantized';
  lines.push(`  ${done}     ${quantizedOps.length === 0 ? 'nothing' : quantizedOps.join(', ')}`);
  // Reasons usually start with the op type ("Relu has no quantized form; ..."); dropping it lets ops that stay
  // float for the same reason share one line.
  const byReason = new Map<string, Map<string, number>>();
  for (const node of kept) {
    const reason =
      (node.reason.startsWith(`${node.opType} `) ? node.reason.slice(node.opType.length + 1) : node.reason) ||
      'no reason given';
    const ops = byReason.get(reason) ?? new Map<string, number>();
    ops.set(node.opType, (ops.get(node.opType) ?? 0) + 1);
    byReason.set(reason, ops);
  }
  if (byReason.size === 0) lines.push('  kept float    nothing');
  [...byReason].forEach(([reason, ops], index) => {
    const list = [...ops].map(([op, count]) => `${op} x${count}`).join(', ');
    lines.push(`  ${index === 0 ? 'kept float' : ''.padEnd(10)}    ${list}: ${reason}`);
  });
  lines.push(...weightOnlyNotes(summary));
  lines.push(...keptQuantizationLines(summary));
  if (dequantizesEveryRun(summary) && quantized.length > 0) {
    lines.push(
      '  speed         onnxruntime dequantizes these weights on every run: a smaller file that runs slower than',
      '                fp32 (1.1-2.3x on the corpus); --weight-only-form fold runs at fp32 speed from the same file',
    );
  }
  if (summary.qoperator !== undefined) {
    const keptQdq = countBy([...summary.qoperator.kept], (node) => node.opType).map(
      ([op, count]) => `${op} x${count}`,
    );
    lines.push(
      `  qoperator     ${summary.qoperator.converted} nodes became integer operators` +
        (keptQdq.length === 0 ? '' : `; kept as QDQ: ${keptQdq.join(', ')}`),
    );
  }
  if (summary.mode === 'static' || summary.calibrationSamples > 0) {
    const from = context.loadedCache === undefined ? '' : ` (ranges from ${context.loadedCache})`;
    const choice = summary.calibrationChoice;
    const chose =
      choice === undefined
        ? ''
        : `; auto chose ${choice.chosen}${summary.biasCorrection === undefined ? '' : ' with bias correction'} (` +
          `${choice.candidates.map((c) => `${c.method}${c.biasCorrection ? '+bias' : ''} ${formatSqnr(c.sqnr)}`).join(', ')} ` +
          `on ${choice.heldOut > 0 ? `${choice.heldOut} held-out samples` : `${choice.samples} samples`})`;
    const allKept =
      summary.keptQuantization !== undefined &&
      summary.keptQuantization.addedActivations.length === 0 &&
      summary.calibrationSamples === 0;
    lines.push(
      allKept
        ? '  calibration   none needed: every activation range came from the model'
        : `  calibration   ${summary.calibrationSamples} samples${from}${chose}`,
    );
    const corrected = summary.biasCorrection;
    if (corrected !== undefined && corrected.corrected > 0) {
      lines.push(
        `  bias          ${corrected.corrected} biases corrected for the mean shift of rounded weights (largest ` +
          `${(corrected.largestRelativeShift * 100).toFixed(1)}% of a layer's bias, ${corrected.samples} samples)`,
      );
    }
  }
  lines.push(...formatFinetune(summary.finetune));
  if (summary.dataFree !== undefined)
    lines.push(...dataFreeLines(summary.dataFree, summary.recipe.dataFree?.deviations ?? 6));
  if (
    summary.mode === 'float' &&
    summary.recipe.floatPrecision === 'fp16' &&
    summary.calibrationSamples === 0
  ) {
    lines.push("  range check   none: pass --calib <dir> so that values beyond fp16's 65504 stay fp32");
  }
  const verification = summary.verification;
  if (verification !== undefined) {
    lines.push(
      verification.verified
        ? `  verified      ${verification.runtime} loads it and runs it on a ${verification.sample} sample: outputs ` +
            `finite` +
            (verification.outputs.length === 0
              ? ''
              : `, SQNR ${verification.outputs.map((o) => `${o.name} ${formatSqnr(o.sqnr)}`).join(', ')}`)
        : `  not verified  ${verification.reasonParts === undefined ? verification.reason : renderMessage(verification.reasonParts, FLAG_NAMES)}`,
    );
    if (verification.verified && verification.latency !== undefined) lines.push(latencyLine(verification));
  }
  const floor = fidelityLine(summary);
  if (floor !== undefined) lines.push(floor);
  const guard = guardLine(summary);
  if (guard !== undefined) lines.push(guard);
  return lines;
}

/** What the --min-sqnr floor measured and kept float. */
function fidelityLine(summary: QuantizeSummary): string | undefined {
  const fidelity = summary.fidelity;
  if (fidelity === undefined) return undefined;
  const on = `${fidelity.samples} samples`;
  if (fidelity.kept.length === 0) {
    return `  min SQNR      output ${formatSqnr(fidelity.sqnr)} >= ${fidelity.minSqnr} dB on ${on}: nothing kept float`;
  }
  const nodes = fidelity.kept.reduce((count, region) => count + region.nodes.length, 0);
  const worst = fidelity.sensitivity
    .slice(0, 3)
    .map((region) => `${region.nodes[0]} ${formatSqnr(region.sqnr)}`)
    .join(', ');
  return (
    `  min SQNR      output ${formatSqnr(fidelity.sqnr)} < ${fidelity.minSqnr} dB on ${on}: kept float the ` +
    `${fidelity.kept.length} most sensitive of ${fidelity.sensitivity.length} regions (${nodeCount(nodes)}) -> ` +
    `${formatSqnr(fidelity.finalSqnr)}; most sensitive alone: ${worst}`
  );
}

/** What the latency guard kept float and why; nothing when it had nothing to do. */
function guardLine(summary: QuantizeSummary): string | undefined {
  const guard = summary.latencyGuard;
  if (guard === undefined) return undefined;
  if (!guard.ran) return `  latency guard not run: ${guard.reason}`;
  const refused =
    guard.refused === undefined
      ? ''
      : `; ${guard.refused.length} variant(s) the runtime refused were skipped (a quantkit bug: please report it ` +
        `with the model): ${guard.refused[0]!.message}`;
  if (guard.reverted.length === 0) {
    // Slower with nothing to keep float: in static and weight-only runs, body weights are folded at load and cost
    // no time, so the guard does not count them as regions.
    return guard.ratio > guard.maxRatio
      ? `  latency guard ${guard.ratio.toFixed(2)}x the float latency, but no quantized region it could keep ` +
          `float${refused}`
      : refused === ''
        ? undefined
        : `  latency guard${refused}`;
  }
  const nodes = guard.reverted.reduce((count, region) => count + region.nodes.length, 0);
  const first = guard.trials[0]!.ratio;
  const timings = `${guard.trials.length} timings`;
  if (guard.reverted.length === guard.regions) {
    return (
      `  latency guard every quantized region ran slower than float (${first.toFixed(2)}x the float latency), so ` +
      `the model is written float (${nodeCount(nodes)} kept float, ${timings}); --mode weight-only makes it smaller, ` +
      `--no-latency-guard keeps it quantized${refused}`
    );
  }
  return (
    `  latency guard ${guard.reverted.length} of ${guard.regions} quantized regions kept float (${nodeCount(nodes)}): ` +
    `${first.toFixed(2)}x -> ${guard.ratio.toFixed(2)}x the float latency, ${timings}; --no-latency-guard keeps ` +
    `them quantized${refused}`
  );
}

/**
 * The timing line: how the written model's latency compares with the float model's in the runtime that verified
 * it, and, where it is slower, what that means.
 */
function latencyLine(verification: Extract<QuantizeSummary['verification'], { verified: true }>): string {
  const { latency, runtime } = verification;
  if (latency === undefined) return '';
  const ms = (value: number) => `${value < 1 ? value.toFixed(3) : value.toFixed(2)} ms`;
  // Timing on a shared machine wanders by a few percent; closer than that is a tie.
  const how =
    Math.abs(latency.ratio - 1) < 0.03
      ? "about the float model's speed"
      : latency.ratio < 1
        ? `${(1 / latency.ratio).toFixed(2)}x faster`
        : `${latency.ratio.toFixed(2)}x slower: the float model runs faster in ${runtime}`;
  return (
    `  latency       ${ms(latency.floatMs)} -> ${ms(latency.quantizedMs)} (${how}; ` +
    `${latency.threads} thread, ${latency.rounds} rounds in turns)`
  );
}

function formatSqnr(sqnr: number): string {
  return Number.isFinite(sqnr) ? `${sqnr.toFixed(1)} dB` : sqnr > 0 ? 'inf dB (exact)' : `${sqnr} dB`;
}

/** How many of the worst layers the human summary lists. */
export const WORST_LAYERS_SHOWN = 3;

/** The report lines of the human summary: where it went, what it compared on, and the worst layers. */
export function formatReportSummary(path: string, report: QuantizeReport, data: SampleOrigin): string[] {
  // Static runs get here without data only with --load-calib, where --calib is not allowed as well.
  const advice =
    report.summary.mode === 'static'
      ? 'ranges from --load-calib are judged on them, so clipping may differ on real data'
      : 'pass --calib <dir> to compare on real data';
  const flagged = report.layers.filter((layer) => layer.flagged).length;
  const lines = [
    `  report        ${path} (${report.layers.length} layers compared on ${report.samples} samples, ${flagged} flagged)`,
  ];
  if (data.kind === 'random') {
    lines.push(`  report data   random inputs (seed ${data.seed}; ${RANDOM_DATA_TEXT}); ` + advice);
  }
  const worst = worstFirst(report.layers).slice(0, WORST_LAYERS_SHOWN);
  if (worst.length === 0) {
    lines.push('  worst layers  none (no quantized layer to compare)');
    return lines;
  }
  const rows = worst.map((layer) => [
    layer.node,
    `${formatMetric(layer.sqnr, 2)} dB`,
    layer.suggestion === undefined ? '' : `suggestion: ${formatSuggestion(layer.suggestion)}`,
  ]);
  formatTable(rows, [1]).forEach((row, index) => {
    lines.push(`  ${index === 0 ? 'worst layers' : ''.padEnd(12)}  ${row}`);
  });
  return lines;
}

/** A flagged layer as --json prints it: the numbers and the suggestion, without the histograms. */
export function flaggedLayerJson(layer: LayerReport) {
  return {
    node: layer.node,
    opType: layer.opType,
    output: layer.output,
    sqnr: layer.sqnr,
    cosine: layer.cosine,
    maxAbsError: layer.maxAbsError,
    suggestion: layer.suggestion ?? null,
  };
}

/** The most layers listed one per line; the rest are counted. */
const FINETUNE_LAYERS_SHOWN = 8;

/**
 * What AdaRound did: the layers, steps and samples, and per layer its output error with nearest rounding and with
 * the learned one (mean squared error per output value on the sampled inputs).
 *
 * @example formatFinetune(summary.finetune) // ['  finetune      adaround: 3 layers x 500 steps on 16 samples ...', ...]
 */
export function formatFinetune(finetune: QuantizeSummary['finetune']): string[] {
  if (finetune === undefined) return [];
  const seconds = finetune.layers.reduce((sum, layer) => sum + layer.milliseconds, 0) / 1000;
  const lines = [
    `  finetune      adaround: ${finetune.layers.length} layers x ${finetune.iterations} steps on ` +
      `${finetune.samples} samples (${seconds.toFixed(1)} s)` +
      (finetune.skipped.length > 0 ? `; ${finetune.skipped.length} left with nearest rounding` : ''),
  ];
  for (const layer of finetune.layers.slice(0, FINETUNE_LAYERS_SHOWN)) {
    const ratio = layer.errorBefore > 0 ? layer.errorAfter / layer.errorBefore : 1;
    lines.push(
      `    ${layer.node}: output MSE ${layer.errorBefore.toExponential(2)} -> ${layer.errorAfter.toExponential(2)} ` +
        `(${(ratio * 100).toFixed(0)}%), ${layer.changed} codes changed`,
    );
  }
  if (finetune.layers.length > FINETUNE_LAYERS_SHOWN) {
    lines.push(`    ... ${finetune.layers.length - FINETUNE_LAYERS_SHOWN} more (--json lists every layer)`);
  }
  return lines;
}
