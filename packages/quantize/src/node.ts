import { access, readFile, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { QuantError } from '@quantkit/core';
import { countCalibrationSamples, hashCalibrationDir, readCalibrationDir } from '@quantkit/calibration/node';
import { decodeModel } from '@quantkit/onnx';
import { writeFileAtomic } from '@quantkit/onnx/node';
import { feedInputs } from './calibrate.js';
import type { CalibrationSample, QuantizeOptions } from './options.js';
import { type QuantizeResult, quantizeModel } from './quantize-model.js';

export interface QuantizeFileOptions extends Omit<QuantizeOptions, 'calibrationData'> {
  /** Calibration folder (ONNX test-data layout or .npy files) for static mode. */
  readonly calibrationDir?: string;
  /** Use at most this many calibration samples. */
  readonly calibrationLimit?: number;
  /** Replace an existing output file. */
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

/**
 * Quantizes `inputPath` into `outputPath`. The input is only read; the output is written atomically (a temporary
 * file renamed into place), so a failure at any point leaves no output and no temporary file behind.
 *
 * @example
 * await quantizeFile('model.onnx', 'model.int8.onnx', { mode: 'static', calibrationDir: 'calib/', executor });
 * @throws QuantError NOT_FOUND for a missing input, OUTPUT_CONFLICT when the output is the input or exists
 * without `force`, plus everything quantizeModel throws.
 */
export async function quantizeFile(
  inputPath: string,
  outputPath: string,
  options: QuantizeFileOptions,
): Promise<QuantizeResult & { outputPath: string }> {
  if (!(await exists(inputPath))) throw new QuantError('NOT_FOUND', `model file "${inputPath}" does not exist`);
  if ((await canonical(inputPath)) === (await canonical(outputPath))) {
    throw new QuantError('OUTPUT_CONFLICT', `output "${outputPath}" is the input model; choose another output path`);
  }
  if (!options.force && (await exists(outputPath))) {
    throw new QuantError('OUTPUT_CONFLICT', `output "${outputPath}" already exists; pass force (--force) to replace it`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(inputPath);
  } catch (error) {
    throw new QuantError('IO_ERROR', `cannot read model file "${inputPath}"`, { cause: error });
  }
  const model = decodeModel(bytes, inputPath);

  let calibration: Pick<QuantizeOptions, 'calibrationData' | 'calibrationHash' | 'calibrationTotal'> = {};
  if (options.calibrationDir !== undefined) {
    const dir = options.calibrationDir;
    const inputs = feedInputs(model);
    const limit = options.calibrationLimit;
    const available = await countCalibrationSamples(dir);
    async function* samples(): AsyncGenerator<CalibrationSample> {
      for await (const { sample } of readCalibrationDir(dir, inputs, limit === undefined ? {} : { limit })) yield sample;
    }
    calibration = {
      calibrationData: samples(),
      calibrationHash: await hashCalibrationDir(dir),
      calibrationTotal: limit === undefined ? available : Math.min(limit, available),
    };
  }
  const result = await quantizeModel(bytes, { ...options, ...calibration });
  await writeFileAtomic(outputPath, result.bytes);
  return { ...result, outputPath };
}
