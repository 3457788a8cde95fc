import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { QuantError } from '@quantkit/core';
import { fsError, listEntries } from './calibration-layout.js';

async function collectFiles(
  root: string,
  relative: string,
  into: string[],
  seen: Set<string>,
): Promise<void> {
  const folder = join(root, relative);
  // Symlinked folders are followed (a sample folder may link elsewhere), but each real folder only once, so a link
  // cycle cannot recurse forever.
  const real = await realpath(folder).catch((error: unknown) => {
    throw fsError(error, folder, 'read');
  });
  if (seen.has(real)) return;
  seen.add(real);
  for (const entry of await listEntries(folder)) {
    const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory) await collectFiles(root, path, into, seen);
    else into.push(path);
  }
}

/**
 * Every visible file below a calibration folder (what `hashCalibrationDir` covers and a superset of what
 * `readCalibrationDir` reads), as paths joined onto `dir`, in code-unit order of their relative paths. For
 * checking that a run's outputs never replace its calibration data.
 *
 * @example const files = await calibrationFiles('calib'); // ['calib/test_data_set_0/input_0.pb', ...]
 * @throws QuantError NOT_FOUND when the folder does not exist; IO_ERROR when a folder cannot be listed.
 */
export async function calibrationFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  await collectFiles(dir, '', files, new Set());
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((file) => join(dir, file));
}

/**
 * A sha256 (hex) identifying a calibration folder's content, recorded in output models for provenance. It covers
 * every visible file below `dir`: relative paths with `/` separators in code-unit order, each followed by its size
 * and bytes, so renaming, moving, adding or editing a file changes the hash while the folder's location and file
 * times do not. Dotfiles (.DS_Store, .gitkeep) are skipped. Files are streamed, so memory stays small.
 *
 * @example
 * const hash = await hashCalibrationDir('calib'); // '3a7bd3e2...'
 * @throws QuantError NOT_FOUND when the folder does not exist; IO_ERROR when a file cannot be read.
 */
export async function hashCalibrationDir(dir: string): Promise<string> {
  try {
    await stat(dir);
  } catch (error) {
    const failure = fsError(error, dir, 'read');
    if (failure.code === 'NOT_FOUND') {
      throw new QuantError('NOT_FOUND', `calibration folder ${dir} does not exist`, { cause: error });
    }
    throw failure;
  }
  const files: string[] = [];
  await collectFiles(dir, '', files, new Set());
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash('sha256');
  for (const file of files) {
    const path = join(dir, file);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (error) {
      // A dangling symlink, or a file removed while we read the folder.
      throw fsError(error, path, 'read');
    }
    // Path and size first, NUL-separated, so two folders can only collide if sha256 does.
    hash.update(`${file}\0${size}\0`);
    try {
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    } catch (error) {
      throw fsError(error, path, 'read');
    }
  }
  return hash.digest('hex');
}
