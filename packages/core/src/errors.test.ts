import { describe, expect, it } from 'vitest';
import { QUANT_ERROR_CODES, QuantError, invariant, listChoices, renderMessage } from './errors.js';

describe('QuantError', () => {
  it('carries code, message, cause and details, and is an Error', () => {
    const cause = new Error('disk full');
    const error = new QuantError('IO_ERROR', 'cannot write out.onnx', {
      cause,
      details: { path: 'out.onnx' },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('QuantError');
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toBe('cannot write out.onnx');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ path: 'out.onnx' });
    expect('cause' in new QuantError('INTERNAL', 'x')).toBe(false);
  });

  it('QuantError.is filters by code', () => {
    const error = new QuantError('NOT_FOUND', 'no such file');
    expect(QuantError.is(error)).toBe(true);
    expect(QuantError.is(error, 'NOT_FOUND')).toBe(true);
    expect(QuantError.is(error, 'IO_ERROR', 'NOT_FOUND')).toBe(true);
    expect(QuantError.is(error, 'IO_ERROR')).toBe(false);
  });

  it('QuantError.is recognises an error from a duplicate copy of the package (same Symbol.for marker)', () => {
    // What a second copy of @quantkit/core would construct: a different class, the same global symbol.
    class OtherCopyQuantError extends Error {
      readonly code = 'PLUGIN_INVALID';
      constructor(message: string) {
        super(message);
        Object.defineProperty(this, Symbol.for('@quantkit/core/QuantError'), { value: true });
      }
    }
    const foreign = new OtherCopyQuantError('bad plugin');
    expect(foreign).not.toBeInstanceOf(QuantError);
    expect(QuantError.is(foreign)).toBe(true);
    expect(QuantError.is(foreign, 'PLUGIN_INVALID')).toBe(true);
    expect(QuantError.is(foreign, 'INTERNAL')).toBe(false);
  });

  it('QuantError.is rejects look-alikes without the marker', () => {
    for (const value of [
      new Error('x'),
      { code: 'INTERNAL', message: 'x' },
      null,
      undefined,
      'INTERNAL',
      42,
    ]) {
      expect(QuantError.is(value)).toBe(false);
    }
    expect(QuantError.is({ [Symbol('@quantkit/core/QuantError')]: true })).toBe(false);
  });

  it('lists every code once', () => {
    expect(new Set(QUANT_ERROR_CODES).size).toBe(QUANT_ERROR_CODES.length);
    expect(QUANT_ERROR_CODES).toContain('INVALID_ARGUMENT');
  });
});

describe('invariant', () => {
  it('throws INTERNAL only when the condition is falsy', () => {
    expect(() => invariant(1, 'fine')).not.toThrow();
    let error: unknown;
    try {
      invariant(0, 'scale count mismatch');
    } catch (caught) {
      error = caught;
    }
    expect(QuantError.is(error, 'INTERNAL')).toBe(true);
    expect((error as Error).message).toBe('scale count mismatch');
  });
});

describe('listChoices', () => {
  it('quotes and joins with commas and a final "or"', () => {
    expect(listChoices([])).toBe('');
    expect(listChoices(['a'])).toBe('"a"');
    expect(listChoices(['a', 'b'])).toBe('"a" or "b"');
    expect(listChoices(['a', 'b', 'c'])).toBe('"a", "b" or "c"');
  });
});

describe('message parts', () => {
  const parts = [
    { option: 'format', value: 'qoperator' },
    ' needs ',
    { option: 'mode', value: ['static', 'dynamic'] },
    ', ',
    { option: 'bits', value: 4 },
    ', ',
    { option: 'force', value: true },
    ' and ',
    { file: 'report', path: 'r.json' },
    ' or ',
    { file: 'output' },
  ] as const;

  it('render in the API words by default, and keep the parts on the error', () => {
    const text =
      'format "qoperator" needs mode "static" or "dynamic", bits 4, force: true and report "r.json" or output';
    expect(renderMessage(parts)).toBe(text);
    const error = new QuantError('INVALID_ARGUMENT', parts, { details: { option: 'format' } });
    expect(error.message).toBe(text);
    expect(error.parts).toEqual(parts);
    expect(new QuantError('INVALID_ARGUMENT', 'plain').parts).toBeUndefined();
  });

  it('render with other names for options and files', () => {
    const names = {
      option: ({ option }: { option: string }) => `<${option}>`,
      file: ({ file }: { file: string }) => `[${file}]`,
    };
    expect(renderMessage(parts, names)).toBe(
      '<format> needs <mode>, <bits>, <force> and [report] or [output]',
    );
  });
});
