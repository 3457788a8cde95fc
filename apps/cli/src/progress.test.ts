import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { createProgressReporter, formatRate } from './progress.js';

function ioWithStderr(isTTY: boolean): { io: CliIo; written: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return {
    io: { stdout: { write: () => true }, stderr: stream, cwd: process.cwd() },
    written: () => written,
  };
}

describe('createProgressReporter', () => {
  it('draws a calibration bar on a terminal', () => {
    const { io, written } = ioWithStderr(true);
    const progress = createProgressReporter(io, true);
    progress.update({ phase: 'calibrate', done: 1, total: 4 });
    progress.update({ phase: 'calibrate', done: 4, total: 4 });
    progress.stop();
    expect(written()).toContain('calibrating');
    expect(written()).toMatch(/\d\/4 samples/);
  });

  it('shows the rate in samples/s, counting batches by their size, and an ETA', () => {
    const { io, written } = ioWithStderr(true);
    let time = 10_000;
    const progress = createProgressReporter(io, true, { samplesPerRun: 4, now: () => time });
    progress.update({ phase: 'calibrate', done: 1, total: 6 });
    // The first run is the baseline: no rate yet rather than one that counts model loading.
    expect(written()).toMatch(/1\/6 batches of 4 \| -- samples\/s \| ETA /);
    time += 2_000;
    progress.update({ phase: 'calibrate', done: 6, total: 6 });
    progress.stop();
    // 5 more runs of 4 samples in 2 s.
    expect(written()).toMatch(/6\/6 batches of 4 \| 10\.0 samples\/s \| ETA \S+/);
  });

  it('stays silent when stderr is not a terminal or when disabled (--json)', () => {
    for (const [isTTY, enabled] of [
      [false, true],
      [true, false],
    ] as const) {
      const { io, written } = ioWithStderr(isTTY);
      const progress = createProgressReporter(io, enabled);
      progress.update({ phase: 'calibrate', done: 1, total: 2 });
      progress.stop();
      expect(written()).toBe('');
    }
  });
});

describe('formatRate', () => {
  it.each([
    [0, 1000, '--'],
    [5, 0, '--'],
    [3, 2000, '1.50'],
    [25, 1000, '25.0'],
    [1234, 1000, '1234'],
  ])('%d samples in %d ms is %s/s', (samples, ms, expected) => {
    expect(formatRate(samples, ms)).toBe(expected);
  });
});
