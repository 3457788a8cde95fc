import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { QuantError } from '@quantkit/core';
import { naturalCompare } from './natural-compare.js';

/**
 * The calibration folder layouts quantkit reads (paths are absolute or relative to the cwd, as given):
 * - `onnx-test-data`: `DIR/test_data_set_<k>/input_<i>.pb`, the i-th TensorProto feeding the model's i-th input
 *   (any folder name: a sample folder holding .pb files is this layout);
 * - `npy-files`: `DIR/<sample>.npy`, one sample per file, for single-input models;
 * - `npy-folders`: `DIR/<sample>/<input_name>.npy`, one folder per sample (test_data_set_0/x.npy too).
 * The layout is read from the files inside the folders, never guessed from their names.
 * Entries are in natural order (`2` before `10`).
 */
export type CalibrationLayout =
  | { readonly kind: 'onnx-test-data'; readonly dir: string; readonly samples: readonly string[] }
  | { readonly kind: 'npy-files'; readonly dir: string; readonly samples: readonly string[] }
  | { readonly kind: 'npy-folders'; readonly dir: string; readonly samples: readonly string[] };

export const ACCEPTED_LAYOUTS =
  'DIR/test_data_set_*/input_<i>.pb (ONNX test data), DIR/*.npy (one sample per file, single-input models) ' +
  'or DIR/<sample>/<input_name>.npy (one folder per sample)';

/** A TensorProto file of the ONNX test-data layout (input_0.pb). */
function isTensorProtoName(name: string): boolean {
  return name.toLowerCase().endsWith('.pb');
}

/** True for names quantkit skips: dotfiles such as .DS_Store or .gitkeep. */
export function isHidden(name: string): boolean {
  return name.startsWith('.');
}

/** Maps fs errors to QuantErrors that name the path. */
export function fsError(error: unknown, path: string, action: string): QuantError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new QuantError('NOT_FOUND', `${path} does not exist`, { cause: error });
  return new QuantError('IO_ERROR', `could not ${action} ${path}: ${(error as Error).message}`, {
    cause: error,
  });
}

/** Lists visible entries, following symlinks so a linked sample folder counts as a folder. */
export async function listEntries(dir: string): Promise<{ name: string; isDirectory: boolean }[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw fsError(error, dir, 'list');
  }
  const visible = entries.filter((entry) => !isHidden(entry.name));
  const result = await Promise.all(
    visible.map(async (entry) => {
      let isDirectory = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        isDirectory = await stat(join(dir, entry.name)).then(
          (info) => info.isDirectory(),
          () => false,
        );
      }
      return { name: entry.name, isDirectory };
    }),
  );
  return result.sort((a, b) => naturalCompare(a.name, b.name));
}

export function isNpyName(name: string): boolean {
  return name.toLowerCase().endsWith('.npy');
}

/**
 * Finds which layout a calibration folder uses.
 *
 * @example
 * const layout = await detectCalibrationLayout('calib'); // { kind: 'npy-files', samples: ['0.npy', ...] }
 * @throws QuantError NOT_FOUND when the folder does not exist; CALIBRATION_DATA when it is not a folder, holds
 *   no recognisable calibration data, or mixes layouts.
 */
export async function detectCalibrationLayout(dir: string): Promise<CalibrationLayout> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch (error) {
    const failure = fsError(error, dir, 'read');
    if (failure.code === 'NOT_FOUND') {
      throw new QuantError('NOT_FOUND', `calibration folder ${dir} does not exist`, { cause: error });
    }
    throw failure;
  }
  if (!info.isDirectory()) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `${dir} is a file; calibration data is a folder laid out as ${ACCEPTED_LAYOUTS}`,
    );
  }
  const entries = await listEntries(dir);
  // The layout follows from the files, never from folder names: a sample folder holding input_<i>.pb files is
  // ONNX test data, one holding .npy files is a named-input sample, whatever it is called.
  const kinds = {
    'onnx-test-data': [] as string[],
    'npy-files': entries.filter((entry) => !entry.isDirectory && isNpyName(entry.name)).map((e) => e.name),
    'npy-folders': [] as string[],
  };
  /** A file that shows each kind, for the error that names both when a folder mixes them. */
  const example = new Map<CalibrationLayout['kind'], string>();
  if (kinds['npy-files'].length > 0) example.set('npy-files', join(dir, kinds['npy-files'][0]!));
  for (const entry of entries) {
    if (!entry.isDirectory) continue;
    const inside = await listEntries(join(dir, entry.name));
    const tensorFile = inside.find((item) => !item.isDirectory && isTensorProtoName(item.name));
    const npyFile = inside.find((item) => !item.isDirectory && isNpyName(item.name));
    if (tensorFile !== undefined && npyFile !== undefined) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `calibration sample folder ${join(dir, entry.name)} mixes layouts: ${join(dir, entry.name, tensorFile.name)} ` +
          `(ONNX test data) and ${join(dir, entry.name, npyFile.name)} (.npy); keep one of ${ACCEPTED_LAYOUTS}`,
      );
    }
    const kind =
      tensorFile !== undefined ? 'onnx-test-data' : npyFile !== undefined ? 'npy-folders' : undefined;
    if (kind === undefined) continue;
    kinds[kind].push(entry.name);
    if (!example.has(kind)) example.set(kind, join(dir, entry.name, (tensorFile ?? npyFile)!.name));
  }

  const found: CalibrationLayout[] = [];
  for (const kind of ['onnx-test-data', 'npy-files', 'npy-folders'] as const) {
    if (kinds[kind].length > 0) found.push({ kind, dir, samples: kinds[kind] });
  }
  if (found.length === 0) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `${dir} holds no calibration data (${entries.length === 0 ? 'it is empty' : 'no recognisable files'}); ` +
        `expected ${ACCEPTED_LAYOUTS}`,
    );
  }
  if (found.length > 1) {
    const files = found.map((layout) => `${example.get(layout.kind)} (${layout.kind})`);
    throw new QuantError(
      'CALIBRATION_DATA',
      `${dir} mixes calibration layouts: ${files.join(' and ')}; keep one of ${ACCEPTED_LAYOUTS}`,
    );
  }
  return found[0]!;
}

/**
 * Counts the samples in a calibration folder without reading them (for progress bars and `--calib-limit`).
 * @throws QuantError as `detectCalibrationLayout`.
 */
export async function countCalibrationSamples(dir: string): Promise<number> {
  return (await detectCalibrationLayout(dir)).samples.length;
}
