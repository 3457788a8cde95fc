// What `quantkit auto` reports: the sensitivity table, every assignment it measured, and the one it chose. JSON has
// no Infinity, so an exact output's SQNR is null.

/** One (layer, candidate) sensitivity measurement: that layer alone quantized this way, the rest float. */
export type AutoSensitivityCell =
  | {
      /** Bytes the layer's weights take in the written file this way. */
      readonly size: number;
      /** The model's worst-output SQNR in dB (null: exact). */
      readonly sqnr: number | null;
    }
  | { readonly error: string }
  /** Not measured: the candidate has no form of its own for this layer (the reason says which it gets instead). */
  | { readonly skipped: string };

export interface AutoReportLayer {
  readonly name: string;
  readonly opType: string;
  readonly weightElements: number;
  /** The fp32 bytes of its weights. */
  readonly floatBytes: number;
  /** By candidate name. */
  readonly candidates: Readonly<Record<string, AutoSensitivityCell>>;
}

/** One assignment whose model was written and measured. */
export interface AutoReportPoint {
  /** "float", "uniform int8", or the search step's candidate counts. */
  readonly label: string;
  readonly kind: 'float' | 'uniform' | 'search' | 'refine' | 'latency';
  /** The written file's bytes. */
  readonly size: number;
  readonly sqnr: number | null;
  readonly bitsPerWeight: number;
  /** On the size-vs-SQNR Pareto front of all points (no other point is both smaller and at least as close). */
  readonly front: boolean;
  readonly chosen: boolean;
  /** Candidate per layer. */
  readonly assignment: Readonly<Record<string, string>>;
}

export interface AutoReportData {
  readonly kind: 'quantkit-auto';
  readonly model: string;
  /** Where the comparison samples came from, and how many. */
  readonly samples: { readonly origin: 'calibration' | 'given' | 'random'; readonly count: number };
  readonly candidates: readonly { readonly name: string; readonly description: string }[];
  /** The formats not mixed per layer, and why. */
  readonly notMixed: string;
  /** How int8 weights were written: DequantizeLinear per run, or folded into fp32 at load. */
  readonly weightOnlyForm: 'dequantize' | 'fold';
  readonly budgets: {
    readonly maxSize?: number;
    readonly bitsPerWeight?: number;
    readonly minSqnr?: number;
    readonly maxDrop?: number;
    readonly maxLatencyRatio?: number;
  };
  /** The float model's bytes as quantkit writes it (every layer float). */
  readonly floatSize: number;
  readonly layers: readonly AutoReportLayer[];
  readonly points: readonly AutoReportPoint[];
  readonly chosen: {
    readonly label: string;
    readonly assignment: Readonly<Record<string, string>>;
    readonly size: number;
    readonly sqnr: number | null;
    readonly bitsPerWeight: number;
    /** With a metric: its value on the float and the chosen model, and the drop (float minus chosen). */
    readonly metric?: { readonly float: number; readonly quantized: number; readonly drop: number };
    /** With a latency budget: the chosen model's latency against the float model's, and the layers reverted. */
    readonly latency?: {
      readonly ratio: number;
      readonly floatMs: number;
      readonly quantizedMs: number;
      readonly reverted: readonly string[];
    };
  };
}
