import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { QuantError } from '@quantkit/core';

/**
 * Writes a folder of files all-or-nothing: `fill` writes into a temporary folder beside `path`, which then takes
 * `path`'s place. A failure leaves no temporary folder and `path` as it was; an existing `path` is replaced only with
 * `force`, and only once the new folder is complete.
 *
 * @example await writeFolderAtomic('outputs', false, async (temp) => writeFile(join(temp, 'y.npy'), bytes));
 * @throws QuantError OUTPUT_CONFLICT when `path` exists and `force` is false; what `fill` throws.
 */
export async function writeFolderAtomic(
  path: string,
  force: boolean,
  fill: (folder: string) => Promise<void>,
): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) {
    throw new QuantError('OUTPUT_CONFLICT', `output folder ${path} is a file; give a folder path`);
  }
  if (existing !== undefined && !force) {
    throw new QuantError('OUTPUT_CONFLICT', `output folder ${path} exists; pass --force to replace it`);
  }
  const stamp = `${process.pid}-${Date.now().toString(36)}`;
  const temp = join(dirname(resolve(path)), `.${basename(path)}.quantkit-${stamp}`);
  await mkdir(temp, { recursive: true });
  try {
    await fill(temp);
    if (existing !== undefined) {
      const old = `${temp}-old`;
      await rename(path, old);
      await rename(temp, path);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temp, path);
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** A value name made safe as a file name (ONNX names may hold '/', ':' and more), unique among `taken`. */
export function fileNameFor(name: string, taken: Set<string>): string {
  const base = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'output';
  let candidate = base;
  for (let suffix = 2; taken.has(candidate.toLowerCase()); suffix++) candidate = `${base}_${suffix}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}
