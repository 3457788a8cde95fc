import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { makeTempDir, runCli } from '../testing/cli-harness.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
afterEach(async () => cleanup());

const QUANTIZER_SOURCE = (name: string) => `
export const plugins = [{
  kind: 'quantizer',
  name: '${name}',
  apiVersion: 1,
  description: 'a test quantizer',
  capabilities: { bits: [2], granularities: ['tensor'], symmetric: [true], activations: false },
  quantizeWeight() { throw new Error('not used by this test'); },
}];
`;

describe('quantkit plugins', () => {
  it('lists the built-ins by kind, with API versions', async () => {
    const run = await runCli(['plugins']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^quantizer plugins:/m);
    expect(run.stdout).toMatch(/^\s+linear\s+api v1/m);
    expect(run.stdout).toMatch(/^observer plugins:/m);
    expect(run.stdout).toMatch(/^executor plugins:/m);
  });

  it('prints one JSON object with --json', async () => {
    const run = await runCli(['plugins', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const parsed = JSON.parse(run.stdout);
    expect(parsed.ok).toBe(true);
    const names = parsed.plugins.map(
      (plugin: { kind: string; name: string }) => `${plugin.kind}:${plugin.name}`,
    );
    expect(names).toContain('quantizer:linear');
    expect(names).toContain('observer:minmax');
    for (const plugin of parsed.plugins) {
      expect(plugin).toEqual({
        kind: expect.any(String),
        name: expect.any(String),
        apiVersion: 1,
        description: expect.any(String),
        source: 'built-in',
      });
    }
  });

  it('adds plugins from --plugin files and packages, naming where they came from', async () => {
    await writeFile(join(dir, 'ternary.mjs'), QUANTIZER_SOURCE('ternary'));
    const pkg = join(dir, 'node_modules', 'quantkit-plugin-demo');
    await mkdir(pkg, { recursive: true });
    await writeFile(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: 'quantkit-plugin-demo',
        type: 'module',
        exports: { '.': { import: './main.js' } },
      }),
    );
    await writeFile(
      join(pkg, 'main.js'),
      QUANTIZER_SOURCE('demo').replace('export const plugins =', 'export default'),
    );
    const run = await runCli(
      ['plugins', '--plugin', './ternary.mjs', '--plugin', 'quantkit-plugin-demo', '--json'],
      {
        cwd: dir,
      },
    );
    expect(run.stderr).toBe('');
    const added = JSON.parse(run.stdout).plugins.filter(
      (plugin: { source: string }) => plugin.source !== 'built-in',
    );
    expect(added).toEqual([
      {
        kind: 'quantizer',
        name: 'ternary',
        apiVersion: 1,
        description: 'a test quantizer',
        source: './ternary.mjs',
      },
      {
        kind: 'quantizer',
        name: 'demo',
        apiVersion: 1,
        description: 'a test quantizer',
        source: 'quantkit-plugin-demo',
      },
    ]);
  });

  it.each([
    ['missing.mjs', null, /--plugin missing\.mjs: no such file/],
    ['not-a-plugin.mjs', 'export const answer = 42;', /--plugin not-a-plugin\.mjs: exports no plugin/],
    ['broken.mjs', 'export default {', /--plugin broken\.mjs: failed to load/],
    [
      'old.mjs',
      "export default { kind: 'observer', name: 'x', apiVersion: 0, create() {} };",
      /--plugin old\.mjs \("x"\).*API version 0/,
    ],
    [
      'no-method.mjs',
      "export default { kind: 'observer', name: 'x', apiVersion: 1 };",
      /without a create\(\) method/,
    ],
    ['clash.mjs', QUANTIZER_SOURCE('linear'), /two quantizer plugins are named "linear"/],
  ])('refuses --plugin %s with one line and exit 9', async (file, source, pattern) => {
    if (source !== null) await writeFile(join(dir, file), source);
    const run = await runCli(['plugins', '--plugin', file], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.PLUGIN_INVALID);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
  });

  it('lets quantize use a quantizer loaded with --plugin by name', async () => {
    await writeFile(join(dir, 'ternary.mjs'), QUANTIZER_SOURCE('ternary'));
    // The name resolves (no PLUGIN_NOT_FOUND); the run then fails on the missing model, which proves the lookup passed.
    const run = await runCli(
      [
        'quantize',
        'none.onnx',
        '-o',
        'o.onnx',
        '--mode',
        'dynamic',
        '--plugin',
        './ternary.mjs',
        '--quantizer',
        'ternary',
      ],
      {
        cwd: dir,
      },
    );
    expect(run.code, run.stderr).toBe(EXIT_CODES.NOT_FOUND);
    expect(run.stderr).toMatch(/none\.onnx/);
  });
});
