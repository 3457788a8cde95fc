import { access, readFile, realpath, rm, stat } from 'node:fs/promises';
import { dirname, extname, resolve, sep } from 'node:path';
import { QuantError } from '@quantkit/core';
import { countCalibrationSamples, hashCalibrationDir, readCalibrationDir } from '@quantkit/calibration/node';
import { readModelFile, writeFileAtomic, writeModelFile } from '@quantkit/onnx/node';
import { batchSamples } from './batch-samples.js';
import { feedInputs } from './calibrate.js';
import { type CalibrationCache, parseCalibrationCache } from './calibration-cache.js';
import { writeReportHtml } from './chart-script.js';
import type { CalibrationSample, CalibrationSource, QuantizeOptions } from './options.js';
import { type QuantOverrides, parseOverrides } from './overrides.js';
import { type QuantizeResult, quantizeModel } from './quantize-model.js';
import { weightBytes } from './summary.js';
import type { QuantizeReport } from './report.js';
import { createWorkerCalibrationRunner } from './worker-calibration.js';

export { loadChartScript, writeReportHtml } from './chart-script.js';
export {
  type WorkerCalibrationSettings,
  createWorkerCalibrationRunner,
  defaultWorkerCount,
} from './worker-calibration.js';

export interface QuantizeFileOptions
  extends Omit<QuantizeOptions, 'calibrationData' | 'calibrationCache' | 'overrides' | 'report'> {
  /**
   * Calibration folder (ONNX test-data layout or .npy files): static mode calibrates on it, float mode keeps nodes
   * whose values overflow fp16 in fp32, and every mode runs the written model on its first sample.
   */
  readonly calibrationDir?: string;
  /** Use at most this many calibration samples. */
  readonly calibrationLimit?: number;
  /** Run this many samples per model run (inputs need a symbolic batch dimension). */
  readonly calibrationBatch?: number;
  /** Quantize with the ranges in this calibration cache (from saveCalibration) instead of calibrating. */
  readonly loadCalibration?: string;
  /** Write the calibrated ranges here, for loadCalibration in later runs. */
  readonly saveCalibration?: string;
  /** Overrides, or the path of a JSON file holding them. */
  readonly overrides?: QuantOverrides | string;
  /** Write the per-layer report here: HTML for .html/.htm, JSON otherwise. */
  readonly report?: string;
  /** Samples the report compares on when there is no calibration folder (dynamic and weight-only modes). */
  readonly reportSamples?: CalibrationSource;
  /** Compare on at most this many samples (default 8). */
  readonly reportLimit?: number;
  /**
   * Worker threads for calibration from a folder (default: one per core beyond the first, at most one per sample;
   * 1 calibrates in this thread).
   */
  readonly calibrationWorkers?: number;
  /** Replace existing output, cache and report files. */
  readonly force?: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new QuantError(code, `cannot read ${what} "${path}"`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${what} "${path}" is not valid JSON: ${(error as Error).message}`,
    );
  }
}

/**
 * Checks the files a run will write before any work: none may be a file the run reads (the model, an overrides
 * file, a calibration cache), or exist without force, and each must go into an existing folder.
 */
async function checkOutputs(
  reads: readonly (readonly [string, string | undefined])[],
  outputs: readonly (readonly [string, string | undefined])[],
  force: boolean,
) {
  const inputs = new Map<string, string>();
  for (const [what, path] of reads) if (path !== undefined) inputs.set(await canonical(path), what);
  const seen = new Map<string, string>();
  for (const [what, path] of outputs) {
    if (path === undefined) continue;
    const target = await canonical(path);
    const read = inputs.get(target);
    if (read !== undefined) {
      throw new QuantError('OUTPUT_CONFLICT', `${what} "${path}" is the ${read}; choose another path`);
    }
    const clash = seen.get(target);
    if (clash !== undefined)
      throw new QuantError('OUTPUT_CONFLICT', `${what} and ${clash} are the same file "${path}"`);
    seen.set(target, what);
    const folder = dirname(resolve(path));
    const folderStat = await stat(folder).catch(() => undefined);
    if (folderStat?.isDirectory() !== true || path.endsWith('/') || path.endsWith(sep)) {
      throw new QuantError(
        'IO_ERROR',
        `cannot write ${what} "${path}": "${folder}" is not an existing folder`,
      );
    }
    if (!force && (await exists(path))) {
      throw new QuantError(
        'OUTPUT_CONFLICT',
        `${what} "${path}" already exists; pass force (--force) to replace it`,
      );
    }
  }
}

async function writeReport(path: string, report: QuantizeReport): Promise<void> {
  const extension = extname(path).toLowerCase();
  if (extension === '.html' || extension === '.htm') await writeReportHtml(path, report);
  else await writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(report, jsonNumbers, 2)}\n`));
}

/** JSON has no Infinity: an exact layer's SQNR is written as the string "Infinity". */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/**
 * Quantizes `inputPath` into `outputPath`. The input is only read; every file is written atomically (a temporary
 * file renamed into place), and the model last, so a failure leaves no output and no temporary file behind.
 *
 * @example
 * await quantizeFile('model.onnx', 'model.int8.onnx', { mode: 'static', calibrationDir: 'calib/', executor });
 * @throws QuantError NOT_FOUND for a missing input, OUTPUT_CONFLICT when an output is the input or exists
 * without `force`, plus everything quantizeModel throws.
 */
export async function quantizeFile(
  inputPath: string,
  outputPath: string,
  options: QuantizeFileOptions,
): Promise<QuantizeResult & { outputPath: string }> {
  if (!(await exists(inputPath)))
    throw new QuantError('NOT_FOUND', `model file "${inputPath}" does not exist`);
  await checkOutputs(
    [
      ['input model', inputPath],
      [
        'overrides file this run reads',
        typeof options.overrides === 'string' ? options.overrides : undefined,
      ],
      ['calibration cache this run reads', options.loadCalibration],
    ],
    [
      ['output', outputPath],
      ['calibration cache', options.saveCalibration],
      ['report', options.report],
    ],
    options.force === true,
  );
  if (
    (options.saveCalibration !== undefined || options.loadCalibration !== undefined) &&
    options.mode !== 'static'
  ) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `calibration caches belong to mode "static", not "${options.mode}"`,
    );
  }
  // readModelFile also loads weights kept in external data files next to the model.
  const model = await readModelFile(inputPath);
  const inputs = feedInputs(model);
  // Weights beyond the file's own bytes live in external data: the output keeps them external too.
  const fileSize = (await stat(inputPath)).size;
  const externalData = fileSize < weightBytes(model.graph);

  const overrides =
    typeof options.overrides === 'string'
      ? parseOverrides(await readJson(options.overrides, 'overrides file'), options.overrides)
      : options.overrides;
  let calibrationCache: CalibrationCache | undefined;
  if (options.loadCalibration !== undefined) {
    calibrationCache = parseCalibrationCache(
      await readJson(options.loadCalibration, 'calibration cache'),
      options.loadCalibration,
    );
  }

  let calibration: Pick<
    QuantizeOptions,
    'calibrationData' | 'calibrationHash' | 'calibrationTotal' | 'calibrationRunner'
  > = {};
  // Static mode calibrates activations and float mode checks fp16's range on the folder; the other modes only run
  // the written model on its first sample.
  if (options.calibrationDir !== undefined && (options.mode === 'static' || options.mode === 'float')) {
    const dir = options.calibrationDir;
    const limit = options.calibrationLimit;
    const batch = options.calibrationBatch ?? 1;
    const available = await countCalibrationSamples(dir);
    // A function, so calibration (several passes) and the report can each read the folder afresh.
    const samples = async function* (): AsyncGenerator<CalibrationSample> {
      for await (const { sample } of readCalibrationDir(dir, inputs, limit === undefined ? {} : { limit }))
        yield sample;
    };
    const count = limit === undefined ? available : Math.min(limit, available);
    calibration = {
      calibrationData: batchSamples(samples, batch, inputs),
      calibrationHash: await hashCalibrationDir(dir),
      calibrationTotal: Math.ceil(count / batch),
      calibrationRunner: createWorkerCalibrationRunner({
        dir,
        count,
        limit,
        batch,
        workers: options.calibrationWorkers,
      }),
    };
  }
  // The written model is checked on real data when there is some: the first calibration sample.
  let verifySample = options.verifySample;
  if (verifySample === undefined && options.calibrationDir !== undefined && options.executor !== undefined) {
    for await (const { sample } of readCalibrationDir(options.calibrationDir, inputs, { limit: 1 })) {
      verifySample = sample;
    }
  }
  const {
    overrides: _overrides,
    report: _report,
    reportSamples: _reportSamples,
    reportLimit: _reportLimit,
    calibrationDir: _calibrationDir,
    calibrationWorkers: _calibrationWorkers,
    loadCalibration: _loadCalibration,
    saveCalibration: _saveCalibration,
    force: _force,
    ...pipelineOptions
  } = options;
  // Without external data the file's bytes are the model: pass them, sparing an encode of the decoded copy.
  const result = await quantizeModel(externalData ? model : await readFile(inputPath), {
    ...pipelineOptions,
    ...calibration,
    ...(verifySample !== undefined && { verifySample }),
    ...(overrides !== undefined && { overrides }),
    ...(calibrationCache !== undefined && {
      calibrationCache,
      calibrationCacheSource: options.loadCalibration,
    }),
    ...(options.report !== undefined && {
      report: {
        modelName: inputPath,
        ...(options.reportSamples !== undefined && { samples: options.reportSamples }),
        ...(options.reportLimit !== undefined && { limit: options.reportLimit }),
      },
    }),
  });

  const written: string[] = [];
  try {
    if (options.saveCalibration !== undefined) {
      if (result.calibrationCache === undefined) {
        throw new QuantError('INVALID_ARGUMENT', 'a calibration cache is only written in static mode');
      }
      await writeFileAtomic(
        options.saveCalibration,
        new TextEncoder().encode(`${JSON.stringify(result.calibrationCache, null, 2)}\n`),
      );
      written.push(options.saveCalibration);
    }
    if (options.report !== undefined && result.report !== undefined) {
      await writeReport(options.report, result.report);
      written.push(options.report);
    }
    if (externalData) await writeModelFile(outputPath, result.model, { externalData: true });
    else await writeFileAtomic(outputPath, result.bytes);
  } catch (error) {
    // The model is written last; if anything failed, take back what this run wrote so no half result remains.
    await Promise.all(written.map((path) => rm(path, { force: true })));
    throw error;
  }
  return { ...result, outputPath };
}
