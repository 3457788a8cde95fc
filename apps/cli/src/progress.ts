import cliProgress from 'cli-progress';
import type { CliIo } from './cli-io.js';

/** What the pipeline reports while it works (the shape of QuantizeOptions.onProgress events). */
export interface ProgressUpdate {
  readonly phase: string;
  /** Model runs done and (when known) in total, over every calibration pass (finetune: optimisation steps). */
  readonly done: number;
  readonly total: number | undefined;
  /** Where the phase is (finetune: "layer 2/4 conv2"). */
  readonly detail?: string | undefined;
}

export interface ProgressReporter {
  update(event: ProgressUpdate): void;
  stop(): void;
}

/** The signals that end the process while a bar is drawn, and the exit status each ends it with (128 + number). */
export const INTERRUPT_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export type InterruptSignal = keyof typeof INTERRUPT_EXIT_CODES;

/**
 * The parts of `process` the bar needs to put the terminal back when the run ends early: its signals, its exit
 * event, and a way to exit. Tests pass a fake so no real signal is sent.
 */
export interface ProcessHooks {
  on(event: InterruptSignal | 'exit', listener: () => void): unknown;
  off(event: InterruptSignal | 'exit', listener: () => void): unknown;
  exit(code: number): void;
}

export interface ProgressOptions {
  /** Samples each model run takes (the calibration batch size); the rate is shown in samples, not runs. */
  readonly samplesPerRun?: number;
  /**
   * Model runs in one pass over the calibration data (samples / batch size). Calibration makes one pass per group
   * of observed tensors and the pipeline counts runs over all of them, so without this the bar shows 80/80 for 16
   * samples in 5 passes; with it the bar shows "pass 5/5 samples 16/16".
   */
  readonly runsPerPass?: number | undefined;
  /** Clock in milliseconds; tests pass their own. */
  readonly now?: () => number;
  /** Default: the real process. */
  readonly process?: ProcessHooks;
}

/** Show the cursor and turn line wrap back on: what the bar turned off while drawing. */
export const RESTORE_TERMINAL = '\x1b[?25h\x1b[?7h';

const silent: ProgressReporter = { update() {}, stop() {} };

const realProcess: ProcessHooks = {
  // Split by event: Node types the exit listener and the signal listeners by separate overloads.
  on: (event, listener) => (event === 'exit' ? process.on(event, listener) : process.on(event, listener)),
  off: (event, listener) => (event === 'exit' ? process.off(event, listener) : process.off(event, listener)),
  exit: (code) => process.exit(code),
};

/**
 * Samples per second since the first update. The first update comes after the first run, once model loading and
 * session setup are over, so measuring from it keeps that setup out of the rate.
 */
export function formatRate(samples: number, milliseconds: number): string {
  if (!(milliseconds > 0) || samples <= 0) return '--';
  const rate = (samples * 1000) / milliseconds;
  return rate >= 100 ? rate.toFixed(0) : rate >= 10 ? rate.toFixed(1) : rate.toFixed(2);
}

/**
 * The counts the bar prints: the runs of the current pass, and which pass of how many when there are several.
 *
 * @example formatCounts({ done: 17, total: 80 }, 16, 1) // 'pass 2/5 samples 1/16'
 */
export function formatCounts(
  event: Pick<ProgressUpdate, 'done' | 'total'>,
  runsPerPass: number | undefined,
  samplesPerRun: number,
): string {
  // With batched calibration a run holds several samples; count what the bar counts, runs, by that name.
  const [unit, suffix] =
    samplesPerRun === 1 ? ['samples', ''] : ['batches', ` (${samplesPerRun} samples each)`];
  if (runsPerPass === undefined || !(runsPerPass > 0)) {
    return `${unit} ${event.done}/${event.total ?? event.done}${suffix}`;
  }
  const pass = Math.max(1, Math.ceil(event.done / runsPerPass));
  const inPass = event.done - (pass - 1) * runsPerPass;
  // The pipeline's total covers every pass; when it is missing or already passed, the number of passes is unknown.
  const passes =
    event.total !== undefined && event.total >= event.done ? Math.ceil(event.total / runsPerPass) : undefined;
  const passText =
    passes === undefined ? (pass > 1 ? `pass ${pass} ` : '') : passes > 1 ? `pass ${pass}/${passes} ` : '';
  return `${passText}${unit} ${inPass}/${runsPerPass}${suffix}`;
}

/**
 * A progress bar on stderr while calibrating, with the rate in samples/s and the time left. Silent when stderr is
 * not a terminal (logs, pipes, CI) or when the caller wants machine output (--json), so redirected output never
 * contains control sequences.
 *
 * The bar hides the cursor and turns off line wrap while it draws. If the process ends while it is shown (Ctrl-C,
 * SIGTERM, an exit from anywhere), the terminal gets both back; an interrupt then ends the process with status
 * 130 (SIGINT) or 143 (SIGTERM), as a shell expects.
 *
 * @example
 * const progress = createProgressReporter(io, !json, { runsPerPass: 16 });
 * try { await run({ onProgress: (event) => progress.update(event) }); } finally { progress.stop(); }
 */
export function createProgressReporter(
  io: CliIo,
  enabled: boolean,
  options: ProgressOptions = {},
): ProgressReporter {
  if (!enabled || io.stderr.isTTY !== true) return silent;
  const samplesPerRun = options.samplesPerRun ?? 1;
  const now = options.now ?? Date.now;
  const hooks = options.process ?? realProcess;
  let bar: cliProgress.SingleBar | undefined;
  let first: { time: number; done: number } | undefined;
  // The phase the bar shows: a new phase (finetuning after calibration) starts a bar of its own.
  let phase: string | undefined;

  const stop = (): void => {
    if (bar === undefined) return;
    hooks.off('SIGINT', onSigint);
    hooks.off('SIGTERM', onSigterm);
    hooks.off('exit', onExit);
    const drawn = bar;
    bar = undefined;
    first = undefined;
    drawn.stop();
  };
  const restore = (): void => {
    stop();
    // stop() restores both too; written again so the terminal is right even if the bar's own clean-up did not run.
    io.stderr.write(RESTORE_TERMINAL);
  };
  const interrupted = (signal: InterruptSignal): void => {
    restore();
    // A listener replaces Node's default of ending the process on the signal, so end it here.
    hooks.exit(INTERRUPT_EXIT_CODES[signal]);
  };
  const onSigint = (): void => interrupted('SIGINT');
  const onSigterm = (): void => interrupted('SIGTERM');
  // 'exit' listeners run synchronously as the process ends; a write to a terminal is synchronous too.
  const onExit = (): void => restore();

  return {
    update(event) {
      if (bar !== undefined && event.phase !== phase) stop();
      phase = event.phase;
      // Until the pipeline knows the total it reports undefined; a bar that ends where we are is the honest picture.
      // The bar and its ETA span every pass; the text counts the current one.
      const total = Math.max(event.total ?? event.done, event.done);
      const time = now();
      first ??= { time, done: event.done };
      // Finetuning counts optimisation steps over the layers, one run each, not samples.
      const finetuning = event.phase === 'finetune';
      const payload = {
        rate: formatRate((event.done - first.done) * (finetuning ? 1 : samplesPerRun), time - first.time),
        counts: finetuning
          ? `${event.detail ?? ''} steps ${event.done}/${event.total ?? event.done}`.trim()
          : formatCounts(event, options.runsPerPass, samplesPerRun),
      };
      if (bar === undefined) {
        bar = new cliProgress.SingleBar(
          {
            stream: io.stderr as unknown as NodeJS.WritableStream,
            format:
              `${event.phase === 'calibrate' ? 'calibrating' : finetuning ? 'finetuning' : event.phase} [{bar}] {counts}` +
              ` | {rate} ${finetuning ? 'steps' : 'samples'}/s | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        hooks.on('SIGINT', onSigint);
        hooks.on('SIGTERM', onSigterm);
        hooks.on('exit', onExit);
        bar.start(total, event.done, payload);
      } else {
        bar.setTotal(total);
        bar.update(event.done, payload);
      }
    },
    stop,
  };
}
