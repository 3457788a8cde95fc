// Small models and data the CLI tests build for themselves; seeded so every run writes the same files.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNpy } from '@quantkit/calibration';
import { createTensor } from '@quantkit/core';
import { createModel, encodeModel } from '@quantkit/onnx';
import { createPrng } from '@quantkit/quantize';

/** Features the MLP takes per sample. */
export const MLP_FEATURES = 4;

export interface MlpOptions {
  /** The first input dimension: a name for a symbolic batch, or a fixed size. */
  readonly batch?: string | number;
  /** Adds a third layer, which gives the model another graph (and calibration-cache fingerprint). */
  readonly deeper?: boolean;
  readonly seed?: number;
}

function weight(rows: number, columns: number, next: () => number) {
  return createTensor(
    'float32',
    [rows, columns],
    Float32Array.from({ length: rows * columns }, () => next() * 2 - 1),
  );
}

/**
 * x [batch, 4] -> MatMul "fc1" -> Relu "relu1" -> MatMul "fc2" -> y [batch, 3] (-> Relu "relu2" -> MatMul "fc3"
 * with `deeper`), encoded as ONNX bytes. Nodes have names so overrides can address them.
 */
export function mlpModelBytes(options: MlpOptions = {}): Uint8Array {
  const next = createPrng(options.seed ?? 11);
  const batch = options.batch ?? 'batch';
  const hidden = 8;
  const nodes = [
    { name: 'fc1', opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['h1'] },
    { name: 'relu1', opType: 'Relu', inputs: ['h1'], outputs: ['a1'] },
    { name: 'fc2', opType: 'MatMul', inputs: ['a1', 'w2'], outputs: [options.deeper ? 'h2' : 'y'] },
  ];
  const initializers = { w1: weight(MLP_FEATURES, hidden, next), w2: weight(hidden, 3, next) };
  if (options.deeper) {
    nodes.push(
      { name: 'relu2', opType: 'Relu', inputs: ['h2'], outputs: ['a2'] },
      { name: 'fc3', opType: 'MatMul', inputs: ['a2', 'w3'], outputs: ['y'] },
    );
    Object.assign(initializers, { w3: weight(3, 3, next) });
  }
  return encodeModel(
    createModel({
      opset: 17,
      inputs: [['x', 'float32', [batch, MLP_FEATURES]]],
      outputs: [['y', 'float32', [batch, 3]]],
      initializers,
      nodes,
    }),
  );
}

/** Writes `samples` .npy files of seeded uniform [-1, 1) float32 data of `shape` into a new folder `dir`. */
export async function writeNpyFolder(dir: string, samples: number, shape: readonly number[], seed = 7) {
  await mkdir(dir);
  const next = createPrng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  for (let s = 0; s < samples; s++) {
    const data = Float32Array.from({ length: size }, () => next() * 2 - 1);
    await writeFile(join(dir, `sample_${s}.npy`), encodeNpy({ dtype: 'float32', shape: [...shape], data }));
  }
  return dir;
}
