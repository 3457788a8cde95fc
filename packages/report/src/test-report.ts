// A report shaped like a real run, for the tests of the page and its parts.
import { createSeededRandom } from '@quantkit/core';
import type { ColumnKind, TableRow } from './layer-table-order.js';
import type { Histogram, LayerReport, ReportData } from './report-data.js';

/** A node name that would inject markup if it were not escaped. */
export const EVIL_NAME = '</script><img src=x onerror=alert(1)>';
/** Pure tests do not need the real library; any script without `</script` will do. */
export const FAKE_CHART = 'window.Chart = undefined;';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export function histogramOf(values: readonly number[], bins: number): Histogram {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    const bin = Math.min(bins - 1, Math.floor(((value - min) / (max - min)) * bins));
    counts[bin]!++;
  }
  return { min, max, counts };
}

/**
 * A report shaped like a real static-mode run: 20 layers with histograms of random data, the clip range inside
 * the observed extremes for some, one layer exact (Infinity SQNR), one flagged, one without a weight (an
 * activation-only op) and one with a hostile node name.
 */
export function sampleReport(layerCount = 20, seed = 7): ReportData {
  const random = createSeededRandom(seed);
  const opTypes = ['Conv', 'Relu', 'MatMul', 'Gemm', 'Add'];
  const layers: LayerReport[] = [];
  for (let i = 0; i < layerCount; i++) {
    const opType = opTypes[i % opTypes.length]!;
    const scale = 0.5 + random() * 4;
    const values = Array.from({ length: 2000 }, () => gaussian(random) * scale);
    const observed = histogramOf(values, 64);
    // Percentile-like clipping for every third layer, min-max (nothing clipped) for the others.
    const clip = i % 3 === 0 ? 0.7 : 1;
    const activationMin = observed.min * clip;
    const activationMax = observed.max * clip;
    const clipped = values.filter((v) => v < activationMin || v > activationMax).length / values.length;
    const weights = Array.from({ length: 800 }, () => gaussian(random) * 0.1);
    const hasWeight = opType !== 'Relu' && opType !== 'Add';
    const sqnr = i === 4 ? Number.POSITIVE_INFINITY : 12 + random() * 30;
    const flagged = i === 9;
    layers.push({
      node: i === 2 ? EVIL_NAME : `/block${i >> 2}/${opType.toLowerCase()}_${i}`,
      opType,
      output: `t${i}`,
      sqnr: flagged ? 6.5 : sqnr,
      cosine: i === 4 ? 1 : 0.99 - random() * 0.05,
      maxAbsError: i === 4 ? 0 : random() * 0.2,
      weight: hasWeight
        ? {
            tensor: `w${i}`,
            sqnr: 35 + random() * 10,
            maxAbsError: random() * 1e-3,
            bits: 8,
            granularity: 'channel',
            histogram: histogramOf(weights, 48),
          }
        : undefined,
      activation: {
        tensor: `t${i}`,
        observer: clip < 1 ? 'percentile' : 'minmax',
        min: activationMin,
        max: activationMax,
        clippedShare: clipped,
        histogram: observed,
      },
      flagged,
      suggestion: flagged
        ? {
            why: 'keep it float',
            override: { nodes: { [`/block${i >> 2}/${opType.toLowerCase()}_${i}`]: { float: true } } },
          }
        : undefined,
    });
  }
  // The page lists recipe settings one by one, whatever they are.
  const recipe = {
    mode: 'static',
    quantizer: 'linear',
    bits: 8,
    granularity: 'channel',
    exclude: [],
    overrides: { nodes: {} },
  };
  return {
    kind: 'quantkit-report',
    version: 1,
    model: 'models/tiny <cnn>.onnx',
    quantkitVersion: '0.1.0',
    recipe,
    summary: {
      mode: 'static',
      sizeBefore: 1_234_567,
      sizeAfter: 345_678,
      weightBytesBefore: 1_100_000,
      weightBytesAfter: 280_000,
      nodes: [
        ...layers.map((layer) => ({
          name: layer.node,
          opType: layer.opType,
          quantized: true,
          reason: 'quantized',
        })),
        { name: 'softmax', opType: 'Softmax', quantized: false, reason: 'op type not quantized' },
      ],
      calibrationSamples: 32,
    },
    samples: 8,
    outputs: [
      { name: 'logits', sqnr: 24.5, cosine: 0.9987, maxAbsError: 0.031, top1Agreement: 0.875 },
      {
        name: 'exact_out',
        sqnr: Number.POSITIVE_INFINITY,
        cosine: 1,
        maxAbsError: 0,
        top1Agreement: undefined,
      },
    ],
    layers,
  };
}

/** Layer indices worst first, computed here rather than taken from the page's ordering code. */
export function worstLayers(report: ReportData): number[] {
  return report.layers
    .map((_, i) => i)
    .sort((a, b) => report.layers[a]!.sqnr - report.layers[b]!.sqnr || a - b);
}

/** The histogram charts of the given layers. */
export function chartCount(report: ReportData, indices: readonly number[]): number {
  return indices.reduce((sum, i) => {
    const layer = report.layers[i]!;
    return sum + (layer.activation ? 1 : 0) + (layer.weight ? 1 : 0);
  }, 0);
}

/**
 * The sample report as a run with a fidelity floor and a latency guard writes it: the floor measured two regions
 * and kept one float (the node "dense_kept"), the guard kept another float ("dense_slow"), the models were timed,
 * and the quantized layers of the measured region carry its sensitivity.
 */
export function measuredReport(): ReportData {
  const base = sampleReport();
  const measured = { nodes: [base.layers[0]!.node, base.layers[1]!.node], sqnr: 31.5 };
  const kept = { nodes: ['dense_kept'], sqnr: 12.25 };
  return {
    ...base,
    summary: {
      ...base.summary,
      nodes: [
        ...base.summary.nodes,
        {
          name: 'dense_kept',
          opType: 'Gemm',
          quantized: false,
          reason:
            'kept float for the 20 dB output SQNR floor: quantized alone, its region (1 nodes) brings the output to 12.2 dB',
        },
        {
          name: 'dense_slow',
          opType: 'MatMul',
          quantized: false,
          reason:
            'kept float by the latency guard: quantized, the model ran 1.30x the float latency in ort-node',
        },
      ],
      verification: {
        verified: true,
        runtime: 'ort-node',
        latency: { floatMs: 1.5, quantizedMs: 1.2, ratio: 0.8, rounds: 41, threads: 1 },
      },
      fidelity: {
        minSqnr: 20,
        samples: 'calibration',
        sqnr: 11.5,
        sensitivity: [kept, measured],
        kept: [kept],
        trials: [
          { reverted: 0, sqnr: 11.5 },
          { reverted: 1, sqnr: 24.75 },
        ],
        finalSqnr: 24.75,
      },
      latencyGuard: {
        ran: true,
        maxRatio: 1,
        reverted: [{ nodes: ['dense_slow'] }],
        trials: [
          { reverted: 0, ratio: 1.3 },
          { reverted: 1, ratio: 0.8 },
        ],
        ratio: 0.8,
      },
    },
    layers: base.layers.map((layer, index) => (index < 2 ? { ...layer, sensitivity: measured.sqnr } : layer)),
  };
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match === null ? undefined : unescapeHtml(match[1]!);
}

/**
 * The layer table of a rendered page read as the page's script reads it (column kinds from the headers, numeric
 * keys from data-value, text keys from the cells' text), written independently of it with regular expressions.
 */
export function readLayerTable(html: string): { kinds: ColumnKind[]; labels: string[]; rows: TableRow[] } {
  const table = /<table id="layer-table">([\s\S]*?)<\/table>/.exec(html)?.[1];
  if (table === undefined) throw new Error('no layer table in the page');
  const [head, body] = table.split('<tbody>') as [string, string];
  const headers = [...head.matchAll(/<th([^>]*)><button type="button">([^<]*)<\/button><\/th>/g)];
  const kinds = headers.map((match) => (attribute(match[1]!, 'data-kind') === 'number' ? 'number' : 'text'));
  const rows = [...body.matchAll(/<tr([^>]*)>([\s\S]*?)<\/tr>/g)].map(([, tag, cells]) => {
    const keys = [...cells!.matchAll(/<td([^>]*)>([\s\S]*?)<\/td>/g)].map(([, cellTag, content], column) =>
      kinds[column] === 'number'
        ? attribute(cellTag!, 'data-value')
        : unescapeHtml(content!.replace(/<[^>]*>/g, '')).trim() || undefined,
    );
    return {
      keys,
      name: attribute(tag!, 'data-name') ?? '',
      opType: attribute(tag!, 'data-op') ?? '',
      quantized: attribute(tag!, 'data-status') === 'quantized',
    };
  });
  return { kinds, labels: headers.map((match) => unescapeHtml(match[2]!)), rows };
}
