import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink, link, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuantError } from '@quantkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removePendingTempFiles, removeStaleTempFiles, writeFileAtomic } from './atomic-write.js';
import { checkWrites } from './file-safety.js';
import { createModel } from './model-builder.js';
import { writeModelFile } from './node.js';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'quantkit-atomic-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** The pid of a process that has exited (so no process has it, short of reuse right away). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

describe('temporary files', () => {
  it('removes temporary files of writes whose process was killed, and only those', async () => {
    const dead = deadPid();
    const stale = [`.out.onnx.${dead}.0123456789ab.tmp`, `.out.onnx.data.${dead}.ba9876543210.tmp`];
    const kept = [
      `.out.onnx.${process.pid}.0123456789ab.tmp`, // this process: a write in progress
      '.out.onnx.1.0123456789ab.tmp', // pid 1 always runs
      `.other.onnx.${dead}.0123456789ab.tmp`, // another file's
      `.out.onnx.${dead}.xyz.tmp`, // not our naming
    ];
    for (const name of [...stale, ...kept]) await writeFile(join(folder, name), 'partial');
    await writeModelFile(join(folder, 'out.onnx'), createModel({ nodes: [], inputs: [], outputs: [] }), {
      externalData: true,
    });
    expect((await readdir(folder)).sort()).toEqual([...kept, 'out.onnx', 'out.onnx.data'].sort());
    expect(await removeStaleTempFiles(join(folder, 'out.onnx'))).toEqual([]);
  });

  it('removePendingTempFiles deletes the temporary file of a write still running', async () => {
    const target = join(folder, 'big.bin');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started!: () => void;
    const writing = new Promise<void>((resolve) => {
      started = resolve;
    });
    const write = writeFileAtomic(target, async (chunk) => {
      await chunk(new Uint8Array(4096));
      started();
      await gate;
    });
    await writing;
    const temp = (await readdir(folder)).filter((name) => name.endsWith('.tmp'));
    expect(temp).toHaveLength(1);
    expect(temp[0]).toMatch(new RegExp(`^\\.big\\.bin\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
    removePendingTempFiles();
    expect(await readdir(folder)).toEqual([]);
    release();
    // The write then fails (its file is gone) without leaving anything.
    await expect(write).rejects.toThrow(QuantError);
    expect(await readdir(folder)).toEqual([]);
  });
});

describe('checkWrites', () => {
  const refusal = async (run: Promise<unknown>) => {
    const error = await run.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(QuantError.is(error), String(error)).toBe(true);
    return error as QuantError;
  };

  it('compares by identity: the same file by another path, a symlink or a hard link is refused', async () => {
    const input = join(folder, 'in.onnx');
    await writeFile(input, 'model');
    await mkdir(join(folder, 'sub'));
    await symlink(input, join(folder, 'sym.onnx'));
    await link(input, join(folder, 'hard.onnx'));
    const reads = [{ role: 'input model', path: input }];
    for (const path of [
      join(folder, 'sub', '..', 'in.onnx'),
      join(folder, 'sym.onnx'),
      join(folder, 'hard.onnx'),
    ]) {
      const error = await refusal(checkWrites(reads, [{ role: 'output', path }], { force: true }));
      expect(error.code).toBe('OUTPUT_CONFLICT');
      expect(error.message).toBe(
        `output "${path}" would replace the input model "${input}", which this run reads; choose another path`,
      );
    }
    expect(await readFile(input, 'utf8')).toBe('model');
  });

  it('refuses two writes to one file, an existing file without force, a folder and a missing folder', async () => {
    await writeFile(join(folder, 'old.json'), 'x');
    const out = join(folder, 'out.onnx');
    expect(
      (
        await refusal(
          checkWrites(
            [],
            [
              { role: 'output', path: out },
              { role: 'report', path: out },
            ],
            {},
          ),
        )
      ).message,
    ).toBe(`report and output are the same file "${out}"`);
    const existing = await refusal(checkWrites([], [{ role: 'report', path: join(folder, 'old.json') }], {}));
    expect([existing.code, existing.message]).toEqual([
      'OUTPUT_CONFLICT',
      `report "${join(folder, 'old.json')}" already exists; pass force: true to replace it`,
    ]);
    await checkWrites([], [{ role: 'report', path: join(folder, 'old.json') }], { force: true });
    expect((await refusal(checkWrites([], [{ role: 'output', path: folder }], { force: true }))).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      (await refusal(checkWrites([], [{ role: 'output', path: join(folder, 'no', 'x.onnx') }], {}))).code,
    ).toBe('IO_ERROR');
    // A dangling link is something with that name: replaced only with force.
    await symlink(join(folder, 'nowhere'), join(folder, 'dangling.onnx'));
    expect(
      (await refusal(checkWrites([], [{ role: 'output', path: join(folder, 'dangling.onnx') }], {}))).code,
    ).toBe('OUTPUT_CONFLICT');
  });
});
