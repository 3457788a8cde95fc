import type { ExecutorPlugin, ExecutorSession } from '@quantkit/core';
import type { CalibrationSample } from './options.js';

/** The float and quantized models' latency on one sample, timed in turns. */
export interface LatencyComparison {
  /** Median time of one run, in milliseconds. */
  readonly floatMs: number;
  readonly quantizedMs: number;
  /** quantizedMs / floatMs: below 1, the quantized model is faster. */
  readonly ratio: number;
  /** Rounds timed (one run of each model per round). */
  readonly rounds: number;
  /** Threads each session ran on. */
  readonly threads: number;
}

export interface MeasureLatencyOptions {
  /** Rounds to time at least (default 9). */
  readonly minRounds?: number;
  /** Keep timing rounds while the runs took less than this many milliseconds in all (default 2000). */
  readonly budgetMs?: number;
  /** Rounds at most (default 200). */
  readonly maxRounds?: number;
  /** Threads per session (default 1: the ratio then says what the kernels cost, not how they spread). */
  readonly threads?: number;
}

async function timedRun(session: ExecutorSession, sample: CalibrationSample): Promise<number> {
  const start = performance.now();
  await session.run(sample);
  return performance.now() - start;
}

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Times the float and the quantized model in the executor in turns (a float run, a quantized run, ...), so a change
 * in machine load falls on both alike, after one untimed run of each; the ratio of the medians is what quantization
 * did to latency on this machine.
 *
 * @example
 * const { ratio } = await measureLatency(executor, floatBytes, quantizedBytes, sample);
 * if (ratio > 1) console.log(`quantized runs ${ratio.toFixed(2)}x the float latency`);
 * @throws QuantError EXECUTOR when the executor cannot load or run either model.
 */
export async function measureLatency(
  executor: ExecutorPlugin,
  floatBytes: Uint8Array,
  quantizedBytes: Uint8Array,
  sample: CalibrationSample,
  options: MeasureLatencyOptions = {},
): Promise<LatencyComparison> {
  const { minRounds = 9, budgetMs = 2000, maxRounds = 200, threads = 1 } = options;
  const float = await executor.createSession(floatBytes, { threads });
  try {
    const quantized = await executor.createSession(quantizedBytes, { threads });
    try {
      await timedRun(float, sample);
      await timedRun(quantized, sample);
      const floatTimes: number[] = [];
      const quantizedTimes: number[] = [];
      let spent = 0;
      while (floatTimes.length < minRounds || (spent < budgetMs && floatTimes.length < maxRounds)) {
        const floatTime = await timedRun(float, sample);
        const quantizedTime = await timedRun(quantized, sample);
        floatTimes.push(floatTime);
        quantizedTimes.push(quantizedTime);
        spent += floatTime + quantizedTime;
      }
      const floatMs = median(floatTimes);
      const quantizedMs = median(quantizedTimes);
      return { floatMs, quantizedMs, ratio: quantizedMs / floatMs, rounds: floatTimes.length, threads };
    } finally {
      await quantized.dispose();
    }
  } finally {
    await float.dispose();
  }
}
