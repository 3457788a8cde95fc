import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import { QuantError } from '@quantkit/core';

/** A file a run reads or writes, and what it is to the run, in the words its errors use ("input model"). */
export interface FileUse {
  readonly role: string;
  readonly path: string;
}

interface Identity {
  /**
   * Device and inode for an existing file (links and hard links resolve to it), the resolved path otherwise; for the
   * path as the system walks it and as `resolve` reads it (`missing/../x` is x to a reader, and to the system an error).
   */
  readonly keys: readonly string[];
  /** Something, even a dangling link, already has this name. */
  readonly taken: boolean;
  readonly isFolder: boolean;
}

async function key(path: string): Promise<{ key: string; isFolder: boolean }> {
  try {
    const info = await stat(await realpath(path));
    return { key: `inode ${info.dev}:${info.ino}`, isFolder: info.isDirectory() };
  } catch {
    // Nothing there yet (or a dangling link): the name is the identity, with its folder's links resolved.
    const folder = await realpath(dirname(resolve(path))).catch(() => dirname(resolve(path)));
    return { key: `path ${resolve(folder, basename(path))}`, isFolder: false };
  }
}

async function identify(path: string): Promise<Identity> {
  const taken = await lstat(path).then(
    () => true,
    () => false,
  );
  const walked = await key(path);
  const read = await key(resolve(path));
  return { keys: [...new Set([walked.key, read.key])], taken, isFolder: walked.isFolder || read.isFolder };
}

/**
 * Checks, before a run writes anything, every file it will write against every file it reads: a write may not be
 * a file the run reads (compared by device and inode after resolving links, so a symlink or a hard link to the
 * input counts as the input), nor the same file as another write, nor an existing folder; it must go into an
 * existing folder, and may replace an existing file only with `force`.
 *
 * @example
 * await checkWrites([{ role: 'input model', path: 'model.onnx' }], [{ role: 'output', path: 'model.int8.onnx' }], {});
 * @throws QuantError OUTPUT_CONFLICT naming the write, its path and the file it collides with; INVALID_ARGUMENT for a
 *   folder; IO_ERROR when the folder to write into does not exist.
 */
export async function checkWrites(
  reads: readonly FileUse[],
  writes: readonly FileUse[],
  options: { readonly force?: boolean },
): Promise<void> {
  const readKeys = new Map<string, FileUse>();
  for (const read of reads) {
    const identity = await identify(read.path);
    if (!identity.taken) continue;
    for (const key of identity.keys) if (!readKeys.has(key)) readKeys.set(key, read);
  }
  const written = new Map<string, FileUse>();
  for (const write of writes) {
    const { role, path } = write;
    const identity = await identify(path);
    const read = identity.keys.map((key) => readKeys.get(key)).find((use) => use !== undefined);
    if (read !== undefined) {
      throw new QuantError(
        'OUTPUT_CONFLICT',
        [
          { file: role, path },
          ' would replace the ',
          { file: read.role, path: read.path },
          ', which this run reads; choose another path',
        ],
        { details: { role, path, reads: read.path } },
      );
    }
    const clash = identity.keys.map((key) => written.get(key)).find((use) => use !== undefined);
    if (clash !== undefined) {
      throw new QuantError(
        'OUTPUT_CONFLICT',
        [{ file: role }, ' and ', { file: clash.role }, ` are the same file "${path}"`],
        {
          details: { role, path },
        },
      );
    }
    for (const key of identity.keys) written.set(key, write);
    if (identity.isFolder || path.endsWith('/') || path.endsWith(sep)) {
      throw new QuantError('INVALID_ARGUMENT', [{ file: role, path }, ' is a folder; give a file name'], {
        details: { role, path },
      });
    }
    const folder = dirname(resolve(path));
    if ((await stat(folder).catch(() => undefined))?.isDirectory() !== true) {
      throw new QuantError(
        'IO_ERROR',
        ['cannot write ', { file: role, path }, `: "${folder}" is not an existing folder`],
        { details: { role, path } },
      );
    }
    if (identity.taken && options.force !== true) {
      throw new QuantError(
        'OUTPUT_CONFLICT',
        [{ file: role, path }, ' already exists; pass ', { option: 'force', value: true }, ' to replace it'],
        {
          details: { role, path },
        },
      );
    }
  }
}
