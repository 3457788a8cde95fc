// Runs against the built package: the worker script is dist/auto-worker.js, loaded by path.
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { autoQuantize } from '../../dist/node.js';
import { drawSamples } from '../test-models.js';
import { mixedSensitivityModel } from './auto-test-model.js';

describe('autoQuantize on worker threads', () => {
  it('chooses and reports the same as one thread, whatever the worker count', async () => {
    const test = mixedSensitivityModel(9);
    const input = encodeModel(test.model);
    const calibrationData = drawSamples(test, 3, 5);
    const runs = [];
    for (const workers of [1, 3]) {
      const progress: number[] = [];
      const result = await autoQuantize(input, {
        executor: createOrtNodeExecutor(),
        bitsPerWeight: 8,
        workers,
        calibrationData,
        onProgress: (event) => event.phase === 'sensitivity' && progress.push(event.done),
      });
      // float, 5 uniform schemes, 3 layers x 5 candidates: every job reported once.
      expect(progress).toEqual(Array.from({ length: 21 }, (_, index) => index + 1));
      runs.push(result);
    }
    const [one, three] = runs;
    expect(Buffer.from(three!.bytes).equals(Buffer.from(one!.bytes))).toBe(true);
    expect(three!.report).toEqual(one!.report);
    expect(one!.report.chosen.bitsPerWeight).toBeLessThanOrEqual(8);
    const session = await ort.InferenceSession.create(one!.bytes, { graphOptimizationLevel: 'all' });
    const x = calibrationData[0]!.x!;
    const { y } = await session.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.shape]) });
    expect((y!.data as Float32Array).every(Number.isFinite)).toBe(true);
    await session.release();
  });
});
