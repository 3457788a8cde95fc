import { describe, expect, it } from 'vitest';
import {
  floatAttribute,
  floatsAttribute,
  intAttribute,
  intsAttribute,
  stringAttribute,
} from './attributes.js';
import { createNode } from './model-builder.js';

const node = createNode({
  opType: 'Conv',
  inputs: ['x', 'w'],
  outputs: ['y'],
  attributes: {
    group: 2,
    alpha: { type: 'float', value: 1 },
    auto_pad: 'SAME_UPPER',
    pads: [1, 1, 1, 1],
    scales: [0.5, 2.5],
  },
});

describe('attribute readers', () => {
  it('read an attribute of the right type', () => {
    expect(intAttribute(node, 'group')).toBe(2);
    expect(floatAttribute(node, 'alpha', 0)).toBe(1);
    expect(stringAttribute(node, 'auto_pad')).toBe('SAME_UPPER');
    expect(intsAttribute(node, 'pads')).toEqual([1, 1, 1, 1]);
    expect(floatsAttribute(node, 'scales')).toEqual([0.5, 2.5]);
  });

  it('give the fallback for a missing attribute or one of another type', () => {
    expect(intAttribute(node, 'strides')).toBeUndefined();
    expect(intAttribute(node, 'strides', 1)).toBe(1);
    // A whole-number float is not an int, and an int is not a float.
    expect(intAttribute(node, 'alpha', 7)).toBe(7);
    expect(floatAttribute(node, 'group', 0.25)).toBe(0.25);
    expect(stringAttribute(node, 'group', 'NOTSET')).toBe('NOTSET');
    expect(intsAttribute(node, 'scales')).toBeUndefined();
    expect(floatsAttribute(node, 'pads')).toBeUndefined();
  });
});
