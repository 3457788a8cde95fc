import { access, readFile, rm, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { QuantError } from '@quantkit/core';
import {
  calibrationFiles,
  countCalibrationSamples,
  hashCalibrationDir,
  readCalibrationDir,
} from '@quantkit/calibration/node';
import {
  type FileUse,
  checkWrites,
  externalDataPath,
  readModelFile,
  writeFileAtomic,
  writeModelFile,
} from '@quantkit/onnx/node';
import { writeReportHtml } from '@quantkit/report/node';
import { batchSamples } from './batch-samples.js';
import { feedInputs } from './calibrate.js';
import { type CalibrationCache, parseCalibrationCache } from './calibration-cache.js';
import type { CalibrationSample, CalibrationSource, QuantizeOptions } from './options.js';
import { type QuantOverrides, parseOverrides } from './overrides.js';
import { type QuantizeResult, quantizeModel } from './quantize-model.js';
import { weightBytes } from './summary.js';
import type { QuantizeReport } from './report.js';
import { createWorkerCalibrationRunner } from './worker-calibration.js';

export { loadChartScript, writeReportHtml } from '@quantkit/report/node';
export { type SampleOrigin, type SampleSourceOptions, sampleSource } from './sample-source.js';
export {
  type AutoMetric,
  type AutoQuantizeOptions,
  type AutoQuantizeResult,
  type AutoRun,
  autoQuantize,
} from './auto/auto-quantize.js';
export { defaultAutoWorkers } from './auto/measure-assignments.js';
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
  /**
   * ES modules (absolute paths) that the registry's plugins came from (the CLI's --plugin), so calibration workers
   * can load the same observers and executor; without them, a run with a plugin observer calibrates on one thread.
   */
  readonly pluginModules?: readonly string[];
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

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR';
    throw new QuantError(code, ['cannot read ', { file: what, path }], { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new QuantError('INVALID_ARGUMENT', [
      { file: what, path },
      ` is not valid JSON: ${(error as Error).message}`,
    ]);
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
  if (
    (options.saveCalibration !== undefined || options.loadCalibration !== undefined) &&
    options.mode !== 'static'
  ) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `calibration caches belong to mode "static", not "${options.mode}"`,
    );
  }
  // Every file this run reads, and every file it writes: checked before the model is read (a quick refusal) and
  // again once its external data files are known. Nothing the run reads is ever replaced.
  const reads: FileUse[] = [{ role: 'input model', path: inputPath }];
  if (typeof options.overrides === 'string') reads.push({ role: 'overrides file', path: options.overrides });
  if (options.loadCalibration !== undefined) {
    reads.push({ role: 'loaded calibration cache', path: options.loadCalibration });
  }
  if (options.calibrationDir !== undefined && (await exists(options.calibrationDir))) {
    for (const path of await calibrationFiles(options.calibrationDir))
      reads.push({ role: 'calibration file', path });
  }
  const writes: FileUse[] = [{ role: 'output', path: outputPath }];
  if (options.saveCalibration !== undefined)
    writes.push({ role: 'calibration cache', path: options.saveCalibration });
  if (options.report !== undefined) writes.push({ role: 'report', path: options.report });
  const force = { force: options.force === true };
  await checkWrites(reads, writes, force);

  // readModelFile also loads weights kept in external data files next to the model.
  const model = await readModelFile(inputPath, {
    onDataFile: (path) => reads.push({ role: 'external data of the input model', path }),
  });
  const inputs = feedInputs(model);
  // Weights beyond the file's own bytes live in external data: the output keeps them external too.
  const fileSize = (await stat(inputPath)).size;
  const externalData = fileSize < weightBytes(model.graph);
  if (externalData) writes.push({ role: 'external data of the output', path: externalDataPath(outputPath) });
  await checkWrites(reads, writes, force);

  const overrides =
    typeof options.overrides === 'string'
      ? parseOverrides(await readJson(options.overrides, 'overrides file'), options.overrides)
      : options.overrides;
  let calibrationCache: CalibrationCache | undefined;
  if (options.loadCalibration !== undefined) {
    calibrationCache = parseCalibrationCache(
      await readJson(options.loadCalibration, 'loaded calibration cache'),
      options.loadCalibration,
    );
  }

  let calibration: Pick<
    QuantizeOptions,
    'calibrationData' | 'calibrationHash' | 'calibrationTotal' | 'calibrationRunner'
  > = {};
  // Static mode calibrates activations and float mode checks fp16's range on the folder, AdaRound (any mode) learns
  // its rounding from it; the other modes only run the written model on its first sample.
  const finetunes = options.finetune !== undefined && options.finetune !== 'bias-correction';
  if (
    options.calibrationDir !== undefined &&
    (options.mode === 'static' || options.mode === 'float' || finetunes)
  ) {
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
        batch,
        workers: options.calibrationWorkers,
        pluginModules: options.pluginModules,
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
    pluginModules: _pluginModules,
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
  // With external data the sizes are those of the files: model plus data, before and after.
  const summary = externalData
    ? {
        ...result.summary,
        sizeBefore: await filesSize(
          reads.filter((use) => use.role.endsWith('input model')).map((use) => use.path),
        ),
        sizeAfter: await filesSize([outputPath, externalDataPath(outputPath)]),
      }
    : result.summary;
  // Not spread: `bytes` encodes the model when read, which a run written with external data never needs.
  return {
    model: result.model,
    get bytes() {
      return result.bytes;
    },
    plan: result.plan,
    summary,
    calibrationCache: result.calibrationCache,
    report: result.report,
    outputPath,
  };
}

async function filesSize(paths: readonly string[]): Promise<number> {
  let total = 0;
  for (const path of new Set(paths)) total += (await stat(path)).size;
  return total;
}
