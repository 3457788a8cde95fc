import cliProgress from 'cli-progress';
import type { CliIo } from './cli-io.js';

/** What the pipeline reports while it works (the shape of QuantizeOptions.onProgress events). */
export interface ProgressUpdate {
  readonly phase: string;
  readonly done: number;
  readonly total: number | undefined;
}

export interface ProgressReporter {
  update(event: ProgressUpdate): void;
  stop(): void;
}

const silent: ProgressReporter = { update() {}, stop() {} };

/**
 * A progress bar on stderr while calibrating. Silent when stderr is not a terminal (logs, pipes, CI) or when the
 * caller wants machine output (--json), so redirected output never contains control sequences.
 */
export function createProgressReporter(io: CliIo, enabled: boolean): ProgressReporter {
  if (!enabled || io.stderr.isTTY !== true) return silent;
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(event) {
      // Until the pipeline knows the total it reports undefined; a bar that ends where we are is the honest picture.
      const total = event.total ?? event.done;
      if (bar === undefined) {
        bar = new cliProgress.SingleBar(
          {
            stream: io.stderr as unknown as NodeJS.WritableStream,
            format: `${event.phase === 'calibrate' ? 'calibrating' : event.phase} [{bar}] {value}/{total} samples`,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, event.done);
      } else {
        bar.setTotal(total);
        bar.update(event.done);
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
