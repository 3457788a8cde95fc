// An interrupted run leaves no temporary file: the CLI removes the files of writes in progress on Ctrl-C and
// SIGTERM (and on any exit). Found by a reliability campaign: `<output>.<pid>.<hex>.tmp` stayed next to the output.
import { type ChildProcess, spawn } from 'node:child_process';
import { watch, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTensor } from '@quantkit/core';
import { createModel, createNode, encodeModel } from '@quantkit/onnx';
import { readModelFile } from '@quantkit/onnx/node';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, makeTempDir } from './testing/cli-harness.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const temp = await makeTempDir();
afterAll(() => temp.cleanup());

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

describe('installExitCleanup', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('on %s mid-write exits with %i and leaves no temporary file', async (signal, status) => {
    const folder = join(temp.dir, signal);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(folder);
    // A write that stops after its first chunk and waits: the signal lands while the temporary file exists.
    const script = `
      import { installExitCleanup } from './dist/index.js';
      import { writeFileAtomic } from '@quantkit/onnx/node';
      installExitCleanup();
      setInterval(() => {}, 1000);
      await writeFileAtomic(${JSON.stringify(join(folder, 'out.onnx'))}, async (write) => {
        await write(new Uint8Array(65536));
        process.stdout.write('writing\\n');
        await new Promise(() => {});
      });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: PACKAGE_ROOT });
    const done = exited(child);
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('writing') && resolve());
      void done.then(() => reject(new Error(`the writer ended before writing: ${stderr}`)));
    });
    expect((await readdir(folder)).filter((name) => name.endsWith('.tmp'))).toHaveLength(1);
    child.kill(signal);
    expect(await done).toEqual({ code: status, signal: null });
    expect(await readdir(folder)).toEqual([]);
  });

  it('the quantkit command, stopped by SIGTERM while it writes, leaves a whole output or none, and no .tmp', async () => {
    const folder = join(temp.dir, 'cli');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(folder);
    // 16 MiB of weights: the fp16 output takes a moment to write and sync.
    const weights = Float32Array.from({ length: 1024 * 4096 }, (_, i) => Math.sin(i) * 0.1);
    const model = createModel({
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1024] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4096] }],
      initializers: { w: createTensor('float32', [1024, 4096], weights) },
      nodes: [createNode({ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] })],
    });
    writeFileSync(join(folder, 'big.onnx'), encodeModel(model));
    const output = join(folder, 'big.fp16.onnx');
    const child = spawn(
      process.execPath,
      [BIN, 'quantize', 'big.onnx', '-o', output, '--mode', 'float', '--no-verify'],
      {
        cwd: folder,
      },
    );
    const done = exited(child);
    // Signal as soon as the temporary file appears (or, should the write be over before the watcher sees it, after).
    const watcher = watch(folder, (_event, name) => {
      if (name?.endsWith('.tmp') === true) child.kill('SIGTERM');
    });
    const { code } = await done;
    watcher.close();
    const names = await readdir(folder);
    expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect([0, 143]).toContain(code);
    if (names.includes('big.fp16.onnx')) {
      expect((await readModelFile(output)).graph.initializers.get('w')?.dtype).toBe('float16');
    } else {
      expect(code).toBe(143);
    }
  });
});
