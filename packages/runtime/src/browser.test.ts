// The runtime in headless Chromium (Debian's, as .ci/run installs it): the package bundled for the browser runs a
// model there on its WebAssembly SIMD and JS kernels, its outputs match onnxruntime-node's on the same inputs, and
// every built-in backend starts in a real browser.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { createModel, encodeModel } from '@quantkit/onnx';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { randomFloat } from './conformance/random-tensors.js';

const CHROMIUM = '/usr/bin/chromium';
const here = fileURLToPath(new URL('.', import.meta.url));

/** The page's entry: runs a model on the runtime with every built-in plugin and reports what happened. */
const PAGE_ENTRY = `
  import { createRegistry } from '@quantkit/core';
  import { builtinRuntimePlugins, createRuntime } from ${JSON.stringify(join(here, 'index.ts'))};
  window.runModel = async (modelBytes, feeds) => {
    const runtime = createRuntime(createRegistry(builtinRuntimePlugins));
    const session = await runtime.load(new Uint8Array(modelBytes));
    const tensors = Object.fromEntries(
      Object.entries(feeds).map(([name, { shape, data }]) => [name, { dtype: 'float32', shape, data: Float32Array.from(data) }]),
    );
    const outputs = await session.run(tensors);
    return {
      outputs: Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { shape: t.shape, data: Array.from(t.data) }])),
      backends: (await runtime.backends()).map(({ name, available, reason }) => ({ name, available, reason })),
      assignments: session.assignments().map(({ node, backend }) => ({ node, backend })),
    };
  };
`;

const mlp = createModel({
  opset: 13,
  nodes: [
    { opType: 'MatMul', name: 'fc1', inputs: ['x', 'w1'], outputs: ['h'] },
    { opType: 'Add', name: 'bias1', inputs: ['h', 'b1'], outputs: ['hb'] },
    { opType: 'Relu', name: 'relu1', inputs: ['hb'], outputs: ['r'] },
    { opType: 'MatMul', name: 'fc2', inputs: ['r', 'w2'], outputs: ['y'] },
  ],
  inputs: [['x', 'float32', [3, 24]]],
  outputs: [['y', 'float32', [3, 10]]],
  initializers: { w1: randomFloat([24, 40], 1), b1: randomFloat([40], 2), w2: randomFloat([40, 10], 3) },
});

describe('runtime in Chromium', () => {
  it('runs a model in the browser as onnxruntime-node does', { timeout: 60_000 }, async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: this test needs Debian's Chromium (apt-get install -y chromium)`,
      );
    }
    const bundled = await build({
      stdin: { contents: PAGE_ENTRY, resolveDir: here, loader: 'ts' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    const bytes = encodeModel(mlp);
    const x = randomFloat([3, 24], 4);
    const session = await createOrtNodeExecutor().createSession(bytes);
    const expected = (await session.run({ x }))['y']!;
    await session.dispose();

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await page.addScriptTag({ content: bundled.outputFiles[0]!.text });
      const result = await page.evaluate(
        ([model, input]) =>
          (window as unknown as { runModel: (m: number[], f: unknown) => Promise<unknown> }).runModel(model, {
            x: input,
          }),
        [Array.from(bytes), { shape: x.shape, data: Array.from(x.data) }] as const,
      );
      const { outputs, backends, assignments } = result as {
        outputs: Record<string, { shape: number[]; data: number[] }>;
        backends: { name: string; available: boolean; reason?: string }[];
        assignments: { node: string; backend: string }[];
      };
      expect(errors).toEqual([]);
      expect(backends.map(({ name, available }) => ({ name, available }))).toEqual([
        { name: 'wasm-simd', available: true },
        { name: 'js', available: true },
      ]);
      expect(assignments).toEqual([
        { node: 'fc1', backend: 'wasm-simd' },
        { node: 'bias1', backend: 'js' },
        { node: 'relu1', backend: 'js' },
        { node: 'fc2', backend: 'wasm-simd' },
      ]);
      expect(outputs['y']!.shape).toEqual([3, 10]);
      const worst = Math.max(
        ...outputs['y']!.data.map((value, i) => Math.abs(value - Number(expected.data[i]))),
      );
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await browser.close();
    }
  });
});
