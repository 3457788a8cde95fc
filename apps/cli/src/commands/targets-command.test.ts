import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { builtinRules, builtinTargets } from '@quantkit/targets';
import { selectHostTarget } from '@quantkit/targets/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, runCli } from '../testing/cli-harness.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
afterEach(async () => cleanup());

/** A target plugin of a user's own: an NPU that takes what x86-vnni takes, found by name only. */
const NPU_PLUGIN = `
export default {
  kind: 'target',
  name: 'my-npu',
  apiVersion: 1,
  description: 'a test NPU',
  activation: { dtype: 'int8', symmetric: true },
  weight: { dtype: 'int8', symmetric: true, perChannel: false, reduceRange: false },
  formats: ['qdq'],
  quantizedOps: ['MatMul'],
};
`;

describe('quantkit targets', () => {
  it('lists every built-in target with its profile and marks the detected one, with --json', async () => {
    const host = await selectHostTarget();
    const run = await runCli(['targets', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.ok).toBe(true);
    expect(result.targets.map((target: { name: string }) => target.name)).toEqual(
      builtinTargets.map((target) => target.name),
    );
    const detected = result.targets.filter((target: { detected: boolean }) => target.detected);
    expect(detected.map((target: { name: string }) => target.name)).toEqual([host.target.name]);
    expect(result.host).toEqual({ name: host.target.name, reason: host.reason });
    for (const profile of builtinTargets) {
      const listed = result.targets.find((target: { name: string }) => target.name === profile.name);
      expect(listed).toMatchObject({
        description: profile.description,
        source: 'built-in',
        runtime: profile.runtime ?? null,
        activation: { dtype: profile.activation.dtype, symmetric: profile.activation.symmetric },
        weight: profile.weight,
        formats: profile.formats,
        precisions: profile.precisions ?? [],
      });
    }
    expect(result.rules).toBeUndefined();
  });

  it('adds the compatibility rules with --rules', async () => {
    const json = JSON.parse((await runCli(['targets', '--rules', '--json'])).stdout);
    expect(json.rules).toEqual(builtinRules.map((rule) => ({ name: rule.name, description: rule.description })));
    const text = await runCli(['targets', '--rules']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^compatibility rules/m);
    for (const rule of builtinRules) expect(text.stdout).toMatch(new RegExp(`^  ${rule.name} +\\S`, 'm'));
  });

  it('prints a block per target and marks this host once in text', async () => {
    const host = await selectHostTarget();
    const run = await runCli(['targets']);
    expect(run.code, run.stderr).toBe(0);
    for (const target of builtinTargets) expect(run.stdout).toMatch(new RegExp(`^${target.name}(  \\[|$)`, 'm'));
    expect(run.stdout.match(/\[.*this host.*\]/g)).toHaveLength(1);
    expect(run.stdout).toMatch(new RegExp(`^${host.target.name}  \\[this host`, 'm'));
    expect(run.stdout).toMatch(/^ {4}weights +int8 symmetric, per-channel yes, reduce-range yes$/m);
  });

  it('lists a target loaded with --plugin, which quantize and check then accept by name', async () => {
    await writeFile(join(dir, 'npu.mjs'), NPU_PLUGIN);
    const run = await runCli(['targets', '--plugin', './npu.mjs', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const npu = JSON.parse(run.stdout).targets.find((target: { name: string }) => target.name === 'my-npu');
    expect(npu).toMatchObject({ source: './npu.mjs', detected: false, activation: { dtype: 'int8', bits: 8 } });
    // The name resolves (no PLUGIN_NOT_FOUND); the run then fails on the missing model, which proves the lookup passed.
    const check = await runCli(['check', 'none.onnx', '--plugin', './npu.mjs', '--target', 'my-npu'], { cwd: dir });
    expect(check.code).toBe(5);
    expect(check.stderr).toMatch(/none\.onnx does not exist/);
  });
});
