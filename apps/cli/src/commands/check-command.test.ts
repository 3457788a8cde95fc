import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTensor } from '@quantkit/core';
import { createModel, encodeModel } from '@quantkit/onnx';
import { builtinTargets } from '@quantkit/targets';
import { selectHostTarget } from '@quantkit/targets/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { listDir, makeTempDir, runCli } from '../testing/cli-harness.js';
import { mlpModelBytes } from '../testing/test-models.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
afterEach(async () => cleanup());

/**
 * x (int8) -> ConvInteger "conv_s8" with an int8 weight -> y (int32). onnxruntime's ConvInteger takes uint8 x uint8
 * only, so neither onnxruntime-web nor the CPU build can load this model.
 */
async function writeInt8ConvInteger(file: string): Promise<void> {
  const model = createModel({
    opset: 17,
    inputs: [['x', 'int8', [1, 1, 4, 4]]],
    outputs: [['y', 'int32', [1, 2, 3, 3]]],
    initializers: { w: createTensor('int8', [2, 1, 2, 2], Int8Array.from([1, -2, 3, -4, 5, -6, 7, -8])) },
    nodes: [{ name: 'conv_s8', opType: 'ConvInteger', inputs: ['x', 'w'], outputs: ['y'] }],
  });
  await writeFile(join(dir, file), encodeModel(model));
}

describe('quantkit check', () => {
  it('refuses a model onnxruntime-node refuses at optimization level all, with its message', async () => {
    // DequantizeLinear has no axis attribute before opset 13; static rules alone passed this model before.
    const model = createModel({
      opset: 11,
      inputs: [['x', 'float32', [1, 4]]],
      outputs: [['y', 'float32', [1, 4]]],
      initializers: {
        q: createTensor('uint8', [4], Uint8Array.of(1, 2, 3, 4)),
        s: createTensor('float32', [4], Float32Array.of(1, 1, 1, 1)),
      },
      nodes: [
        { name: 'dq', opType: 'DequantizeLinear', inputs: ['q', 's'], outputs: ['w'], attributes: { axis: 0 } },
        { name: 'add', opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] },
      ],
    });
    await writeFile(join(dir, 'refused.onnx'), encodeModel(model));
    const run = await runCli(['check', 'refused.onnx', '--target', 'x86-avx2'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.UNSUPPORTED);
    expect(run.stdout).toMatch(/^error \[runtime-load\] ort-node \(graph optimization level all\) refuses the model: /m);
    const rulesOnly = await runCli(['check', 'refused.onnx', '--target', 'x86-avx2', '--no-runtime'], { cwd: dir });
    expect(rulesOnly.stdout).not.toMatch(/runtime-load/);
  });

  it('refuses a quantized model whose output goes non-finite on random inputs', async () => {
    // Q/DQ onto a uint8 grid from 0 then Log: every input at or below half a step becomes log(0) = -inf.
    const model = createModel({
      opset: 13,
      inputs: [['x', 'float32', [1, 16]]],
      outputs: [['y', 'float32', [1, 16]]],
      initializers: {
        s: createTensor('float32', [], Float32Array.of(0.01)),
        z: createTensor('uint8', [], Uint8Array.of(0)),
      },
      nodes: [
        { name: 'q', opType: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['xq'] },
        { name: 'dq', opType: 'DequantizeLinear', inputs: ['xq', 's', 'z'], outputs: ['xd'] },
        { name: 'log', opType: 'Log', inputs: ['xd'], outputs: ['y'] },
      ],
    });
    await writeFile(join(dir, 'inf.onnx'), encodeModel(model));
    const run = await runCli(['check', 'inf.onnx', '--target', 'x86-avx2'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.UNSUPPORTED);
    expect(run.stdout).toMatch(/^error \[runtime-finite\] output "y" holds NaN or infinity when ort-node runs/m);
  });

  it('fails a model with an int8 x int8 ConvInteger for wasm, naming the node and the fix', async () => {
    await writeInt8ConvInteger('conv.onnx');
    const run = await runCli(['check', 'conv.onnx', '--target', 'wasm'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.UNSUPPORTED);
    const issues = run.stdout.trimEnd().split('\n');
    expect(issues.length).toBeGreaterThan(0);
    const kernel = issues.find((line) => line.startsWith('error [ort-integer-kernels]'));
    expect(kernel).toMatch(/"conv_s8".*int8 x int8.* Fix: .*uint8/);
    // One line on stderr, as for every failure, with the counts.
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^quantkit: error: conv\.onnx does not fit target wasm \(named with --target\): \d+ errors?, /);
    expect(await listDir(dir)).toEqual(['conv.onnx']);
  });

  it('prints { ok: false, target, issues } as its only output with --json', async () => {
    await writeInt8ConvInteger('conv.onnx');
    const run = await runCli(['check', 'conv.onnx', '--target', 'wasm', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.UNSUPPORTED);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      ok: false,
      command: 'check',
      target: { name: 'wasm', detected: false },
      error: { code: 'UNSUPPORTED' },
    });
    expect(result.issues).toContainEqual(
      expect.objectContaining({ severity: 'error', rule: 'ort-integer-kernels', node: 'conv_s8' }),
    );
    expect(result.errors).toBe(result.issues.filter((issue: { severity: string }) => issue.severity === 'error').length);
  });

  it('passes a float model on the detected target (the default) and says which one', async () => {
    await writeFile(join(dir, 'mlp.onnx'), mlpModelBytes());
    const host = await selectHostTarget();
    const run = await runCli(['check', 'mlp.onnx', '--json'], { cwd: dir });
    expect(run.code, run.stdout).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      target: { name: host.target.name, detected: true, reason: host.reason },
      errors: 0,
    });
    const text = await runCli(['check', 'mlp.onnx'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^mlp\\.onnx fits target ${host.target.name} \\(detected: `, 'm'));
  });

  it.each([
    [['check', 'mlp.onnx', '--target', 'nope'], EXIT_CODES.PLUGIN_NOT_FOUND, /--target must be "auto", .*got "nope"/],
    [['check', 'missing.onnx', '--target', 'wasm'], EXIT_CODES.NOT_FOUND, /missing\.onnx does not exist/],
  ])('%o fails with one line', async (args, code, pattern) => {
    await writeFile(join(dir, 'mlp.onnx'), mlpModelBytes());
    const run = await runCli(args, { cwd: dir });
    expect(run.code, run.stderr).toBe(code);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
    if (code === EXIT_CODES.PLUGIN_NOT_FOUND) {
      for (const target of builtinTargets) expect(run.stderr).toContain(`"${target.name}"`);
    }
  });
});
