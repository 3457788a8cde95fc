import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { type Tensor, QuantError } from '@quantkit/core';
import { type Model, decodeModel, encodeModel } from './model.js';
import {
  type ExternalDataLoader,
  type ExternalDataPager,
  type ExternalDataRef,
  decodeTensor,
  tensorBytes,
} from './tensor-proto.js';
import {
  commitTemp,
  discardTemp,
  ioError,
  isErrno,
  removeStaleTempFiles,
  tempPathFor,
  writeFileAtomic,
  writeTemp,
} from './atomic-write.js';

export {
  type ChunkWriter,
  removePendingTempFiles,
  removeStaleTempFiles,
  writeFileAtomic,
} from './atomic-write.js';
export { type FileUse, checkWrites } from './file-safety.js';

/** Checks a location taken from a model file: relative, and inside the model's folder. */
function resolveLocation(folder: string, location: string, modelPath: string): string {
  const normalized = normalize(location);
  if (
    isAbsolute(location) ||
    normalized === '..' ||
    normalized.startsWith(`..${sep}`) ||
    normalized.includes('\0')
  ) {
    throw new QuantError(
      'INVALID_MODEL',
      `${modelPath} refers to external data "${location}" outside its folder; only relative paths inside it are read`,
    );
  }
  return resolve(folder, normalized);
}

/** External tensors at least this big stay in their file until used (see pagedTensor); smaller ones are read now. */
const PAGE_MIN_BYTES = 1024 * 1024;

/** Reads `size` bytes at `offset` of an open file into a fresh buffer; positional reads work past 2 GiB. */
function readRange(fd: number, path: string, offset: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let done = 0;
  while (done < size) {
    const read = readSync(fd, bytes, done, size - done, offset + done);
    if (read === 0) throw new QuantError('IO_ERROR', `${path} ended early while reading external data`);
    done += read;
  }
  return bytes;
}

/**
 * External data loaders reading files beside the model: `load` reads a tensor's bytes now, `page` checks that they
 * are there and returns a reader for later (it opens the file for each read, so it outlives `close()`), and
 * `close()` releases the files `load` opened.
 */
function fileLoader(
  modelPath: string,
  onFile?: (path: string) => void,
): { load: ExternalDataLoader; page: ExternalDataPager; close: () => void } {
  const folder = dirname(modelPath);
  const files = new Map<string, { fd: number; size: number }>();
  const open = (location: string, offset: number, length: number | undefined) => {
    const path = resolveLocation(folder, location, modelPath);
    let file = files.get(path);
    if (file === undefined) {
      try {
        const fd = openSync(path, 'r');
        file = { fd, size: fstatSync(fd).size };
      } catch (error) {
        if (isErrno(error, 'ENOENT')) {
          throw new QuantError('NOT_FOUND', `external data file ${path} (of ${modelPath}) does not exist`, {
            cause: error,
          });
        }
        throw ioError('read', path, error);
      }
      files.set(path, file);
      onFile?.(path);
    }
    const size = length ?? file.size - offset;
    if (offset + size > file.size) {
      throw new QuantError(
        'INVALID_MODEL',
        `${modelPath}: external data ${location} has ${file.size} bytes, a tensor needs bytes ${offset}..${offset + size}`,
      );
    }
    return { path, fd: file.fd, size };
  };
  // Sync reads because tensor decoding is synchronous; each reads only the slice its tensor needs.
  const load: ExternalDataLoader = (location, offset, length) => {
    const { path, fd, size } = open(location, offset, length);
    return readRange(fd, path, offset, size);
  };
  const page: ExternalDataPager = (location, offset, length) => {
    if (length < PAGE_MIN_BYTES) return undefined;
    const { path } = open(location, offset, length);
    return () => {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch (error) {
        throw ioError('read', path, error);
      }
      try {
        if (fstatSync(fd).size < offset + length) {
          throw new QuantError(
            'IO_ERROR',
            `${path} (external data of ${modelPath}) shrank while it was in use`,
          );
        }
        return readRange(fd, path, offset, length);
      } finally {
        closeSync(fd);
      }
    };
  };
  const close = (): void => {
    for (const { fd } of files.values()) closeSync(fd);
    files.clear();
  };
  return { load, page, close };
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw ioError('read', path, error);
  }
}

export interface ReadModelOptions {
  /** Called once with the path of each external data file the model's tensors are read from. */
  readonly onDataFile?: (path: string) => void;
  /**
   * Read every external tensor now (default false): by default tensors of 1 MiB or more stay in their data file
   * and are read each time their data is used after the garbage collector dropped it (see pagedTensor), so a
   * model of many gigabytes never sits in memory whole. The data file must then stay as it is while the model is
   * in use.
   */
  readonly eager?: boolean;
}

/**
 * Reads an ONNX model file, resolving tensors stored in external data files relative to the model's folder.
 *
 * @example
 * const dataFiles: string[] = [];
 * const model = await readModelFile('resnet18.onnx', { onDataFile: (path) => dataFiles.push(path) });
 * @throws QuantError NOT_FOUND naming the file (or a missing external data file); INVALID_MODEL naming the file
 *   when it is not a valid ONNX model; IO_ERROR when reading fails.
 */
export async function readModelFile(path: string, options: ReadModelOptions = {}): Promise<Model> {
  const bytes = await readBytes(path);
  const loader = fileLoader(path, options.onDataFile);
  try {
    return decodeModel(bytes, path, {
      externalData: loader.load,
      ...(options.eager !== true && { pageExternalData: loader.page }),
    });
  } finally {
    loader.close();
  }
}

/**
 * Reads a serialized TensorProto file (ONNX test data: test_data_set_0/input_0.pb).
 * @example
 * const { name, dtype, shape, data } = await readTensorFile('test_data_set_0/input_0.pb');
 * @throws QuantError NOT_FOUND, INVALID_MODEL (not a TensorProto) or UNSUPPORTED (data type), naming the file.
 */
export async function readTensorFile(path: string): Promise<Tensor & { name: string }> {
  const bytes = await readBytes(path);
  const loader = fileLoader(path);
  try {
    return decodeTensor(bytes, path, { externalData: loader.load });
  } finally {
    loader.close();
  }
}

export interface WriteModelOptions {
  /**
   * Store initializers in a separate file beside the model (needed above 2 GiB). `true` uses the defaults:
   * tensors of at least `threshold` = 1024 bytes go to `location` = "<model file name>.data".
   */
  externalData?: boolean | { threshold?: number; location?: string };
}

/**
 * The external data file `writeModelFile(path, model, { externalData })` writes: `location` (default
 * "<model file name>.data") in the model's folder.
 */
export function externalDataPath(path: string, location?: string): string {
  return join(dirname(path), location ?? `${basename(path)}.data`);
}

/** Tensors at least this big start at a multiple of ALIGNMENT in the data file, so runtimes can map them. */
const ALIGN_THRESHOLD = 1024 * 1024;
const ALIGNMENT = 4096;

/**
 * Writes a model file atomically (temporary file + rename; on failure nothing is left behind). With
 * `externalData`, large initializers go to a data file next to the model, written atomically as well.
 *
 * @example
 * await writeModelFile('model.int8.onnx', model);
 * await writeModelFile('llm.onnx', model, { externalData: { threshold: 1024, location: 'llm.onnx.data' } });
 * @throws QuantError INVALID_ARGUMENT for a bad location or a model over 2 GiB without external data;
 *   NOT_FOUND when the folder does not exist; IO_ERROR for other write failures.
 */
export async function writeModelFile(
  path: string,
  model: Model,
  options: WriteModelOptions = {},
): Promise<void> {
  if (!options.externalData) {
    await writeFileAtomic(path, encodeModel(model));
    return;
  }
  const settings = options.externalData === true ? {} : options.externalData;
  const threshold = settings.threshold ?? 1024;
  const location = settings.location ?? basename(externalDataPath(path));
  const normalized = normalize(location);
  if (
    location === '' ||
    isAbsolute(location) ||
    normalized === '..' ||
    normalized.startsWith(`..${sep}`) ||
    normalized.includes(sep)
  ) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `external data location "${location}" must be a plain file name in the model's folder`,
    );
  }
  // Tensors, not their bytes: each is read (a paged one from its file) only when its turn to be written comes.
  const chunks: { offset: number; name: string; tensor: Tensor }[] = [];
  let end = 0;
  const bytes = encodeModel(model, {
    externalData: (name, tensor, byteLength): ExternalDataRef | undefined => {
      if (byteLength < threshold) return undefined;
      const offset = byteLength >= ALIGN_THRESHOLD ? Math.ceil(end / ALIGNMENT) * ALIGNMENT : end;
      chunks.push({ offset, name, tensor });
      end = offset + byteLength;
      return { location, offset, length: byteLength };
    },
  });
  const dataPath = externalDataPath(path, location);
  if (resolve(dataPath) === resolve(path)) {
    throw new QuantError('INVALID_ARGUMENT', `external data location "${location}" is the model file itself`);
  }
  await removeStaleTempFiles(dataPath);
  await removeStaleTempFiles(path);
  const dataTemp = tempPathFor(dataPath);
  const modelTemp = tempPathFor(path);
  try {
    await writeTemp(dataTemp, async (write) => {
      let position = 0;
      for (const chunk of chunks) {
        if (chunk.offset > position) await write(new Uint8Array(chunk.offset - position));
        const data = tensorBytes(chunk.tensor, chunk.name);
        await write(data);
        position = chunk.offset + data.length;
      }
    });
    await writeTemp(modelTemp, bytes);
    // Data first: a reader that sees the new model file must also find the data it points at.
    await commitTemp(dataTemp, dataPath);
    await commitTemp(modelTemp, path);
  } catch (error) {
    await discardTemp(dataTemp);
    await discardTemp(modelTemp);
    if (isErrno(error, 'ENOENT')) {
      throw new QuantError('NOT_FOUND', `cannot write ${path}: folder ${dirname(path)} does not exist`, {
        cause: error,
      });
    }
    throw ioError('write', path, error);
  }
}
