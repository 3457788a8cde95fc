import { extname } from 'node:path';
import { QuantError, listChoices } from '@quantkit/core';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import {
  type LayerReport,
  PROVENANCE_KEYS,
  QUANTKIT_VERSION,
  commonValues,
  compareLayers,
  createMetricsAccumulator,
  keepFloatSuggestion,
  weightBytes,
  DEFAULT_RANDOM_SAMPLES,
  DEFAULT_SEED,
  RANDOM_DATA_TEXT,
} from '@quantkit/quantize';
import { collectActivations } from '@quantkit/calibration';
import { calibrationFiles } from '@quantkit/calibration/node';
import { type SampleOrigin, sampleSource } from '@quantkit/quantize/node';
import { checkWrites, writeFileAtomic } from '@quantkit/onnx/node';
import type { ReportData } from '@quantkit/report';
import { writeReportHtml } from '@quantkit/report/node';
import { Command } from 'commander';
import { type CliIo, toJson, writeJson } from '../cli-io.js';
import { parseIntegerFlag } from '../flags.js';
import { formatMetric, formatTable } from '../format.js';
import { type ModelFile, modelFileUses, readModelFile } from '../model-file.js';
import { inFlagTerms } from '../flag-terms.js';
import { exists, requireExisting, requireFilePath, userPath } from '../paths.js';

export { DEFAULT_RANDOM_SAMPLES, DEFAULT_SEED };

/** Rows of the per-layer table printed without --all. */
export const LAYER_ROWS_SHOWN = 20;
/** The report flags layers below this SQNR (dB), the worst MAX_FLAGGED_LAYERS of them. */
export const FLAG_BELOW_DB = 20;
export const MAX_FLAGGED_LAYERS = 3;

/** Metrics for one model output over every sample. */
export interface OutputComparison {
  readonly output: string;
  readonly sqnr: number;
  readonly cosine: number;
  readonly maxAbsError: number;
  readonly top1Agreement: number | null;
  readonly samples: number;
}

/** Metrics for one value both models compute. */
export interface LayerComparisonRow {
  readonly value: string;
  /** The node computing the value in the candidate (above any QuantizeLinear/DequantizeLinear), and its op type. */
  readonly node: string;
  readonly opType: string;
  readonly sqnr: number;
  readonly cosine: number;
  readonly maxAbsError: number;
  readonly samples: number;
}

export interface CompareReport {
  readonly reference: string;
  readonly candidate: string;
  /** Where the inputs came from: a folder, or random data with the seed used. */
  readonly data: SampleOrigin;
  readonly samples: number;
  readonly outputs: readonly OutputComparison[];
  /** With per-layer comparison: every value both models compute, worst (lowest SQNR) first. */
  readonly layers?: readonly LayerComparisonRow[];
}

export interface CompareOptions {
  readonly dataDir?: string | undefined;
  readonly samples?: number | undefined;
  readonly seed?: number;
  /** Also compare every value both models compute (see commonValues). */
  readonly perLayer?: boolean;
}

const QDQ_OPS = new Set(['QuantizeLinear', 'DequantizeLinear']);

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}

/** Sorts worst first; a NaN SQNR (nothing to measure) goes last rather than scattering through the order. */
function worstFirst<T extends { readonly sqnr: number }>(rows: readonly T[]): T[] {
  const key = (row: T) => (Number.isNaN(row.sqnr) ? Infinity : row.sqnr);
  return [...rows].sort((a, b) => key(a) - key(b));
}

/**
 * Runs two models on the same inputs with onnxruntime-node and measures how far the candidate's outputs (and,
 * with `perLayer`, every value both compute) are from the reference's.
 *
 * @example const report = await compareModelFiles(await readModelFile('a.onnx'), await readModelFile('b.onnx'), {});
 * @throws QuantError INVALID_ARGUMENT when the models' inputs or outputs differ; NOT_FOUND / CALIBRATION_DATA for
 * --data that is missing or does not fit; EXECUTOR when onnxruntime refuses a model.
 */
export async function compareModelFiles(
  a: ModelFile,
  b: ModelFile,
  options: CompareOptions,
): Promise<CompareReport> {
  const [reference, candidate] = [a.path, b.path];
  if (
    !sameNames(
      a.inputs.map((input) => input.name),
      b.inputs.map((input) => input.name),
    )
  ) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${reference} and ${candidate} take different inputs (${listChoices(a.inputs.map((i) => i.name))} vs ` +
        `${listChoices(b.inputs.map((i) => i.name))}); compare needs two versions of one model`,
    );
  }
  if (options.dataDir !== undefined) await requireExisting(options.dataDir, 'data folder', 'folder');
  const seed = options.seed ?? DEFAULT_SEED;
  const data: SampleOrigin =
    options.dataDir === undefined ? { kind: 'random', seed } : { kind: 'folder', dir: options.dataDir };
  // A factory, so the per-layer comparison can read the same samples again in as many passes as it needs.
  // Random data that cannot be made asks for dataDir, which the command words as --data.
  const samplesOf = sampleSource(data, a.inputs, {
    limit: options.samples ?? (data.kind === 'random' ? DEFAULT_RANDOM_SAMPLES : undefined),
    dataOption: 'dataDir',
  });

  const executor = createOrtNodeExecutor();
  const outputNames = a.model.graph.outputs.map((output) => output.name);
  const candidateOutputs = b.model.graph.outputs.map((output) => output.name);
  const missing = outputNames.filter((name) => !candidateOutputs.includes(name));
  if (missing.length > 0) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${candidate} has no output ${listChoices(missing)}; its outputs are ${listChoices(candidateOutputs)}`,
    );
  }
  const accumulators = new Map(outputNames.map((name) => [name, createMetricsAccumulator()]));
  // The outputs are outputs already: each model runs as the bytes read from its file, encoded by no one.
  const asRead = (file: ModelFile) => ({
    model: file.model,
    encoded: { bytes: file.bytes, values: new Set(outputNames) },
  });
  const collected = await collectActivations(
    [asRead(a), asRead(b)],
    outputNames,
    { executor, samples: samplesOf },
    (names, [expected, actual]) => {
      for (const name of names)
        accumulators.get(name)!.add(expected![name]!, actual![name]!, `output "${name}"`);
    },
  );
  if (collected.samples === 0) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `no samples to compare on${options.dataDir ? ` in ${options.dataDir}` : ''}`,
    );
  }
  const outputs: OutputComparison[] = [...accumulators].map(([output, accumulator]) => {
    const result = accumulator.result();
    return {
      output,
      sqnr: result.sqnr,
      cosine: result.cosine,
      maxAbsError: result.maxAbsError,
      top1Agreement: result.top1Agreement ?? null,
      samples: result.samples,
    };
  });
  const samples = collected.samples;

  let layers: LayerComparisonRow[] | undefined;
  if (options.perLayer === true) {
    const producers = new Map(
      b.model.graph.nodes.flatMap((node) => node.outputs.map((value) => [value, node])),
    );
    // In a QDQ model a value is re-created by DequantizeLinear (fed by QuantizeLinear); the node a user knows is the
    // one computing it, above that pair.
    const computedBy = (value: string) => {
      let node = producers.get(value);
      for (let hops = 0; node !== undefined && QDQ_OPS.has(node.opType) && hops < 4; hops++) {
        const above = producers.get(node.inputs[0] ?? '');
        if (above === undefined) break;
        node = above;
      }
      return node;
    };
    const values = commonValues(a.model, b.model);
    // The sample source already applies --samples, so compareLayers must not cut it shorter (its default is 8).
    const comparisons =
      values.length === 0
        ? []
        : await compareLayers(
            a.model,
            b.model,
            values.map((name) => ({ name })),
            { executor, samples: samplesOf, limit: Number.POSITIVE_INFINITY },
          );
    layers = worstFirst(
      comparisons.map((comparison) => {
        const node = computedBy(comparison.name);
        return {
          value: comparison.name,
          node: node?.name ?? '',
          opType: node?.opType ?? '',
          sqnr: comparison.sqnr,
          cosine: comparison.cosine,
          maxAbsError: comparison.maxAbsError,
          samples: comparison.samples,
        };
      }),
    );
  }
  return { reference, candidate, data, samples, outputs, ...(layers !== undefined && { layers }) };
}

/**
 * Reads both model files and compares them; see compareModelFiles.
 *
 * @example const report = await compareModels('model.onnx', 'model.int8.onnx', { samples: 16 });
 * @throws QuantError NOT_FOUND / INVALID_MODEL for the files, plus everything compareModelFiles throws.
 */
export async function compareModels(
  reference: string,
  candidate: string,
  options: CompareOptions,
): Promise<CompareReport> {
  return compareModelFiles(await readModelFile(reference), await readModelFile(candidate), options);
}

/** The recipe quantkit recorded in a model's metadata, or an empty object for a model quantkit did not write. */
function recordedRecipe(file: ModelFile): Record<string, unknown> {
  const text = file.model.metadata.get(PROVENANCE_KEYS.recipe);
  if (text === undefined) return {};
  try {
    const recipe: unknown = JSON.parse(text);
    return typeof recipe === 'object' && recipe !== null && !Array.isArray(recipe)
      ? (recipe as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/**
 * Marks the worst layers below FLAG_BELOW_DB, at most MAX_FLAGGED_LAYERS, with the one fix that always applies.
 * The fix must name a node of the reference model, the one the user would quantize again: the candidate's node when
 * the reference has one of that name, else the reference's producer of the value (quantization may rename a node,
 * a Gemm becoming a DynamicQuantizeMatMul "Gemm_1", say).
 */
function flagLayers(
  layers: readonly Omit<LayerReport, 'flagged'>[],
  referenceNode: (layer: Omit<LayerReport, 'flagged'>) => string | undefined,
): LayerReport[] {
  const flagged = new Set(
    worstFirst(layers.filter((layer) => layer.sqnr < FLAG_BELOW_DB)).slice(0, MAX_FLAGGED_LAYERS),
  );
  return layers.map((layer) => {
    if (!flagged.has(layer)) return { ...layer, flagged: false };
    const node = referenceNode(layer) ?? layer.node;
    return {
      ...layer,
      flagged: true,
      suggestion: keepFloatSuggestion(node),
    };
  });
}

/** A comparison as a report document, and the reference model it was compared with. */
export interface CompareReportFile extends ReportData {
  readonly reference: string;
}

/**
 * A comparison as a report document (ReportData), so the same HTML page and tools read it.
 * Layers are in the candidate's graph order, as the page's chart expects. A comparison knows no plan: the recipe
 * is whatever quantkit recorded in the candidate (empty for other models), there is no node list, and layers carry
 * no weight or activation details.
 */
export function compareReportFile(
  report: CompareReport,
  reference: ModelFile,
  candidate: ModelFile,
): CompareReportFile {
  const recipe = recordedRecipe(candidate);
  const referenceProducers = new Map(
    reference.model.graph.nodes.flatMap((node) => node.outputs.map((value) => [value, node.name])),
  );
  const referenceNames = new Set(reference.model.graph.nodes.map((node) => node.name));
  const order = new Map<string, number>();
  for (const node of candidate.model.graph.nodes)
    for (const value of node.outputs) order.set(value, order.size);
  const layers = [...(report.layers ?? [])]
    .sort((x, y) => (order.get(x.value) ?? 0) - (order.get(y.value) ?? 0))
    .map((layer) => ({
      node: layer.node,
      opType: layer.opType,
      output: layer.value,
      sqnr: layer.sqnr,
      cosine: layer.cosine,
      maxAbsError: layer.maxAbsError,
    }));
  return {
    kind: 'quantkit-report' as const,
    version: 1 as const,
    model: report.candidate,
    reference: report.reference,
    quantkitVersion: QUANTKIT_VERSION,
    recipe,
    summary: {
      mode: typeof recipe.mode === 'string' ? recipe.mode : 'unknown',
      sizeBefore: reference.bytes.length,
      sizeAfter: candidate.bytes.length,
      weightBytesBefore: weightBytes(reference.model.graph),
      weightBytesAfter: weightBytes(candidate.model.graph),
      nodes: [],
      calibrationSamples: 0,
    },
    samples: report.samples,
    outputs: report.outputs.map((output) => ({
      name: output.output,
      sqnr: output.sqnr,
      cosine: output.cosine,
      maxAbsError: output.maxAbsError,
      top1Agreement: output.top1Agreement ?? undefined,
    })),
    layers: flagLayers(layers, (layer) =>
      referenceNames.has(layer.node) ? layer.node : referenceProducers.get(layer.output),
    ),
  };
}

/** Writes the report file: the HTML page for .html/.htm, JSON otherwise (as `quantize --report` does). */
async function writeCompareReport(path: string, report: CompareReportFile): Promise<void> {
  const extension = extname(path).toLowerCase();
  if (extension === '.html' || extension === '.htm') {
    await writeReportHtml(path, report);
  } else {
    await writeFileAtomic(path, new TextEncoder().encode(`${toJson(report, 2)}\n`));
  }
}

/** The text `quantkit compare` prints. */
export function formatCompareReport(
  report: CompareReport,
  options: { readonly all?: boolean } = {},
): string[] {
  const source =
    report.data.kind === 'folder'
      ? `${report.samples} samples from ${report.data.dir}`
      : `${report.samples} random samples (seed ${report.data.seed}; ${RANDOM_DATA_TEXT}; ` +
        'pass --data <dir> for real inputs)';
  const rows = [
    ['output', 'SQNR dB', 'cosine', 'max abs err', 'top-1'],
    ...report.outputs.map((output) => [
      output.output,
      formatMetric(output.sqnr, 2),
      formatMetric(output.cosine, 6),
      formatMetric(output.maxAbsError, 6),
      output.top1Agreement === null ? 'n/a' : `${(output.top1Agreement * 100).toFixed(1)}%`,
    ]),
  ];
  const lines = [
    `${report.candidate} vs ${report.reference}`,
    `inputs: ${source}`,
    ...formatTable(rows, [1, 2, 3, 4]).map((line) => `  ${line}`),
  ];
  if (report.layers !== undefined) {
    const shown = options.all === true ? report.layers : report.layers.slice(0, LAYER_ROWS_SHOWN);
    const more =
      shown.length < report.layers.length
        ? ` (the worst ${shown.length} of ${report.layers.length}; --all shows every one)`
        : '';
    lines.push(`layers: ${report.layers.length} values both models compute, worst first${more}`);
    const layerRows = [
      ['value', 'op', 'SQNR dB', 'cosine', 'max abs err'],
      ...shown.map((layer) => [
        layer.value,
        layer.opType,
        formatMetric(layer.sqnr, 2),
        formatMetric(layer.cosine, 6),
        formatMetric(layer.maxAbsError, 6),
      ]),
    ];
    lines.push(...formatTable(layerRows, [2, 3, 4]).map((line) => `  ${line}`));
  }
  return lines;
}

interface CompareFlags {
  readonly data?: string;
  readonly samples?: string;
  readonly seed?: string;
  readonly perLayer?: boolean;
  readonly all?: boolean;
  readonly report?: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

/** `quantkit compare`: see --help. */
export function compareCommand(io: CliIo): Command {
  return new Command('compare')
    .description('run two models (e.g. float and quantized) on the same inputs and compare their outputs')
    .argument('<reference>', 'the reference model (usually the float original)')
    .argument('<candidate>', 'the model to measure (usually the quantized one)')
    .option('--data <dir>', 'input data in the calibration layout (random inputs when omitted)')
    .option('--samples <n>', `use at most this many samples (random data: default ${DEFAULT_RANDOM_SAMPLES})`)
    .option('--seed <n>', `seed for random inputs (default ${DEFAULT_SEED})`)
    .option('--per-layer', 'also compare every value both models compute, worst first')
    .option('--all', `with --per-layer, list every layer (default: the worst ${LAYER_ROWS_SHOWN})`)
    .option(
      '--report <file>',
      'write the per-layer comparison: an HTML page for .html/.htm, JSON otherwise (implies --per-layer)',
    )
    .option('--force', 'overwrite an existing --report file')
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(async (referenceArgument: string, candidateArgument: string, flags: CompareFlags) => {
      const samples = parseIntegerFlag('--samples', flags.samples, { min: 1 });
      const seed = parseIntegerFlag('--seed', flags.seed, { min: 0, max: 2 ** 32 - 1 });
      if (seed !== undefined && flags.data !== undefined) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          '--seed applies to random inputs only; drop it or drop --data',
        );
      }
      const perLayer = flags.perLayer === true || flags.report !== undefined;
      if (flags.all === true && !perLayer)
        throw new QuantError('INVALID_ARGUMENT', '--all needs --per-layer');
      const reference = await readModelFile(userPath(io, referenceArgument));
      const candidate = await readModelFile(userPath(io, candidateArgument));
      const reportPath = flags.report === undefined ? undefined : userPath(io, flags.report);
      if (flags.report !== undefined && reportPath !== undefined) {
        await requireFilePath(io, '--report', flags.report, 'report.html');
        const dataDir = flags.data === undefined ? undefined : userPath(io, flags.data);
        await checkWrites(
          [
            ...modelFileUses('reference model', reference),
            ...modelFileUses('candidate model', candidate),
            ...(dataDir !== undefined && (await exists(dataDir))
              ? (await calibrationFiles(dataDir)).map((path) => ({ role: '--data file', path }))
              : []),
          ],
          [{ role: '--report', path: reportPath }],
          { force: flags.force === true },
        ).catch((error: unknown) => {
          throw inFlagTerms(error);
        });
      }

      const report = await compareModelFiles(reference, candidate, {
        dataDir: flags.data === undefined ? undefined : userPath(io, flags.data),
        samples,
        perLayer,
        ...(seed !== undefined && { seed }),
      }).catch((error: unknown) => {
        throw inFlagTerms(error);
      });
      if (reportPath !== undefined) {
        await writeCompareReport(reportPath, compareReportFile(report, reference, candidate));
      }
      if (flags.json === true) {
        writeJson(io, { ok: true, command: 'compare', ...report, report: reportPath ?? null });
      } else {
        const lines = formatCompareReport(report, { all: flags.all === true });
        if (reportPath !== undefined) lines.push(`report: ${reportPath}`);
        io.stdout.write(`${lines.join('\n')}\n`);
      }
    });
}
