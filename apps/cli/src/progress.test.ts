import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import {
  type ProcessHooks,
  RESTORE_TERMINAL,
  createProgressReporter,
  formatCounts,
  formatRate,
} from './progress.js';

function ioWithStderr(isTTY: boolean): { io: CliIo; written: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return {
    io: { stdout: { write: () => true }, stderr: stream, cwd: process.cwd() },
    written: () => written,
  };
}

/** Signals and exits recorded instead of sent: what the reporter listens to and how it ends the process. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const hooks: ProcessHooks = {
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
    exit: (code) => {
      exits.push(code);
    },
  };
  const listeners = () =>
    ['SIGINT', 'SIGTERM', 'exit'].reduce((sum, event) => sum + emitter.listenerCount(event), 0);
  return { emitter, hooks, exits, listeners };
}

describe('createProgressReporter', () => {
  it('draws a calibration bar on a terminal', () => {
    const { io, written } = ioWithStderr(true);
    const progress = createProgressReporter(io, true);
    progress.update({ phase: 'calibrate', done: 1, total: 4 });
    progress.update({ phase: 'calibrate', done: 4, total: 4 });
    progress.stop();
    expect(written()).toContain('calibrating');
    expect(written()).toMatch(/samples \d\/4/);
  });

  it('starts a bar of its own for finetuning after calibration, counting steps per layer', () => {
    const { io, written } = ioWithStderr(true);
    let time = 0;
    const hooks = fakeProcess();
    const progress = createProgressReporter(io, true, {
      samplesPerRun: 4,
      now: () => time,
      process: hooks.hooks,
    });
    progress.update({ phase: 'calibrate', done: 4, total: 4 });
    const calibrating = written().length;
    progress.update({ phase: 'finetune', done: 10, total: 200, detail: 'layer 1/2 conv1' });
    time += 1_000;
    progress.update({ phase: 'finetune', done: 110, total: 200, detail: 'layer 2/2 gemm' });
    progress.stop();
    const finetuning = written().slice(calibrating);
    expect(finetuning).toContain('finetuning');
    expect(finetuning).toContain('layer 2/2 gemm steps 110/200');
    // 100 steps in 1 s, not multiplied by the calibration batch size.
    expect(finetuning).toMatch(/\| 100 steps\/s/);
    expect(hooks.listeners()).toBe(0);
  });

  it('shows the rate in samples/s, counting batches by their size, and an ETA', () => {
    const { io, written } = ioWithStderr(true);
    let time = 10_000;
    const progress = createProgressReporter(io, true, { samplesPerRun: 4, now: () => time });
    progress.update({ phase: 'calibrate', done: 1, total: 6 });
    // The first run is the baseline: no rate yet rather than one that counts model loading.
    expect(written()).toMatch(/batches 1\/6 \(4 samples each\) \| -- samples\/s \| ETA /);
    time += 2_000;
    progress.update({ phase: 'calibrate', done: 6, total: 6 });
    progress.stop();
    // 5 more runs of 4 samples in 2 s.
    expect(written()).toMatch(/batches 6\/6 \(4 samples each\) \| 10\.0 samples\/s \| ETA \S+/);
  });

  it('counts the samples of the current pass, not the runs of every pass: "pass 5/5 samples 16/16", not 80/80', () => {
    const { io, written } = ioWithStderr(true);
    const progress = createProgressReporter(io, true, { runsPerPass: 16, process: fakeProcess().hooks });
    // 16 samples, 5 passes: the pipeline counts 80 runs in all. (The bar draws the first and the last update; the
    // ones between are throttled, and formatCounts below covers them.)
    for (const done of [1, 16, 17, 80]) progress.update({ phase: 'calibrate', done, total: 80 });
    progress.stop();
    expect(written()).toContain('pass 1/5 samples 1/16');
    expect(written()).toContain('pass 5/5 samples 16/16');
    expect(written()).not.toMatch(/80\/80/);
  });

  it.each([
    'SIGINT',
    'SIGTERM',
  ] as const)('on %s while the bar is shown, shows the cursor, turns line wrap back on and exits 128 + the signal', (signal) => {
    const { io, written } = ioWithStderr(true);
    const fake = fakeProcess();
    const progress = createProgressReporter(io, true, { process: fake.hooks });
    progress.update({ phase: 'calibrate', done: 1, total: 4 });
    // The bar hid the cursor and turned line wrap off.
    expect(written()).toContain('\x1b[?25l');
    expect(written()).toContain('\x1b[?7l');
    fake.emitter.emit(signal);
    expect(fake.exits).toEqual([signal === 'SIGINT' ? 130 : 143]);
    expect(written().endsWith(RESTORE_TERMINAL)).toBe(true);
    expect(fake.listeners()).toBe(0);
    // Stopping again (the command's finally) writes nothing more.
    const length = written().length;
    progress.stop();
    expect(written()).toHaveLength(length);
  });

  it('restores the terminal when the process exits while the bar is shown, and listens only while it is', () => {
    const { io, written } = ioWithStderr(true);
    const fake = fakeProcess();
    const progress = createProgressReporter(io, true, { process: fake.hooks });
    expect(fake.listeners()).toBe(0);
    progress.update({ phase: 'calibrate', done: 1, total: 4 });
    expect(fake.listeners()).toBe(3);
    fake.emitter.emit('exit');
    expect(written().endsWith(RESTORE_TERMINAL)).toBe(true);
    expect(fake.exits).toEqual([]);
    expect(fake.listeners()).toBe(0);

    // A bar stopped normally leaves no listener behind: a later Ctrl-C gets Node's default handling.
    progress.update({ phase: 'calibrate', done: 2, total: 4 });
    progress.stop();
    expect(fake.listeners()).toBe(0);
    expect(written()).toContain('\x1b[?25h');
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

describe('formatCounts', () => {
  it.each([
    // done, total, runs per pass, samples per run
    [[7, 16, undefined, 1], 'samples 7/16'],
    [[7, undefined, undefined, 1], 'samples 7/7'],
    [[7, 16, 16, 1], 'samples 7/16'],
    [[16, 80, 16, 1], 'pass 1/5 samples 16/16'],
    [[33, 80, 16, 1], 'pass 3/5 samples 1/16'],
    [[5, 8, 4, 4], 'pass 2/2 batches 1/4 (4 samples each)'],
    // A total already passed (or none) leaves the number of passes unknown.
    [[20, 16, 16, 1], 'pass 2 samples 4/16'],
    [[20, undefined, 16, 1], 'pass 2 samples 4/16'],
  ] as const)('%j is %s', ([done, total, runsPerPass, samplesPerRun], expected) => {
    expect(formatCounts({ done, total }, runsPerPass, samplesPerRun)).toBe(expected);
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
