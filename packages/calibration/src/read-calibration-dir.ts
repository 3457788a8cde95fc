import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QuantError, type Tensor } from '@quantkit/core';
import { decodeTensor } from '@quantkit/onnx';
import { type CalibrationInput, type CalibrationSample, checkSample, quoteNames } from './calibration-sample.js';
import { type CalibrationLayout, detectCalibrationLayout, fsError, isNpyName, listEntries } from './calibration-layout.js';
import { naturalCompare } from './natural-compare.js';
import { parseNpy } from './parse-npy.js';

export interface ReadCalibrationOptions {
  /** Stop after this many samples (positive integer). */
  readonly limit?: number;
}

/** One sample and where it came from (a file, or a folder for multi-file samples). */
export interface CalibrationRecord {
  readonly sample: CalibrationSample;
  readonly source: string;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw fsError(error, path, 'read');
  }
}

/** File-system-safe spelling of an input name: ONNX names such as `input:0` cannot be file names everywhere. */
export function inputFileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

// One input per file: the check runs per file so a dtype or shape error names the file at fault.
function checkInputFile(input: CalibrationInput, tensor: Tensor, file: string): Tensor {
  return checkSample({ [input.name]: tensor }, [input], file)[input.name]!;
}

const INPUT_PB = /^input_(\d+)\.pb$/;

async function readTestDataSet(folder: string, inputs: readonly CalibrationInput[]): Promise<CalibrationSample> {
  const byIndex = new Map<number, string>();
  for (const entry of await listEntries(folder)) {
    const match = INPUT_PB.exec(entry.name);
    if (match !== null && !entry.isDirectory) byIndex.set(Number(match[1]), entry.name);
  }
  const names = inputs.map((input) => input.name);
  const extra = [...byIndex.keys()].filter((index) => index >= inputs.length).sort((a, b) => a - b);
  if (extra.length > 0) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `${join(folder, byIndex.get(extra[0]!)!)}: the model has ${inputs.length} input(s) (${quoteNames(names)}), ` +
        `so input files run from input_0.pb to input_${inputs.length - 1}.pb`,
    );
  }
  const sample: CalibrationSample = {};
  for (const [index, input] of inputs.entries()) {
    const fileName = byIndex.get(index);
    if (fileName === undefined) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `${folder}: input_${index}.pb is missing; it feeds model input "${input.name}" (input #${index})`,
      );
    }
    const file = join(folder, fileName);
    const bytes = await readBytes(file);
    let tensor: Tensor;
    try {
      tensor = decodeTensor(bytes, file);
    } catch (error) {
      // A broken .pb file is bad calibration data, not a bad model; UNSUPPORTED (odd dtypes) stays as it is.
      if (QuantError.is(error) && error.code !== 'INVALID_MODEL') throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new QuantError('CALIBRATION_DATA', message.includes(file) ? message : `${file}: ${message}`, {
        cause: error,
      });
    }
    sample[input.name] = checkInputFile(input, tensor, file);
  }
  return sample;
}

async function readNpyFolder(folder: string, inputs: readonly CalibrationInput[]): Promise<CalibrationSample> {
  const files = (await listEntries(folder)).filter((entry) => !entry.isDirectory && isNpyName(entry.name));
  const byStem = new Map(files.map((entry) => [entry.name.slice(0, -'.npy'.length), entry.name]));
  const expected = inputs.map((input) => `${inputFileStem(input.name)}.npy`);
  const sample: CalibrationSample = {};
  const used = new Set<string>();
  for (const input of inputs) {
    const fileName = byStem.get(input.name) ?? byStem.get(inputFileStem(input.name));
    if (fileName === undefined) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `${folder}: no ${inputFileStem(input.name)}.npy for model input "${input.name}"; ` +
          `each sample folder holds ${quoteNames(expected)}`,
      );
    }
    used.add(fileName);
    const file = join(folder, fileName);
    sample[input.name] = checkInputFile(input, parseNpy(await readBytes(file), file), file);
  }
  const unknown = files.map((entry) => entry.name).filter((name) => !used.has(name));
  if (unknown.length > 0) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `${join(folder, unknown[0]!)} does not name a model input; each sample folder holds ${quoteNames(expected)}`,
    );
  }
  return sample;
}

async function readLayoutSample(
  layout: CalibrationLayout,
  name: string,
  inputs: readonly CalibrationInput[],
): Promise<CalibrationRecord> {
  const source = join(layout.dir, name);
  switch (layout.kind) {
    case 'onnx-test-data':
      return { sample: await readTestDataSet(source, inputs), source };
    case 'npy-folders':
      return { sample: await readNpyFolder(source, inputs), source };
    case 'npy-files': {
      const input = inputs[0]!;
      return { sample: { [input.name]: checkInputFile(input, parseNpy(await readBytes(source), source), source) }, source };
    }
  }
}

/**
 * Reads a calibration folder one sample at a time (only one sample is in memory at once), in natural file order.
 *
 * Each file is yielded as it is: a file holding a batch (a leading dim N larger than the model's fixed first dim)
 * stays one sample; call `splitSampleBatches` before feeding a model with a fixed batch size. Files lacking the batch
 * dim get a leading 1 (see `checkSample`). For ONNX test data the i-th `input_<i>.pb` feeds `inputs[i]`, whatever
 * name the TensorProto carries, so `inputs` must list the graph inputs that are not initializers, in graph order.
 * For per-sample folders a file is matched by the exact input name or with characters other than `A-Za-z0-9._-`
 * replaced by `_` (`input:0` -> `input_0.npy`).
 *
 * @example
 * for await (const { sample, source } of readCalibrationDir('calib', [{ name: 'x', dtype: 'float32', shape: [1, 4] }])) {
 *   await session.run(sample);
 * }
 * @throws QuantError NOT_FOUND when the folder does not exist; CALIBRATION_DATA for an empty or unrecognisable
 *   folder (listing the accepted layouts), a missing or extra file, or data whose dtype or shape does not fit
 *   (naming the file); INVALID_ARGUMENT for a bad limit; IO_ERROR when a file cannot be read.
 */
export async function* readCalibrationDir(
  dir: string,
  inputs: readonly CalibrationInput[],
  options: ReadCalibrationOptions = {},
): AsyncIterable<CalibrationRecord> {
  const limit = options.limit ?? Infinity;
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) {
    throw new QuantError('INVALID_ARGUMENT', `calibration limit must be a positive integer, got ${options.limit}`);
  }
  if (inputs.length === 0) {
    throw new QuantError('INVALID_ARGUMENT', 'readCalibrationDir needs the model inputs to feed; got none');
  }
  const layout = await detectCalibrationLayout(dir);
  if (layout.kind === 'npy-files' && inputs.length > 1) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `${dir} holds .npy files directly, which feeds a single-input model, but the model has ${inputs.length} inputs ` +
        `(${quoteNames(inputs.map((input) => input.name))}); put each sample in ${dir}/<sample>/<input_name>.npy`,
    );
  }
  const samples = [...layout.samples].sort(naturalCompare).slice(0, Math.min(limit, layout.samples.length));
  for (const name of samples) yield await readLayoutSample(layout, name, inputs);
}
