import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built command; tests run it the way users do (run `pnpm build` first; turbo's test task does). */
export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/bin.js ...args` and collects its exit status and output. */
export function runCli(args: readonly string[], options: { cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
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
  // The package's "exports" hide package.json and its require entry is not shipped, so neither require.resolve
  // form works; look the package folder up the way Node does, through node_modules folders upward.
  for (let folder = dirname(fileURLToPath(import.meta.url)); ; folder = dirname(folder)) {
    const candidate = join(folder, 'node_modules', 'openwakeword-js');
    if (existsSync(join(candidate, 'package.json'))) return join(candidate, 'models', 'hello_deepa.onnx');
    if (dirname(folder) === folder) throw new Error('openwakeword-js is not installed');
  }
}
