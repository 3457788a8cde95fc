import { QuantError } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { createNode } from './model-builder.js';
import { BUILTIN_OP_DESCRIPTORS } from './op-descriptors.js';
import { BUILTIN_OPS, createOpRegistry, weightChannelAxis } from './op-registry.js';

describe('op registry', () => {
  it('finds a default-domain op however the domain is spelled, and custom ops only in their domain', () => {
    const conv = BUILTIN_OPS.get('Conv');
    expect(conv?.staticRole).toBe('compute');
    expect(
      BUILTIN_OPS.of(createNode({ opType: 'Conv', domain: 'ai.onnx', inputs: [], outputs: ['y'] })),
    ).toBe(conv);
    expect(BUILTIN_OPS.get('Conv', 'com.example')).toBeUndefined();
    expect(BUILTIN_OPS.get('MatMulNBits')).toBeUndefined();
    expect(BUILTIN_OPS.get('MatMulNBits', 'com.microsoft')?.quantizedForm).toBe(true);
  });

  it('refuses two descriptors of one op', () => {
    const relu = BUILTIN_OPS.get('Relu')!;
    expect(() => createOpRegistry([relu, { ...relu, domain: 'ai.onnx' }])).toThrow(QuantError);
    expect(() => createOpRegistry([relu, { ...relu, domain: 'ai.onnx' }])).toThrow(/Relu.*described twice/);
  });

  it('a user op joins the built-ins', () => {
    const ops = createOpRegistry([
      ...BUILTIN_OP_DESCRIPTORS,
      { opType: 'FusedConv', domain: 'com.example', dataInputs: [0, 1], staticRole: 'compute' },
    ]);
    expect(ops.get('FusedConv', 'com.example')?.staticRole).toBe('compute');
    expect(ops.get('Conv')).toBe(BUILTIN_OPS.get('Conv'));
  });

  it.each([
    ['Conv', {}, [8, 4, 3, 3], 0],
    ['ConvTranspose', {}, [4, 8, 3, 3], 1],
    ['ConvTranspose', { group: 2 }, [4, 4, 3, 3], undefined],
    ['Gemm', {}, [16, 8], 1],
    ['Gemm', { transB: 1 }, [8, 16], 0],
    ['MatMul', {}, [2, 16, 8], 2],
    ['MatMul', {}, [16], undefined],
    ['Gather', {}, [1000, 64], 0],
    ['LSTM', {}, [1, 64, 16], 1],
    ['LSTM', {}, [64, 16], 0],
    ['Relu', {}, [4, 4], undefined],
  ] as const)('%s %j with weight %j has its channels on axis %s', (opType, attributes, shape, axis) => {
    const node = createNode({ opType, inputs: ['x', 'w'], outputs: ['y'], attributes });
    expect(weightChannelAxis(BUILTIN_OPS.of(node), node, shape)).toBe(axis);
  });

  it('Pow needs a positive base only when its exponent may be negative', () => {
    const pow = BUILTIN_OPS.get('Pow')!;
    const node = createNode({ opType: 'Pow', inputs: ['x', 'e'], outputs: ['y'] });
    expect(pow.positiveInputs?.(node, () => [2])).toEqual([]);
    expect(pow.positiveInputs?.(node, () => [0.5, -1])).toEqual([0]);
    expect(pow.positiveInputs?.(node, () => undefined)).toEqual([0]);
  });

  it('Resize shares its input parameters except in cubic mode', () => {
    const resize = BUILTIN_OPS.get('Resize')!;
    const node = (mode?: string) =>
      createNode({ opType: 'Resize', inputs: ['x'], outputs: ['y'], attributes: mode ? { mode } : {} });
    expect(resize.sharesParams?.(node())).toBe(true);
    expect(resize.sharesParams?.(node('linear'))).toBe(true);
    expect(resize.sharesParams?.(node('cubic'))).toBe(false);
  });
});
