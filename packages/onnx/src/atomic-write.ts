import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { type FileHandle, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QuantError } from '@quantkit/core';

/** Receives the chunks of a file being written; awaiting each keeps memory bounded. */
export type ChunkWriter = (chunk: Uint8Array) => Promise<void>;

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

export function ioError(action: string, path: string, error: unknown): QuantError {
  if (QuantError.is(error)) return error;
  if (isErrno(error, 'ENOENT'))
    return new QuantError('NOT_FOUND', `${path} does not exist`, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new QuantError('IO_ERROR', `cannot ${action} ${path}: ${message}`, { cause: error });
}

/** Temporary files this process has created and not yet renamed or removed. */
const pending = new Set<string>();

/**
 * The temporary sibling a write of `path` goes through: `.<name>.<pid>.<12 hex>.tmp`. The pid tells a later run
 * whether the writer is still alive (see `removeStaleTempFiles`).
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else, so it may still be writing.
    return !isErrno(error, 'ESRCH');
  }
}

/**
 * Removes temporary files of writes to `path` whose writing process no longer runs (killed by SIGKILL, a power cut):
 * files named as `tempPathFor` names them, with a pid that is not alive. Others' files and live writes are left.
 * Best effort: a folder that cannot be listed is left as it is.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  const folder = dirname(path);
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(path))}\\.(\\d+)\\.[0-9a-f]{12}\\.tmp$`);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match === null || processAlive(Number(match[1]))) continue;
    const stale = join(folder, name);
    await rm(stale, { force: true });
    removed.push(stale);
  }
  return removed;
}

/**
 * Removes, synchronously, every temporary file this process is still writing. For exit and signal handlers: a
 * process ended by Ctrl-C mid-write then leaves no `.tmp` file behind (the target file is untouched either way).
 *
 * @example process.on('exit', removePendingTempFiles);
 */
export function removePendingTempFiles(): void {
  for (const path of pending) rmSync(path, { force: true });
  pending.clear();
}

/** Creates `path` (which must not exist) with the content and flushes it to disk. */
export async function writeTemp(
  path: string,
  content: Uint8Array | ((write: ChunkWriter) => Promise<void>),
): Promise<void> {
  let handle: FileHandle | undefined;
  // Registered before the file exists, so a signal arriving at any point after creation finds it.
  pending.add(path);
  try {
    handle = await open(path, 'wx');
    const file = handle;
    if (content instanceof Uint8Array) {
      await file.writeFile(content);
    } else {
      await content(async (chunk) => {
        let written = 0;
        while (written < chunk.length) {
          const { bytesWritten } = await file.write(chunk, written, chunk.length - written);
          written += bytesWritten;
        }
      });
    }
    await file.sync();
  } finally {
    await handle?.close();
  }
}

/** Renames a finished temporary file into place; it is then no longer this process's to remove. */
export async function commitTemp(temp: string, path: string): Promise<void> {
  await rename(temp, path);
  pending.delete(temp);
}

/** Removes a temporary file after a failed write. */
export async function discardTemp(temp: string): Promise<void> {
  await rm(temp, { force: true });
  pending.delete(temp);
}

/**
 * Writes a file atomically: the bytes go to a temporary file in the same folder, which is then renamed over
 * `path`. On any failure the temporary file is removed and `path` is untouched, so readers never see a partial
 * file; temporary files of earlier writes to `path` by processes that were killed are removed first. `content` is
 * the bytes, or a function that streams chunks through `write` (for files over 2 GiB).
 *
 * @example
 * await writeFileAtomic('report.json', new TextEncoder().encode(json));
 * await writeFileAtomic('weights.bin', async (write) => { for (const chunk of chunks) await write(chunk); });
 * @throws QuantError NOT_FOUND when the folder does not exist, IO_ERROR for other file-system failures; errors
 *   thrown by `content` are passed through.
 */
export async function writeFileAtomic(
  path: string,
  content: Uint8Array | ((write: ChunkWriter) => Promise<void>),
): Promise<void> {
  await removeStaleTempFiles(path);
  const temp = tempPathFor(path);
  try {
    await writeTemp(temp, content);
    await commitTemp(temp, path);
  } catch (error) {
    await discardTemp(temp);
    if (isErrno(error, 'ENOENT')) {
      throw new QuantError('NOT_FOUND', `cannot write ${path}: folder ${dirname(path)} does not exist`, {
        cause: error,
      });
    }
    throw ioError('write', path, error);
  }
}
