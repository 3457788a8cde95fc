import { API_VERSION, type Plugin, QuantError, createRegistry } from '@quantkit/core';
import { createModel } from '@quantkit/onnx';
import { describe, expect, it } from 'vitest';
import { builtinRuntimePlugins, jsRuntimePlugins } from './builtins.js';
import { jsKernel } from './js/backend.js';
import { createRuntime } from './runtime.js';
import { randomFloat } from './conformance/random-tensors.js';

const chain = () =>
  createModel({
    nodes: [
      { opType: 'Relu', inputs: ['x'], outputs: ['r'] },
      { opType: 'Add', inputs: ['r', 'bias'], outputs: ['a'] },
      { opType: 'Neg', inputs: ['a'], outputs: ['y'] },
      { opType: 'Exp', inputs: ['x'], outputs: ['e'] },
    ],
    inputs: [['x', 'float32', [2, 3]]],
    outputs: [['y'], ['e']],
    initializers: { bias: { dtype: 'float32', shape: [3], data: Float32Array.of(1, 2, 3) } },
  });

async function errorOf(promise: Promise<unknown>): Promise<QuantError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof QuantError)) throw new Error(`expected a QuantError, got ${String(error)}`);
  return error;
}

describe('createRuntime', () => {
  it('runs a graph in dependency order and computes only what is fetched', async () => {
    const counted = new Map<string, number>();
    const counting = (plugins: readonly Plugin[]) =>
      plugins.map((plugin) =>
        plugin.kind !== 'kernel'
          ? plugin
          : {
              ...plugin,
              run: (state: unknown, inputs: never, context: never) => {
                counted.set(plugin.opType, (counted.get(plugin.opType) ?? 0) + 1);
                return plugin.run(state, inputs, context);
              },
            },
      );
    const session = await createRuntime(createRegistry(counting(builtinRuntimePlugins))).load(chain());
    const x = randomFloat([2, 3], 7);
    const all = await session.run({ x });
    const y = all['y']!.data as Float32Array;
    for (let i = 0; i < 6; i++) expect(y[i]).toBeCloseTo(-(Math.max(0, x.data[i]!) + [1, 2, 3][i % 3]!), 6);
    counted.clear();
    const only = await session.run({ x }, ['e']);
    expect(Object.keys(only)).toEqual(['e']);
    expect([...counted.keys()]).toEqual(['Exp']);
  });

  it('names the node and the op when no kernel runs it', async () => {
    const model = createModel({
      nodes: [{ opType: 'Frobnicate', name: 'f1', inputs: ['x'], outputs: ['y'] }],
      inputs: [['x', 'float32', [1]]],
      outputs: [['y']],
    });
    const error = await errorOf(createRuntime(createRegistry(builtinRuntimePlugins)).load(model));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toBe(
      'Frobnicate node "f1" (outputs "y"): the runtime has no kernel for op Frobnicate',
    );
  });

  it('reports every node no kernel runs in one error, grouped by op', async () => {
    const model = createModel({
      nodes: [
        { opType: 'Frobnicate', name: 'f1', inputs: ['x'], outputs: ['a'] },
        { opType: 'Relu', name: 'r', inputs: ['a'], outputs: ['b'] },
        { opType: 'Frobnicate', name: 'f2', inputs: ['b'], outputs: ['c'] },
        { opType: 'Twiddle', name: 't', inputs: ['c'], outputs: ['y'] },
      ],
      inputs: [['x', 'float32', [1]]],
      outputs: [['y']],
    });
    const error = await errorOf(createRuntime(createRegistry(builtinRuntimePlugins)).load(model));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toBe(
      '3 nodes cannot run: Frobnicate node "f1" (outputs "a"): the runtime has no kernel for op Frobnicate ' +
        '(and 1 more Frobnicate nodes); Twiddle node "t" (outputs "y"): the runtime has no kernel for op Twiddle',
    );
  });

  it('prefers the kernel of the higher-priority backend, and falls back when that backend fails to start', async () => {
    const fast = (init: () => Promise<unknown>): Plugin[] => [
      { kind: 'backend', name: 'fast', apiVersion: API_VERSION, priority: 10, init } as Plugin,
      { ...jsKernel('Neg', { run: (_, [x]) => [x!] }), name: 'fast/Neg', backend: 'fast' } as Plugin,
    ];
    const model = createModel({
      nodes: [{ opType: 'Neg', inputs: ['x'], outputs: ['y'] }],
      inputs: [['x', 'float32', [1]]],
      outputs: [['y']],
    });
    let starts = 0;
    const working = createRuntime(
      createRegistry([...jsRuntimePlugins, ...fast(async () => void (starts += 1))]),
    );
    expect((await working.load(model)).assignments()[0]!.backend).toBe('fast');
    await working.load(model);
    expect(starts).toBe(1);

    let attempts = 0;
    const broken = createRuntime(
      createRegistry([
        ...jsRuntimePlugins,
        ...fast(async () => {
          attempts += 1;
          throw new Error('no SIMD here');
        }),
      ]),
    );
    expect((await broken.load(model)).assignments()[0]!.backend).toBe('js');
    await broken.load(model);
    expect(attempts).toBe(1);
    const statuses = await broken.backends();
    expect(statuses.map((status) => [status.name, status.available])).toEqual([
      ['fast', false],
      ['js', true],
    ]);
    expect(statuses[0]).toMatchObject({ reason: 'no SIMD here' });
  });

  it('runs inputs a kernel declines at run time on the next kernel, and says so', async () => {
    const picky: Plugin[] = [
      {
        kind: 'backend',
        name: 'fast',
        apiVersion: API_VERSION,
        priority: 10,
        init: async () => undefined,
      } as Plugin,
      {
        ...jsKernel('Neg', {
          run: (_, [x]) => {
            if (x!.shape.length !== 1) throw new QuantError('UNSUPPORTED', 'this kernel takes 1-D inputs');
            return [{ ...x!, data: (x!.data as Float32Array).map((v) => -v) }];
          },
        }),
        name: 'fast/Neg',
        backend: 'fast',
      } as Plugin,
    ];
    const model = createModel({
      nodes: [{ opType: 'Neg', name: 'n', inputs: ['x'], outputs: ['y'] }],
      inputs: [['x', 'float32']],
      outputs: [['y']],
    });
    const session = await createRuntime(createRegistry([...jsRuntimePlugins, ...picky])).load(model);
    const flat = await session.run({ x: randomFloat([4], 1) });
    expect(session.assignments()[0]).toEqual({
      node: 'n',
      opType: 'Neg',
      kernel: 'fast/Neg',
      backend: 'fast',
      declined: [],
    });
    const square = randomFloat([2, 2], 2);
    const result = await session.run({ x: square });
    expect(Array.from(result['y']!.data as Float32Array)).toEqual(Array.from(square.data, (v) => -v));
    expect(session.assignments()[0]!.fellBack).toEqual({
      kernel: 'js/Neg',
      reason: 'fast/Neg: this kernel takes 1-D inputs',
    });
    expect(flat['y']!.shape).toEqual([4]);
  });

  it('refuses two kernels of one op on one backend, naming both', () => {
    const twin = { ...jsKernel('Relu', { run: (_, [x]) => [x!] }), name: 'mine/Relu' } as Plugin;
    expect(() => createRuntime(createRegistry([...builtinRuntimePlugins, twin]))).toThrowError(
      'kernels "js/Relu" and "mine/Relu" both run Relu on backend "js"; leave one out of the registry, or give ' +
        'yours a backend of its own with a higher priority',
    );
  });

  it('refuses feeds that do not fit the model, naming the input', async () => {
    const session = await createRuntime(createRegistry(builtinRuntimePlugins)).load(chain());
    expect((await errorOf(session.run({}))).message).toBe('model input "x" has no feed');
    expect((await errorOf(session.run({ x: randomFloat([3, 2], 1) }))).message).toBe(
      'feed "x" has shape [3, 2]; the model expects [2, 3]',
    );
    expect((await errorOf(session.run({ x: randomFloat([2, 3], 1), z: randomFloat([1], 1) }))).message).toBe(
      'feed "z" is not an input of the model (inputs: x)',
    );
  });

  it('names the node when its kernel fails at run time', async () => {
    const model = createModel({
      nodes: [{ opType: 'Add', name: 'add1', inputs: ['x', 'y'], outputs: ['z'] }],
      inputs: [
        ['x', 'float32'],
        ['y', 'float32'],
      ],
      outputs: [['z']],
    });
    const session = await createRuntime(createRegistry(builtinRuntimePlugins)).load(model);
    const error = await errorOf(session.run({ x: randomFloat([2, 3], 1), y: randomFloat([4], 2) }));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toBe(
      'Add node "add1" (outputs "z"): shapes [2, 3] and [4] do not broadcast (kernel js/Add)',
    );
  });

  it('names the node when its kernel refuses it while planning', async () => {
    const model = createModel({
      nodes: [
        {
          opType: 'Reshape',
          name: 'bad',
          inputs: ['x', 'shape'],
          outputs: ['y'],
          attributes: { allowzero: 'yes' },
        },
      ],
      inputs: [['x', 'float32', [2, 3]]],
      outputs: [['y']],
      initializers: { shape: { dtype: 'int64', shape: [1], data: BigInt64Array.of(6n) } },
    });
    const error = await errorOf(createRuntime(createRegistry(builtinRuntimePlugins)).load(model));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toBe(
      'Reshape node "bad" (outputs "y") has attribute "allowzero" of type string; expected int (kernel js/Reshape)',
    );
  });

  it('refuses a graph with a cycle', async () => {
    const model = createModel({
      nodes: [
        { opType: 'Relu', name: 'a', inputs: ['q'], outputs: ['p'] },
        { opType: 'Relu', name: 'b', inputs: ['p'], outputs: ['q'] },
      ],
      inputs: [['x', 'float32', [1]]],
      outputs: [['q']],
    });
    const error = await errorOf(createRuntime(createRegistry(builtinRuntimePlugins)).load(model));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toMatch(/has a cycle through Relu node "a"/);
  });
});
