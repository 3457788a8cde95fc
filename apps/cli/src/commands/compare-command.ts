import { readFile } from 'node:fs/promises';
import { type CalibrationInput, splitSampleBatches } from '@quantkit/calibration';
import { readCalibrationDir } from '@quantkit/calibration/node';
import { type ExecutorSession, QuantError, type Tensor, listChoices } from '@quantkit/core';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { decodeModel } from '@quantkit/onnx';
import { createMetricsAccumulator } from '@quantkit/quantize';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { parseIntegerFlag } from '../flags.js';
import { formatMetric, formatTable } from '../format.js';
import { randomSamples } from '../random-samples.js';
import { requireExisting, userPath } from '../paths.js';

/** Random samples `compare` makes when no --data is given and no --samples either. */
export const DEFAULT_RANDOM_SAMPLES = 8;
export const DEFAULT_SEED = 1;

/** Metrics for one model output over every sample. */
export interface OutputComparison {
  readonly output: string;
  readonly sqnr: number;
  readonly cosine: number;
  readonly maxAbsError: number;
  readonly top1Agreement: number | null;
  readonly samples: number;
}

export interface CompareReport {
  readonly reference: string;
  readonly candidate: string;
  /** Where the inputs came from: a folder, or random data with the seed used. */
  readonly data:
    | { readonly kind: 'folder'; readonly dir: string }
    | { readonly kind: 'random'; readonly seed: number };
  readonly samples: number;
  readonly outputs: readonly OutputComparison[];
}

async function readModelInputs(path: string): Promise<{ bytes: Uint8Array; inputs: CalibrationInput[] }> {
  await requireExisting(path, 'model', 'file');
  const bytes = new Uint8Array(await readFile(path));
  const graph = decodeModel(bytes, path).graph;
  const inputs = graph.inputs
    .filter((input) => !graph.initializers.has(input.name))
    .map((input) => ({ name: input.name, dtype: input.dtype, shape: input.shape }));
  return { bytes, inputs };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name) => b.includes(name));
}

async function* samplesFrom(
  dir: string | undefined,
  inputs: readonly CalibrationInput[],
  limit: number | undefined,
  seed: number,
): AsyncIterable<Record<string, Tensor>> {
  if (dir === undefined) {
    yield* randomSamples(inputs, limit ?? DEFAULT_RANDOM_SAMPLES, seed);
    return;
  }
  let count = 0;
  for await (const { sample, source } of readCalibrationDir(dir, inputs)) {
    // A file may hold a batch; models with a fixed batch size take it in pieces.
    for (const piece of splitSampleBatches(sample, inputs, source)) {
      if (limit !== undefined && count >= limit) return;
      count++;
      yield piece;
    }
  }
}

/**
 * Runs two models on the same inputs with onnxruntime-node and measures how far the candidate's outputs are from
 * the reference's, per output.
 *
 * @example const report = await compareModels('model.onnx', 'model.int8.onnx', { samples: 16 });
 * @throws QuantError NOT_FOUND / INVALID_MODEL for the files; INVALID_ARGUMENT when the models' inputs or outputs
 * differ; CALIBRATION_DATA for --data that does not fit; EXECUTOR when onnxruntime refuses a model.
 */
export async function compareModels(
  reference: string,
  candidate: string,
  options: {
    readonly dataDir?: string | undefined;
    readonly samples?: number | undefined;
    readonly seed?: number;
  },
): Promise<CompareReport> {
  const a = await readModelInputs(reference);
  const b = await readModelInputs(candidate);
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

  const executor = createOrtNodeExecutor();
  const sessions: ExecutorSession[] = [];
  try {
    const sessionA = await executor.createSession(a.bytes);
    sessions.push(sessionA);
    const sessionB = await executor.createSession(b.bytes);
    sessions.push(sessionB);
    const missing = sessionA.outputNames.filter((name) => !sessionB.outputNames.includes(name));
    if (missing.length > 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `${candidate} has no output ${listChoices(missing)}; its outputs are ${listChoices(sessionB.outputNames)}`,
      );
    }
    const accumulators = new Map(sessionA.outputNames.map((name) => [name, createMetricsAccumulator()]));
    let samples = 0;
    for await (const sample of samplesFrom(options.dataDir, a.inputs, options.samples, seed)) {
      const outputsA = await sessionA.run(sample);
      const outputsB = await sessionB.run(sample, sessionA.outputNames);
      for (const [name, accumulator] of accumulators) {
        const expected = outputsA[name];
        const actual = outputsB[name];
        if (expected === undefined || actual === undefined) {
          throw new QuantError('EXECUTOR', `output "${name}" was not returned by the runtime`);
        }
        accumulator.add(expected, actual, `output "${name}"`);
      }
      samples++;
    }
    if (samples === 0) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `no samples to compare on${options.dataDir ? ` in ${options.dataDir}` : ''}`,
      );
    }
    return {
      reference,
      candidate,
      data:
        options.dataDir === undefined ? { kind: 'random', seed } : { kind: 'folder', dir: options.dataDir },
      samples,
      outputs: [...accumulators].map(([output, accumulator]) => {
        const result = accumulator.result();
        return {
          output,
          sqnr: result.sqnr,
          cosine: result.cosine,
          maxAbsError: result.maxAbsError,
          top1Agreement: result.top1Agreement ?? null,
          samples: result.samples,
        };
      }),
    };
  } finally {
    for (const session of sessions) await session.dispose();
  }
}

/** The text `quantkit compare` prints. */
export function formatCompareReport(report: CompareReport): string[] {
  const source =
    report.data.kind === 'folder'
      ? `${report.samples} samples from ${report.data.dir}`
      : `${report.samples} random samples (seed ${report.data.seed}; floats uniform in [-1, 1), integers in [0, 10), ` +
        'symbolic dims set to 1; pass --data <dir> for real inputs)';
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
  return [
    `${report.candidate} vs ${report.reference}`,
    `inputs: ${source}`,
    ...formatTable(rows, [1, 2, 3, 4]).map((line) => `  ${line}`),
  ];
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
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(
      async (
        referenceArgument: string,
        candidateArgument: string,
        flags: { data?: string; samples?: string; seed?: string; json?: boolean },
      ) => {
        const samples = parseIntegerFlag('--samples', flags.samples, { min: 1 });
        const seed = parseIntegerFlag('--seed', flags.seed, { min: 0, max: 2 ** 32 - 1 });
        if (seed !== undefined && flags.data !== undefined) {
          throw new QuantError(
            'INVALID_ARGUMENT',
            '--seed applies to random inputs only; drop it or drop --data',
          );
        }
        const report = await compareModels(userPath(io, referenceArgument), userPath(io, candidateArgument), {
          dataDir: flags.data === undefined ? undefined : userPath(io, flags.data),
          samples,
          ...(seed !== undefined && { seed }),
        });
        if (flags.json === true) writeJson(io, { ok: true, command: 'compare', ...report });
        else io.stdout.write(`${formatCompareReport(report).join('\n')}\n`);
      },
    );
}
