// Each published package must work on its own: `pnpm pack` gives a tarball with dist, types and real version
// ranges, and npm installs those tarballs into an empty project outside the workspace where they import and run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const packages = [
  'core',
  'onnx',
  'quantizer-linear',
  'quantizer-float',
  'quantizer-binary',
  'quantizer-log',
  'calibration',
  'targets',
  'executor-ort',
  'report',
  'quantize',
  'runtime',
];
const work = mkdtempSync(join(tmpdir(), 'quantkit-pack-'));
const tarballs: Record<string, string> = {};

// pnpm is on PATH when the suite runs under pnpm; otherwise fetch the pinned version through npx.
function pnpm(args: string[], cwd: string): void {
  try {
    execFileSync('pnpm', args, { cwd, stdio: 'pipe' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    execFileSync('npx', ['--yes', 'pnpm@12.4.2', ...args], { cwd, stdio: 'pipe' });
  }
}

function manifestOf(tarball: string): Record<string, unknown> {
  const json = execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' });
  return JSON.parse(json) as Record<string, unknown>;
}

beforeAll(() => {
  for (const name of packages) {
    const dir = join(root, 'packages', name);
    const out = join(work, 'tarballs');
    pnpm(['pack', '--pack-destination', out], dir);
    const file = readdirSync(out).find((f) => f.startsWith(`quantkit-${name}-`));
    if (file === undefined) throw new Error(`pnpm pack wrote no tarball for ${name}`);
    tarballs[name] = join(out, file);
  }
  const project = join(work, 'project');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...Object.values(tarballs)],
    {
      cwd: project,
      stdio: 'pipe',
    },
  );
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('published packages', () => {
  it.each(packages)('%s packs dist, types and real dependency ranges', (name) => {
    const manifest = manifestOf(tarballs[name]!);
    const files = execFileSync('tar', ['-tzf', tarballs[name]!], { encoding: 'utf8' }).split('\n');
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files.some((f) => f.startsWith('package/src/'))).toBe(false);
    const ranges = { ...(manifest.dependencies as object), ...(manifest.peerDependencies as object) };
    for (const range of Object.values(ranges) as string[]) expect(range).not.toMatch(/workspace:|catalog:/);
  });

  it('imports and quantizes a model in a project outside the workspace', () => {
    const script = `
      import { createTensor, createRegistry } from '@quantkit/core';
      import { createModel, encodeModel, decodeModel } from '@quantkit/onnx';
      import { linearQuantizer } from '@quantkit/quantizer-linear';
      import { quantizeModel } from '@quantkit/quantize';
      const weight = createTensor('float32', [4, 3], Float32Array.from({ length: 12 }, (_, i) => i / 10 - 0.5));
      const model = createModel({
        opset: 13,
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1, 3] }],
        initializers: { w: weight },
        nodes: [{ name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['y'], attributes: new Map() }],
      });
      const result = await quantizeModel(encodeModel(model), { mode: 'weight-only', registry: undefined });
      const out = decodeModel(result.bytes);
      const codes = [...out.graph.initializers.values()].find((t) => t.dtype === 'int8');
      createRegistry([linearQuantizer]);
      console.log(JSON.stringify({ int8: codes !== undefined, nodes: out.graph.nodes.map((n) => n.opType) }));
    `;
    const project = join(work, 'project');
    writeFileSync(join(project, 'check.mjs'), script);
    const output = execFileSync(process.execPath, ['check.mjs'], { cwd: project, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ int8: true, nodes: ['DequantizeLinear', 'MatMul'] });
    const installed = JSON.parse(
      readFileSync(join(project, 'node_modules/@quantkit/quantize/package.json'), 'utf8'),
    );
    expect(installed.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
