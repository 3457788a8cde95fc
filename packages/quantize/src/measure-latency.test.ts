import type { ExecutorPlugin, ExecutorSession } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { measureLatency } from './measure-latency.js';
import { quantizeModel } from './quantize-model.js';
import { createRandom, mlpModel } from './test-models.js';

/** An executor whose sessions count their runs and remember how they were made and whether they were disposed. */
function countingExecutor() {
  const sessions: { model: Uint8Array; threads: number | undefined; runs: number; disposed: boolean }[] = [];
  const executor: ExecutorPlugin = {
    kind: 'executor',
    name: 'counting',
    apiVersion: 1,
    async createSession(model, options): Promise<ExecutorSession> {
      const record = { model, threads: options?.threads, runs: 0, disposed: false };
      sessions.push(record);
      return {
        inputs: [],
        outputs: [],
        async run() {
          record.runs++;
          return {};
        },
        async dispose() {
          record.disposed = true;
        },
      } as unknown as ExecutorSession;
    },
  } as ExecutorPlugin;
  return { executor, sessions };
}

describe('measureLatency', () => {
  it('runs the two models in turns on one thread, one untimed run each first, and disposes both', async () => {
    const { executor, sessions } = countingExecutor();
    const float = Uint8Array.of(1);
    const quantized = Uint8Array.of(2);
    const result = await measureLatency(executor, float, quantized, {}, { minRounds: 5, budgetMs: 0 });
    expect(result.rounds).toBe(5);
    expect(result.threads).toBe(1);
    expect(sessions.map((s) => [s.model, s.threads, s.runs, s.disposed])).toEqual([
      [float, 1, 6, true],
      [quantized, 1, 6, true],
    ]);
    expect(result.ratio).toBe(result.quantizedMs / result.floatMs);
  });

  it('keeps timing while within the budget, up to maxRounds', async () => {
    const { executor } = countingExecutor();
    const result = await measureLatency(
      executor,
      Uint8Array.of(1),
      Uint8Array.of(2),
      {},
      {
        minRounds: 3,
        budgetMs: 60_000,
        maxRounds: 40,
      },
    );
    expect(result.rounds).toBe(40);
  });

  it('is reported by quantizeModel when asked, beside the verification', async () => {
    const executor = createOrtExecutor(ort, { name: 'ort-node' });
    const test = mlpModel(81, 64);
    const bytes = encodeModel(test.model);
    const plain = await quantizeModel(bytes, { mode: 'dynamic', executor });
    expect(plain.summary.verification).not.toHaveProperty('latency');
    const timed = await quantizeModel(bytes, {
      mode: 'dynamic',
      executor,
      measureLatency: true,
      verifySample: test.sample(createRandom(82)),
    });
    const verification = timed.summary.verification;
    expect(verification?.verified).toBe(true);
    if (verification?.verified !== true) return;
    expect(verification.latency?.rounds).toBeGreaterThanOrEqual(9);
    expect(verification.latency?.floatMs).toBeGreaterThan(0);
    expect(Buffer.compare(timed.bytes, plain.bytes)).toBe(0);
  });
});
