import { QuantError, type Registry, type Tensor } from '@quantkit/core';
import { DEFAULT_SEED, RANDOM_DATA_TEXT, randomSamples } from '@quantkit/quantize';
import { readCalibrationDir } from '@quantkit/calibration/node';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { createCliRegistry } from '../cli-registry.js';
import { collectRepeated, parseChoiceFlag, parseIntegerFlag } from '../flags.js';
import { formatTable } from '../format.js';
import { readModelFile } from '../model-file.js';
import { requireExisting, userPath } from '../paths.js';
import { RUNTIMES, type RuntimeName, executorFor } from '../runtime-choice.js';

/** How long one runtime took on the model. */
export interface BenchResult {
  readonly runtime: RuntimeName;
  readonly threads: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  /** Runs per second at the median time. */
  readonly throughput: number;
}

export interface BenchReport {
  readonly model: string;
  /** Where the one input sample came from. */
  readonly input: string;
  readonly results: readonly BenchResult[];
}

export interface BenchOptions {
  readonly runtimes: readonly RuntimeName[];
  readonly threads: number;
  /** Timed runs after the warm-up (default: as many as fit in `seconds`, at least 10). */
  readonly runs?: number | undefined;
  readonly warmup: number;
  /** Time budget per runtime when runs is not given. */
  readonly seconds: number;
  readonly dataDir?: string | undefined;
  /** Where kernels and backends come from (default: the CLI's built-ins). */
  readonly registry?: Registry;
}

/**
 * Times a model on each runtime: one input sample (the first of --data, or seeded random inputs), a warm-up, then
 * timed runs; the median, the 90th percentile and the throughput.
 *
 * @example const report = await benchModelFile('model.onnx', { runtimes: ['quantkit', 'ort-node'], threads: 1, warmup: 3, seconds: 5 });
 * @throws QuantError INVALID_ARGUMENT for --threads above 1 on the quantkit runtime (it runs on one thread);
 *   EXECUTOR when a runtime refuses the model.
 */
export async function benchModelFile(modelPath: string, options: BenchOptions): Promise<BenchReport> {
  if (options.threads !== 1 && options.runtimes.includes('quantkit')) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `--threads ${options.threads}: the quantkit runtime runs on one thread; use --threads 1 or another --runtime`,
    );
  }
  const file = await readModelFile(modelPath);
  let sample: Record<string, Tensor> | undefined;
  let input: string;
  if (options.dataDir !== undefined) {
    await requireExisting(options.dataDir, 'data folder', 'folder');
    for await (const entry of readCalibrationDir(options.dataDir, file.inputs)) {
      sample = entry.sample;
      input = `${entry.source} (first sample of ${options.dataDir})`;
      break;
    }
    if (sample === undefined)
      throw new QuantError('CALIBRATION_DATA', `--data ${options.dataDir} holds no samples`);
  } else {
    sample = randomSamples(file.inputs, 1, DEFAULT_SEED)[0]!;
    input = `random inputs (seed ${DEFAULT_SEED}; ${RANDOM_DATA_TEXT})`;
  }
  const registry = options.registry ?? (await createCliRegistry([], process.cwd())).registry;
  const results: BenchResult[] = [];
  for (const runtime of options.runtimes) {
    const session = await executorFor(runtime, options.threads, registry).createSession(file.bytes, {
      threads: options.threads,
    });
    try {
      for (let i = 0; i < options.warmup; i++) await session.run(sample);
      const times: number[] = [];
      const deadline = performance.now() + options.seconds * 1000;
      while (
        options.runs !== undefined
          ? times.length < options.runs
          : times.length < 10 || performance.now() < deadline
      ) {
        const start = performance.now();
        await session.run(sample);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const medianMs = quantile(times, 0.5);
      results.push({
        runtime,
        threads: options.threads,
        runs: times.length,
        medianMs,
        p90Ms: quantile(times, 0.9),
        throughput: 1000 / medianMs,
      });
    } finally {
      await session.dispose();
    }
  }
  return { model: modelPath, input: input!, results };
}

/** The q-quantile of sorted values, interpolated linearly. */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

/** The text `quantkit bench` prints: a row per runtime, with its median against the first runtime's. */
export function formatBenchReport(report: BenchReport): string[] {
  const baseline = report.results[0]!;
  const rows = [
    ['runtime', 'threads', 'runs', 'median ms', 'p90 ms', 'runs/s', `vs ${baseline.runtime}`],
    ...report.results.map((result) => [
      result.runtime,
      `${result.threads}`,
      `${result.runs}`,
      result.medianMs.toFixed(3),
      result.p90Ms.toFixed(3),
      result.throughput.toFixed(1),
      `${(result.medianMs / baseline.medianMs).toFixed(2)}x`,
    ]),
  ];
  return [
    `${report.model} on ${report.input}`,
    ...formatTable(rows, [1, 2, 3, 4, 5, 6]).map((line) => `  ${line}`),
  ];
}

interface BenchFlags {
  readonly runtime?: string[];
  readonly threads?: string;
  readonly runs?: string;
  readonly warmup?: string;
  readonly seconds?: string;
  readonly data?: string;
  readonly json?: boolean;
  readonly plugin?: string[];
}

/** `quantkit bench`: see --help. */
export function benchCommand(io: CliIo): Command {
  return new Command('bench')
    .description("time a model on quantkit's runtime and on onnxruntime (median, p90, throughput)")
    .argument('<model>', 'the ONNX model to time')
    .option(
      '--runtime <name>',
      `${RUNTIMES.join(', ')}; repeatable, the first is the baseline (default: quantkit and ort-node)`,
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--threads <n>', 'intra-op threads (default 1; the quantkit runtime runs on one)')
    .option('--runs <n>', 'timed runs per runtime (default: as many as fit in --seconds, at least 10)')
    .option('--warmup <n>', 'untimed runs first (default 3)')
    .option('--seconds <s>', 'time budget per runtime without --runs (default 3)')
    .option(
      '--data <dir>',
      'time on the first sample of this folder (calibration layout; random inputs otherwise)',
    )
    .option(
      '--plugin <path-or-package>',
      'load kernel and backend plugins from an ES module (repeatable)',
      collectRepeated,
    )
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(async (modelArgument: string, flags: BenchFlags) => {
      const runtimes = (flags.runtime ?? ['quantkit', 'ort-node']).map(
        (value) => parseChoiceFlag('--runtime', value, RUNTIMES)!,
      );
      const report = await benchModelFile(userPath(io, modelArgument), {
        runtimes,
        threads: parseIntegerFlag('--threads', flags.threads, { min: 1, max: 256 }) ?? 1,
        runs: parseIntegerFlag('--runs', flags.runs, { min: 1 }),
        warmup: parseIntegerFlag('--warmup', flags.warmup, { min: 0 }) ?? 3,
        seconds: parseIntegerFlag('--seconds', flags.seconds, { min: 1, max: 3600 }) ?? 3,
        dataDir: flags.data === undefined ? undefined : userPath(io, flags.data),
        registry: (await createCliRegistry(flags.plugin ?? [], io.cwd)).registry,
      });
      if (flags.json === true) writeJson(io, { ok: true, command: 'bench', ...report });
      else io.stdout.write(`${formatBenchReport(report).join('\n')}\n`);
    });
}
