import { QuantError } from '@quantkit/core';
import { encodeModel } from '@quantkit/onnx';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { optionsFromRecipe } from './recipe-options.js';
import { mlpModel } from './test-models.js';

describe('optionsFromRecipe', () => {
  const input = encodeModel(mlpModel(5, 32).model);

  it('turns a recorded recipe back into options that write the same model', async () => {
    const first = await quantizeModel(input, {
      mode: 'weight-only',
      bits: 4,
      overrides: { nodes: { Gemm_y: { bits: 8 } } },
      keepFloat: [{ node: 'Gemm_h1', reason: 'a test keeps it float' }],
    });
    const recipe = JSON.parse(JSON.stringify(first.summary.recipe));
    const again = await quantizeModel(input, optionsFromRecipe(recipe, 'r.json'));
    expect(again.summary.recipe).toEqual(first.summary.recipe);
    expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true);
  });

  it('names the file and the field at fault', () => {
    const error = (value: unknown) => {
      try {
        optionsFromRecipe(value, 'r.json');
      } catch (caught) {
        expect(QuantError.is(caught)).toBe(true);
        return (caught as Error).message;
      }
      throw new Error('expected a QuantError');
    };
    expect(error([])).toMatch(/recipe file "?r\.json"?.*must be a JSON object/);
    expect(error({ mode: 'static', bitz: 4 })).toMatch(/unknown field "bitz"/);
    expect(error({ bits: 4 })).toMatch(/needs "mode"/);
    expect(error({ mode: 'static', keepFloat: [{ node: 1 }] })).toMatch(/"keepFloat" must be a list/);
    expect(error({ mode: 'static', overrides: { nodes: { a: { bits: 99 } } } })).toMatch(
      /bits must be an integer/,
    );
  });
});
