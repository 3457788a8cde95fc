import cliProgress from 'cli-progress';
import type { CliIo } from './cli-io.js';

/** What the pipeline reports while it works (the shape of QuantizeOptions.onProgress events). */
export interface ProgressUpdate {
  readonly phase: string;
  /** Model runs done and (when known) in total, over every calibration pass. */
  readonly done: number;
  readonly total: number | undefined;
}

export interface ProgressReporter {
  update(event: ProgressUpdate): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Samples each model run takes (the calibration batch size); the rate is shown in samples, not runs. */
  readonly samplesPerRun?: number;
  /** Clock in milliseconds; tests pass their own. */
  readonly now?: () => number;
}

const silent: ProgressReporter = { update() {}, stop() {} };

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
 * A progress bar on stderr while calibrating, with the rate in samples/s and the time left. Silent when stderr is
 * not a terminal (logs, pipes, CI) or when the caller wants machine output (--json), so redirected output never
 * contains control sequences.
 */
export function createProgressReporter(
  io: CliIo,
  enabled: boolean,
  options: ProgressOptions = {},
): ProgressReporter {
  if (!enabled || io.stderr.isTTY !== true) return silent;
  const samplesPerRun = options.samplesPerRun ?? 1;
  const now = options.now ?? Date.now;
  let bar: cliProgress.SingleBar | undefined;
  let first: { time: number; done: number } | undefined;
  return {
    update(event) {
      // Until the pipeline knows the total it reports undefined; a bar that ends where we are is the honest picture.
      const total = event.total ?? event.done;
      const time = now();
      first ??= { time, done: event.done };
      const rate = formatRate((event.done - first.done) * samplesPerRun, time - first.time);
      if (bar === undefined) {
        // With batched calibration a run holds several samples; count what the bar counts, runs, by that name.
        const unit = samplesPerRun === 1 ? 'samples' : `batches of ${samplesPerRun}`;
        bar = new cliProgress.SingleBar(
          {
            stream: io.stderr as unknown as NodeJS.WritableStream,
            format:
              `${event.phase === 'calibrate' ? 'calibrating' : event.phase} [{bar}] {value}/{total} ${unit}` +
              ' | {rate} samples/s | ETA {eta_formatted}',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, event.done, { rate });
      } else {
        bar.setTotal(total);
        bar.update(event.done, { rate });
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
      first = undefined;
    },
  };
}
