import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openWakeWordModel } from '@quantkit/test-kit';

/** The built command; tests run it the way users do (run `pnpm build` first; turbo's test task does). */
export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node dist/bin.js ...args` and collects its exit status and output. A quantize command runs with
 * --no-latency-guard unless `latencyGuard` is set: what the guard keeps float depends on this machine's timings,
 * and every other test checks what a run writes. The guard's own tests time a cost model instead.
 */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; latencyGuard?: boolean } = {},
): Promise<CliRun> {
  const deterministic = args[0] === 'quantize' && options.latencyGuard !== true;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args, ...(deterministic ? ['--no-latency-guard'] : [])],
      { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A fresh temporary folder and a function that removes it. */
export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'quantkit-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** File names in a folder, sorted, to check that a failed run left nothing (no output, no temp file) behind. */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

export async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** The third-party model the end-to-end tests quantize: a small openWakeWord classifier (Gemm/MatMul, float32). */
export function wakeWordModelPath(): string {
  return openWakeWordModel('hello_deepa.onnx');
}
