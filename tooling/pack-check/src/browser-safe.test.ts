// core, onnx, the quantizers, calibration, report and quantize must run in a browser: their main entries may not
// reach Node built-ins. Bundling each for the browser proves no import of one remains; running the quantize bundle
// in a fresh V8 context with no `process`, `require` or `Buffer` proves it works without them.
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const browserPackages = [
  'core',
  'onnx',
  'quantizer-linear',
  'quantizer-float',
  'quantizer-binary',
  'quantizer-log',
  'calibration',
  'targets',
  'report',
  'quantize',
  'runtime',
];

async function bundle(contents: string, from = 'packages/quantize') {
  const result = await build({
    stdin: { contents, resolveDir: join(root, from), loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

describe('browser-safe main entries', () => {
  it.each(browserPackages)('@quantkit/%s bundles for the browser with no Node built-in', async (name) => {
    const entry = join(root, 'packages', name, 'dist/index.js');
    const code = await bundle(`export * from ${JSON.stringify(entry)};`);
    expect(code).not.toMatch(/require\(["'](node:)?(fs|path|os|crypto|child_process|worker_threads)["']\)/);
  });

  it('quantizes a model inside a context that has no Node globals', async () => {
    const code = await bundle(`
      import { createTensor } from '@quantkit/core';
      import { createModel, encodeModel, decodeModel } from '@quantkit/onnx';
      import { quantizeModel } from '@quantkit/quantize';
      const weight = createTensor('float32', [8, 4], Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)));
      const model = createModel({
        opset: 13,
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4] }],
        initializers: { w: weight },
        nodes: [{ name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['y'], attributes: new Map() }],
      });
      globalThis.result = quantizeModel(encodeModel(model), { mode: 'weight-only' }).then((r) => {
        const out = decodeModel(r.bytes);
        return { nodes: out.graph.nodes.map((n) => n.opType), dtypes: [...out.graph.initializers.values()].map((t) => t.dtype) };
      });
    `);
    const context: Record<string, unknown> = { console, TextEncoder, TextDecoder };
    runInNewContext(code, context);
    expect(context.process).toBeUndefined();
    const result = (await context.result) as { nodes: string[]; dtypes: string[] };
    expect(result.nodes).toEqual(['DequantizeLinear', 'MatMul']);
    expect(result.dtypes).toContain('int8');
  });

  it("runs a model on quantkit's runtime inside a context that has no Node globals", async () => {
    const code = await bundle(
      `
      import { createRegistry, createTensor } from '@quantkit/core';
      import { createModel } from '@quantkit/onnx';
      import { builtinRuntimePlugins, createRuntime } from '@quantkit/runtime';
      const model = createModel({
        opset: 13,
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
        initializers: { w: createTensor('float32', [2, 2], Float32Array.of(1, 2, 3, 4)) },
        nodes: [
          { name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['h'], attributes: new Map() },
          { name: 'relu', opType: 'Relu', domain: '', inputs: ['h'], outputs: ['y'], attributes: new Map() },
        ],
      });
      globalThis.result = createRuntime(createRegistry(builtinRuntimePlugins))
        .load(model)
        .then((session) => session.run({ x: createTensor('float32', [1, 2], Float32Array.of(1, 0.5)) }))
        .then((outputs) => Array.from(outputs.y.data));
    `,
      'packages/runtime',
    );
    const context: Record<string, unknown> = { console, TextEncoder, TextDecoder };
    runInNewContext(code, context);
    expect(context.process).toBeUndefined();
    expect(await context.result).toEqual([2.5, 4]);
  });
});
