import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CalibrationInput, encodeNpy } from '@quantkit/calibration';
import { QuantError, type Tensor } from '@quantkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPrng } from './random-samples.js';
import { sampleSource } from './sample-source.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quantkit-samples-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

/** `samples` .npy files of `shape`, seeded values in [-1, 1). */
async function writeNpyFolder(folder: string, samples: number, shape: readonly number[], seed = 7) {
  await mkdir(folder);
  const next = createPrng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  for (let s = 0; s < samples; s++) {
    const data = Float32Array.from({ length: size }, () => next() * 2 - 1);
    await writeFile(
      join(folder, `sample_${s}.npy`),
      encodeNpy({ dtype: 'float32', shape: [...shape], data }),
    );
  }
}

async function collect(source: () => AsyncIterable<Record<string, Tensor>>) {
  const samples: Record<string, Tensor>[] = [];
  for await (const sample of source()) samples.push(sample);
  return samples;
}

describe('sampleSource', () => {
  const inputs: CalibrationInput[] = [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }];

  it('gives the same random samples on every call, as many as asked', async () => {
    const source = sampleSource({ kind: 'random', seed: 3 }, inputs, { limit: 5 });
    const first = await collect(source);
    const second = await collect(source);
    expect(first).toHaveLength(5);
    expect(second).toEqual(first);
    expect(first[0]!.x!.shape).toEqual([1, 2]);
    const other = await collect(sampleSource({ kind: 'random', seed: 4 }, inputs, { limit: 5 }));
    expect(other).not.toEqual(first);
  });

  it('reads a folder again on every call, splitting batches for a fixed batch size and stopping at the limit', async () => {
    const folder = join(dir, 'data');
    await writeNpyFolder(folder, 2, [1, 2]);
    // A third file holds a batch of 3 rows: a model taking one row at a time gets three samples from it.
    const rows = Float32Array.from([1, 2, 3, 4, 5, 6]);
    await writeFile(join(folder, 'sample_2.npy'), encodeNpy({ dtype: 'float32', shape: [3, 2], data: rows }));
    const fixed: CalibrationInput[] = [{ name: 'x', dtype: 'float32', shape: [1, 2] }];
    const all = await collect(sampleSource({ kind: 'folder', dir: folder }, fixed));
    expect(all).toHaveLength(5);
    expect(Array.from(all[3]!.x!.data as Float32Array)).toEqual([3, 4]);
    const source = sampleSource({ kind: 'folder', dir: folder }, fixed, { limit: 3 });
    expect(await collect(source)).toHaveLength(3);
    expect(await collect(source)).toEqual(all.slice(0, 3));
  });

  it('names the option for real data it is given when random data cannot be made', async () => {
    const half: CalibrationInput[] = [{ name: 'h', dtype: 'float16', shape: [1] }];
    const error = await collect(
      sampleSource({ kind: 'random', seed: 1 }, half, { dataOption: 'dataDir' }),
    ).catch((thrown: unknown) => thrown);
    expect(QuantError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as QuantError).parts).toContainEqual({ option: 'dataDir' });
  });
});
