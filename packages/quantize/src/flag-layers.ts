import type { LayerReport, LayerSuggestion } from './report.js';

/** Which layers a report flags: those below an SQNR floor, or far below the median layer, the worst few of them. */
export interface FlagRule {
  /** Below this SQNR (dB) a layer is flagged whatever the others do. */
  readonly belowDb: number;
  /** A layer this far (dB) below the median layer is flagged too; without it, only belowDb counts. */
  readonly belowMedianDb?: number | undefined;
  /** At most this many layers are flagged, the worst. */
  readonly max: number;
}

/**
 * The quantize report's rule: below 20 dB, or 10 dB under the median quantized layer, at most 5. The median is
 * meaningful there, every layer being one the plan quantized.
 */
export const REPORT_FLAG_RULE: FlagRule = { belowDb: 20, belowMedianDb: 10, max: 5 };

/**
 * compare's rule: below 20 dB, at most 3. A comparison lines up every value both models compute (activations and
 * reshapes as well as quantized layers), so a median over them says little and only the floor counts.
 */
export const COMPARE_FLAG_RULE: FlagRule = { belowDb: 20, max: 3 };

/** A layer as measured, before flagging. */
export type MeasuredLayer = Omit<LayerReport, 'flagged' | 'suggestion'>;

/**
 * Sorts worst (lowest SQNR) first; a NaN SQNR (nothing to measure) goes last rather than scattering through the
 * order.
 *
 * @example worstFirst(report.layers).slice(0, 3) // the three worst layers
 */
export function worstFirst<T extends { readonly sqnr: number }>(rows: readonly T[]): T[] {
  const key = (row: T) => (Number.isNaN(row.sqnr) ? Infinity : row.sqnr);
  return [...rows].sort((a, b) => key(a) - key(b));
}

/**
 * Keep a node float: the fix when nothing narrower is known.
 *
 * @example keepFloatSuggestion('fc2').override // { nodes: { fc2: { float: true } } }
 */
export function keepFloatSuggestion(node: string): LayerSuggestion {
  return { why: 'keep it float', override: { nodes: { [node]: { float: true } } } };
}

/**
 * The fix for a flagged layer, from what the report knows of it: calibrate with min-max when its activation range
 * clips, per-channel 8-bit weights when its weight loses much, else keep it float.
 *
 * @example suggestionFor({ node: 'fc1', opType: 'MatMul', output: 'h', sqnr: 9, cosine: 0.9, maxAbsError: 1 }).why // 'keep it float'
 */
export function suggestionFor(layer: MeasuredLayer): LayerSuggestion {
  if (layer.activation !== undefined && layer.activation.clippedShare > 1e-3) {
    const percent = (layer.activation.clippedShare * 100).toPrecision(2);
    return {
      why: `its range clips ${percent}% of "${layer.activation.tensor}": calibrate it with min-max`,
      override: { tensors: { [layer.activation.tensor]: { observer: 'minmax' } } },
    };
  }
  if (layer.weight !== undefined && layer.weight.sqnr < 35) {
    return {
      why: `its weight loses ${layer.weight.sqnr.toFixed(1)} dB: use per-channel 8-bit weights`,
      override: { nodes: { [layer.node]: { bits: 8, granularity: 'channel' } } },
    };
  }
  return keepFloatSuggestion(layer.node);
}

export interface FlagLayersOptions {
  /** Default REPORT_FLAG_RULE. */
  readonly rule?: FlagRule | undefined;
  /** The fix for a flagged layer; default suggestionFor. */
  readonly suggest?: ((layer: MeasuredLayer) => LayerSuggestion) | undefined;
}

/**
 * Flags the worst layers by a rule (by default the quantize report's: below 20 dB, or 10 dB under the median
 * layer, at most 5), each with a suggested fix. Layers keep their order.
 *
 * @example flagLayers(rows).filter((layer) => layer.flagged)
 * @example flagLayers(rows, { rule: COMPARE_FLAG_RULE, suggest: (layer) => keepFloatSuggestion(layer.node) })
 */
export function flagLayers(layers: readonly MeasuredLayer[], options: FlagLayersOptions = {}): LayerReport[] {
  const rule = options.rule ?? REPORT_FLAG_RULE;
  const suggest = options.suggest ?? suggestionFor;
  let floor = rule.belowDb;
  if (rule.belowMedianDb !== undefined) {
    const finite = layers
      .map((layer) => layer.sqnr)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const median = finite.length === 0 ? Infinity : finite[Math.floor(finite.length / 2)]!;
    floor = Math.max(floor, median - rule.belowMedianDb);
  }
  const flagged = new Set(worstFirst(layers.filter((layer) => layer.sqnr < floor)).slice(0, rule.max));
  return layers.map((layer) =>
    flagged.has(layer)
      ? { ...layer, flagged: true, suggestion: suggest(layer) }
      : { ...layer, flagged: false },
  );
}
