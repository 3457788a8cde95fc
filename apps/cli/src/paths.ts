import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { QuantError } from '@quantkit/core';
import type { CliIo } from './cli-io.js';

/**
 * A user-typed path made usable: unchanged when the CLI runs in the process's own working folder (so error messages
 * show the path as typed), otherwise resolved against `io.cwd`.
 */
export function userPath(io: CliIo, path: string): string {
  return io.cwd === process.cwd() ? path : resolve(io.cwd, path);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

/**
 * Checks that a path names an existing file or folder.
 * @throws QuantError NOT_FOUND naming `what` and the path; INVALID_ARGUMENT when it is a file instead of a folder or
 * the other way round.
 */
export async function requireExisting(path: string, what: string, kind: 'file' | 'folder'): Promise<void> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') {
      throw new QuantError('NOT_FOUND', `${what} ${path} does not exist`);
    }
    throw new QuantError('IO_ERROR', `cannot read ${what} ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (isFolder !== (kind === 'folder')) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${what} ${path} is a ${isFolder ? 'folder' : 'file'}; expected a ${kind}`,
    );
  }
}

/**
 * Checks that a path a command will write names a file: not an existing folder, and not a path ending in a
 * separator (`out/`), which can only mean a folder. Run before anything looks at `--force`, which replaces files and
 * must never remove a folder.
 *
 * @param typed the path as the user typed it (a trailing separator is lost once the path is resolved).
 * @param example a file name to suggest inside the folder.
 * @example await requireFilePath(io, '-o', 'out/', 'model.int8.onnx'); // throws "-o out/ is a folder; ..."
 * @throws QuantError INVALID_ARGUMENT naming the flag and the path, and suggesting a file name inside it.
 */
export async function requireFilePath(
  io: CliIo,
  flag: string,
  typed: string,
  example: string,
): Promise<void> {
  const endsWithSeparator = typed.endsWith('/') || typed.endsWith(sep);
  let isFolder = false;
  try {
    isFolder = (await stat(userPath(io, typed))).isDirectory();
  } catch {
    // Nothing there (or unreadable): the write itself reports what is wrong with it.
  }
  if (!isFolder && !endsWithSeparator) return;
  const what = isFolder ? 'is a folder' : `ends with ${typed.slice(-1)}, so it names a folder`;
  throw new QuantError(
    'INVALID_ARGUMENT',
    `${flag} ${typed} ${what}; give the output file name, e.g. ${join(typed, example)}`,
    { details: { flag, path: typed } },
  );
}

/** True when the path exists (as anything). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
