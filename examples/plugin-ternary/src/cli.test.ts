// The example used from the command line: the built `quantkit` CLI loads it with --plugin, and refuses plugins
// that fail to load or speak another API version with a one-line error naming them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_CODES } from '@quantkit/cli';
import { API_VERSION } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { decodeModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceDequantized } from './testing/reference-ternarize.js';
import { mlpModel, seededRandom, simulate, uniformTensor } from './testing/test-models.js';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(exampleDir, '../..');
const cliBin = join(repoRoot, 'apps/cli/dist/bin.js');
const example = mlpModel();
let workDir = '';

function quantkit(args: string[]) {
  const run = spawnSync(process.execPath, [cliBin, ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(() => {
  for (const built of [cliBin, join(exampleDir, 'dist/index.js')]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` at the repository root first`);
  }
  workDir = mkdtempSync(join(tmpdir(), 'quantkit-ternary-'));
  writeFileSync(join(workDir, 'model.onnx'), encodeModel(example.model));
});

afterAll(() => {
  if (workDir !== '') rmSync(workDir, { recursive: true, force: true });
});

/** Runs the CLI's output in onnxruntime-node and compares it with the float simulation of TWN weights. */
async function expectTernaryModel(path: string): Promise<void> {
  const bytes = readFileSync(path);
  const model = decodeModel(bytes);
  expect(model.graph.nodes.filter((node) => node.opType === 'DequantizeLinear')).toHaveLength(example.weights.length);
  const dequantized: Record<string, Float32Array> = {};
  for (const site of example.weights) {
    const weight = example.model.graph.initializers.get(site.name)!;
    dequantized[site.name] = referenceDequantized(weight.data as Float32Array, weight.shape, site.axis);
  }
  const input = uniformTensor(example.inputShape, seededRandom(7)).data;
  const session = await createOrtExecutor(ort).createSession(bytes);
  try {
    const outputs = await session.run({ [example.input]: { dtype: 'float32', shape: example.inputShape, data: input } });
    const actual = outputs[example.output]!.data as Float32Array;
    const expected = simulate(example, input, dequantized);
    const scale = Math.max(...Array.from(expected, Math.abs));
    expected.forEach((value, i) => {
      expect(Math.abs(actual[i]! - value)).toBeLessThanOrEqual(1e-5 * scale);
    });
  } finally {
    await session.dispose();
  }
}

describe('quantkit --plugin with the ternary example', () => {
  it.each([
    ['the example folder', './examples/plugin-ternary'],
    ['its built entry file', './examples/plugin-ternary/dist/index.js'],
  ])('quantizes weight-only with --plugin pointing at %s', async (_label, spec) => {
    const output = join(workDir, `out-${spec.length}.onnx`);
    const run = quantkit([
      'quantize',
      join(workDir, 'model.onnx'),
      '-o',
      output,
      '--mode',
      'weight-only',
      '--bits',
      '2',
      '--plugin',
      spec,
      '--quantizer',
      'ternary',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/ternary/);
    await expectTernaryModel(output);
  });

  it('lists the plugin with its source in `quantkit plugins`', () => {
    const run = quantkit(['plugins', '--plugin', './examples/plugin-ternary/dist/index.js']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/ternary\s+api v1\s+\[\.\/examples\/plugin-ternary\/dist\/index\.js\]/);
  });

  it('uses, or names, the width the quantizer takes when --bits is left out', async () => {
    const output = join(workDir, 'default-bits.onnx');
    const run = quantkit([
      'quantize',
      join(workDir, 'model.onnx'),
      '-o',
      output,
      '--mode',
      'weight-only',
      '--plugin',
      './examples/plugin-ternary/dist/index.js',
      '--quantizer',
      'ternary',
    ]);
    if (run.status === 0) {
      // The pipeline chose the quantizer's own width.
      await expectTernaryModel(output);
      return;
    }
    expect(run.status).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(run.stderr.trim()).toMatch(/quantizer "ternary" does not support bits 8 \(it takes 2\)/);
  });
});

describe('quantkit --plugin with a bad plugin', () => {
  function badPlugin(file: string, source: string): string {
    const path = join(workDir, file);
    writeFileSync(path, source);
    return path;
  }

  function expectOneLineError(path: string, detail: RegExp): void {
    const run = quantkit([
      'quantize',
      join(workDir, 'model.onnx'),
      '-o',
      join(workDir, 'never-written.onnx'),
      '--mode',
      'weight-only',
      '--plugin',
      path,
    ]);
    expect(run.status).toBe(EXIT_CODES.PLUGIN_INVALID);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(path);
    expect(lines[0]).toMatch(detail);
    expect(existsSync(join(workDir, 'never-written.onnx'))).toBe(false);
  }

  it('a module that fails to load', () => {
    const path = badPlugin('broken-plugin.mjs', "import './missing-helper.mjs';\nexport default {};\n");
    expectOneLineError(path, /failed to load: .*missing-helper\.mjs/);
  });

  it('a module that throws while it loads', () => {
    const path = badPlugin('throwing-plugin.mjs', "throw new Error('license key not set');\n");
    expectOneLineError(path, /failed to load: license key not set/);
  });

  it('a plugin written for another API version', () => {
    const path = badPlugin(
      'old-plugin.mjs',
      `export default {
  kind: 'quantizer',
  name: 'old-ternary',
  apiVersion: ${API_VERSION + 1},
  capabilities: { bits: [2], granularities: ['tensor'], symmetric: [true], activations: false },
  quantizeWeight() { throw new Error('never called'); },
};\n`,
    );
    expectOneLineError(path, new RegExp(`"old-ternary".*API version ${API_VERSION + 1}.*speaks version ${API_VERSION}`));
  });

  it('a path that does not exist', () => {
    expectOneLineError(join(workDir, 'no-such-plugin.mjs'), /no such file/);
  });
});
