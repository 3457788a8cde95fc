import { createTensor } from '@quantkit/core';
import { createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import { describe, expect, it } from 'vitest';
import { resolveRecipe } from './resolve-recipe.js';
import { PROVENANCE_KEYS, readProvenance, writeProvenance } from './provenance.js';
import { QUANTKIT_VERSION } from './version.js';

function smallModel() {
  return createModel({
    opset: 13,
    inputs: [['x', 'float32', [1, 2]]],
    outputs: [['y', 'float32', [1, 2]]],
    initializers: { w: createTensor('float32', [2, 2], new Float32Array(4)) },
    nodes: [{ name: 'mm', opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
  });
}

describe('readProvenance', () => {
  it('reads back what writeProvenance wrote, through an encoded file', () => {
    const model = smallModel();
    const recipe = resolveRecipe({ mode: 'weight-only', bits: 4, granularity: 'block', blockSize: 32 });
    writeProvenance(model, recipe, 'wasm', 'ab12');
    const provenance = readProvenance(decodeModel(encodeModel(model)));
    // JSON drops the recipe's undefined fields; everything else comes back as written.
    expect(provenance?.recipe).toEqual(JSON.parse(JSON.stringify(recipe)));
    expect(provenance).toMatchObject({
      version: QUANTKIT_VERSION,
      mode: 'weight-only',
      target: 'wasm',
      calibrationHash: 'ab12',
    });
    expect(Object.keys(provenance!.entries).sort()).toEqual(Object.values(PROVENANCE_KEYS).sort());
    expect(provenance!.entries[PROVENANCE_KEYS.recipe]).toEqual(provenance!.recipe);
  });

  it('leaves out the calibration hash of a run without calibration data', () => {
    const model = smallModel();
    writeProvenance(model, resolveRecipe({ mode: 'dynamic' }), 'x86-vnni', undefined);
    expect(readProvenance(model)?.calibrationHash).toBeUndefined();
    expect(readProvenance(model)?.mode).toBe('dynamic');
  });

  it('is undefined for a model quantkit did not write, and reads malformed entries as missing', () => {
    const model = smallModel();
    model.metadata.set('author', 'someone');
    expect(readProvenance(model)).toBeUndefined();
    model.metadata.set(PROVENANCE_KEYS.recipe, 'not json');
    model.metadata.set('QuantKit.note', '{"a":1}');
    expect(readProvenance(model)).toEqual({
      version: undefined,
      recipe: undefined,
      mode: undefined,
      target: undefined,
      calibrationHash: undefined,
      entries: { [PROVENANCE_KEYS.recipe]: 'not json', 'QuantKit.note': { a: 1 } },
    });
    model.metadata.set(PROVENANCE_KEYS.recipe, '[1, 2]');
    expect(readProvenance(model)?.recipe).toBeUndefined();
  });
});
