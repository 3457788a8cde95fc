import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { createProgressReporter } from './progress.js';

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
