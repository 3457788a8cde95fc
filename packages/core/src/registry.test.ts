import { describe, expect, it } from 'vitest';
import { API_VERSION, type ObserverPlugin, type QuantizerPlugin } from './plugins.js';
import { createRegistry, validatePlugin } from './registry.js';
import { quantErrorOf } from './testing/index.js';

function quantizer(name: string): QuantizerPlugin {
  return {
    kind: 'quantizer',
    name,
    apiVersion: API_VERSION,
    capabilities: { bits: [8], granularities: ['tensor'], symmetric: [true], activations: false },
    quantizeWeight() {
      throw new Error('not called');
    },
  };
}

function observer(name: string): ObserverPlugin {
  return {
    kind: 'observer',
    name,
    apiVersion: API_VERSION,
    create() {
      throw new Error('not called');
    },
  };
}

describe('createRegistry', () => {
  const linear = quantizer('linear');
  const pow2 = quantizer('pow2');
  const minMax = observer('min-max');

  it('gets, finds and lists plugins by kind and name', () => {
    const registry = createRegistry([linear, pow2, minMax]);
    expect(registry.get('quantizer', 'pow2')).toBe(pow2);
    expect(registry.find('quantizer', 'linear')).toBe(linear);
    expect(registry.find('quantizer', 'min-max')).toBeUndefined();
    expect(registry.find('observer', 'min-max')).toBe(minMax);
    expect(registry.list('quantizer')).toEqual([linear, pow2]);
    expect(registry.list('kernel')).toEqual([]);
    expect(registry.plugins).toEqual([linear, pow2, minMax]);
    expect(createRegistry().plugins).toEqual([]);
  });

  it('PLUGIN_NOT_FOUND lists the names of that kind', () => {
    const registry = createRegistry([linear, pow2, minMax]);
    const error = quantErrorOf(() => registry.get('quantizer', 'ternary'));
    expect(error.code).toBe('PLUGIN_NOT_FOUND');
    expect(error.message).toBe('no quantizer plugin named "ternary"; expected "linear" or "pow2"');
    expect(error.details).toEqual({ kind: 'quantizer', name: 'ternary', available: ['linear', 'pow2'] });
    expect(quantErrorOf(() => registry.get('kernel', 'gemm')).message).toBe(
      'no kernel plugin named "gemm"; none is registered',
    );
  });

  it('extend returns a new registry and leaves the old one alone', () => {
    const base = createRegistry([linear]);
    const extended = base.extend([minMax, pow2]);
    expect(extended.get('quantizer', 'pow2')).toBe(pow2);
    expect(base.find('quantizer', 'pow2')).toBeUndefined();
    expect(quantErrorOf(() => base.extend([quantizer('linear')])).code).toBe('PLUGIN_CONFLICT');
  });

  it('PLUGIN_CONFLICT for two values of one kind and name; the same value twice and equal names across kinds are fine', () => {
    const error = quantErrorOf(() => createRegistry([linear, quantizer('linear')]));
    expect(error.code).toBe('PLUGIN_CONFLICT');
    expect(error.message).toContain('two quantizer plugins are named "linear"');
    expect(createRegistry([linear, linear]).list('quantizer')).toHaveLength(1);
    expect(createRegistry([linear, observer('linear')]).plugins).toHaveLength(2);
  });

  it('PLUGIN_INVALID for a wrong apiVersion, a missing method, a wrong kind, a missing name or a non-object', () => {
    const cases: [unknown, RegExp][] = [
      [
        { ...linear, apiVersion: 2 },
        /\("linear"\) was written for plugin API version 2, but this quantkit speaks version 1/,
      ],
      [{ ...linear, apiVersion: undefined }, /version undefined/],
      [
        { ...linear, quantizeWeight: undefined },
        /\("linear"\) is a quantizer without a quantizeWeight\(\) method/,
      ],
      [{ ...minMax, create: 'yes' }, /is a observer without a create\(\) method/],
      [
        { ...linear, kind: 'quantiser' },
        /has kind "quantiser"; expected "quantizer", "observer", "target", "kernel", "backend" or "executor"/,
      ],
      [{ ...linear, name: '' }, /has no name/],
      [null, /is not a plugin object \(got null\)/],
      [() => linear, /is not a plugin object \(got function\)/],
    ];
    for (const [value, message] of cases) {
      const error = quantErrorOf(() => createRegistry([value]));
      expect(error.code).toBe('PLUGIN_INVALID');
      expect(error.message).toMatch(message);
    }
  });

  it('validatePlugin names the source in its message', () => {
    const error = quantErrorOf(() => validatePlugin({ ...linear, apiVersion: 0 }, './my-plugin.js'));
    expect(error.message).toMatch(/^\.\/my-plugin\.js \("linear"\)/);
    expect(validatePlugin(linear)).toBe(linear);
  });
});
