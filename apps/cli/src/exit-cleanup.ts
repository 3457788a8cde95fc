import { removePendingTempFiles } from '@quantkit/onnx/node';
import { INTERRUPT_EXIT_CODES, type InterruptSignal } from './progress.js';

/**
 * Makes the process end cleanly however it ends: on Ctrl-C (SIGINT) or SIGTERM it exits with 130 or 143, and on any
 * exit the temporary files of writes still in progress are removed, so an interrupted run leaves neither a partial
 * output (writes are atomic) nor a `.tmp` file behind. The bin calls this once; SIGKILL cannot be caught, and the
 * next write to the same file removes what it left.
 *
 * @example installExitCleanup(process);
 */
export function installExitCleanup(target: Pick<NodeJS.Process, 'on' | 'exit'> = process): void {
  target.on('exit', removePendingTempFiles);
  for (const signal of Object.keys(INTERRUPT_EXIT_CODES) as InterruptSignal[]) {
    target.on(signal, () => target.exit(INTERRUPT_EXIT_CODES[signal]));
  }
}
