import { readFile, stat } from 'node:fs/promises';
import type { CalibrationInput } from '@quantkit/calibration';
import { QuantError } from '@quantkit/core';
import { type Model, encodeModel } from '@quantkit/onnx';
import { type FileUse, readModelFile as readOnnxFile } from '@quantkit/onnx/node';
import { weightBytes } from '@quantkit/quantize';
import { requireExisting } from './paths.js';

/** A model file read and decoded, with the inputs a caller must feed. */
export interface ModelFile {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly model: Model;
  /** Graph inputs that are not initializers (models older than IR 4 list weights as inputs too). */
  readonly inputs: CalibrationInput[];
  /** The external data files its tensors were read from (none for a self-contained model). */
  readonly dataFiles: readonly string[];
}

/**
 * Reads and decodes an ONNX model file.
 *
 * @example const { model, inputs } = await readModelFile('model.onnx');
 * @throws QuantError NOT_FOUND for a missing file, INVALID_ARGUMENT for a folder, IO_ERROR when it cannot be read,
 * INVALID_MODEL when it is not ONNX.
 */
export async function readModelFile(path: string, what = 'model'): Promise<ModelFile> {
  await requireExisting(path, what, 'file');
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new QuantError('IO_ERROR', `cannot read ${what} ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // The onnx package's reader also loads weights kept in external data files beside the model.
  const dataFiles: string[] = [];
  const model = await readOnnxFile(path, { onDataFile: (file) => dataFiles.push(file) });
  // Runtimes take the model as bytes: with external weights loaded, re-encode it whole; else keep the file's bytes.
  const bytes = size < weightBytes(model.graph) ? encodeModel(model) : new Uint8Array(await readFile(path));
  const { graph } = model;
  const inputs = graph.inputs
    .filter((input) => !graph.initializers.has(input.name))
    .map((input) => ({ name: input.name, dtype: input.dtype, shape: input.shape }));
  return { path, bytes, model, inputs, dataFiles };
}

/** The files reading a model took: the model file and its external data, for checking writes against them. */
export function modelFileUses(role: string, file: ModelFile): FileUse[] {
  return [
    { role, path: file.path },
    ...file.dataFiles.map((path) => ({ role: `external data of the ${role}`, path })),
  ];
}
