import { type TargetPlugin, createRegistry, dtypeInfo, validatePlugin } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { builtinTargets } from './builtin-targets.js';
import { COMPUTE_OPS } from './quant-nodes.js';
import { targetTypePairs } from './target-types.js';

const names = builtinTargets.map((target) => target.name);

describe('builtinTargets', () => {
  it('holds the six profiles, each a valid target plugin, registrable together', () => {
    expect(names).toEqual(['x86-vnni', 'x86-avx2', 'arm64', 'gpu-tensorrt', 'hisilicon-log', 'wasm']);
    for (const target of builtinTargets) expect(validatePlugin(target, target.name)).toBe(target);
    const registry = createRegistry([...builtinTargets]);
    expect(registry.list('target').map((t) => t.name)).toEqual(names);
  });

  describe.each(builtinTargets.map((target) => [target.name, target] as const))('%s', (_, target: TargetPlugin) => {
    it('has consistent type data', () => {
      const pairs = targetTypePairs(target);
      // The preferred pair comes first, so the planner and the checker agree.
      expect(pairs[0]).toEqual({ activation: target.activation.dtype, weight: target.weight.dtype });
      expect(new Set(pairs.map((p) => `${p.activation}x${p.weight}`)).size).toBe(pairs.length);
      const bits = target.activation.bits ?? 8;
      expect(bits).toBeLessThanOrEqual(dtypeInfo(target.activation.dtype).bits);
      if (bits > 8) expect(target.precisions).toContain('int16-activation');
      // reduce_range is a remedy for signed 8-bit weights on u8 x s8 kernels only.
      if (target.weight.reduceRange) {
        expect(target.weight.dtype).toBe('int8');
        expect(target.activation.dtype).toBe('uint8');
      }
      // Strict targets (no zero points) must plan symmetric codes.
      if (target.strict) {
        expect(target.activation.symmetric).toBe(true);
        expect(target.weight.symmetric).toBe(true);
      }
    });

    it('symmetric codes use a signed type (zero point 0) or an unsigned type with zero point in the middle', () => {
      for (const side of [target.activation, target.weight]) {
        if (!side.symmetric) continue;
        const info = dtypeInfo(side.dtype);
        // Either signed, or unsigned with an even number of codes so 2^(bits-1) is the middle.
        expect(info.isSigned || (info.max + 1) % 2 === 0).toBe(true);
      }
    });

    it('has formats, quantized compute ops and well-formed optional fields', () => {
      expect(target.formats.length).toBeGreaterThan(0);
      expect(new Set(target.formats).size).toBe(target.formats.length);
      for (const op of COMPUTE_OPS) expect(target.quantizedOps).toContain(op);
      expect(new Set(target.quantizedOps).size).toBe(target.quantizedOps.length);
      expect(target.description?.length ?? 0).toBeGreaterThan(10);
      if (target.qdqPerConsumer) expect(target.formats).toContain('qdq');
      if (target.method === 'log') expect(target.formats).not.toContain('qdq');
      if (target.minOpset !== undefined) expect(target.minOpset).toBeGreaterThanOrEqual(10);
      // Per-channel Q/DQ without the com.microsoft forms needs opset 13.
      if (target.strict && target.formats.includes('qdq') && target.weight.perChannel) {
        expect(target.minOpset).toBeGreaterThanOrEqual(13);
      }
      expect(new Set(target.kernels ?? []).size).toBe((target.kernels ?? []).length);
    });
  });

  it('names the expected pairs from the issue', () => {
    const byName = Object.fromEntries(builtinTargets.map((t) => [t.name, t]));
    expect(byName['x86-vnni']!.weight).toEqual({ dtype: 'int8', symmetric: true, perChannel: true, reduceRange: false });
    expect(byName['x86-avx2']!.weight.reduceRange).toBe(true);
    expect(targetTypePairs(byName['arm64']!)).toContainEqual({ activation: 'int8', weight: 'int8' });
    expect(byName['gpu-tensorrt']!.activation).toMatchObject({ dtype: 'int8', symmetric: true });
    expect(byName['gpu-tensorrt']!.qdqPerConsumer).toBe(true);
    expect(byName['hisilicon-log']!.method).toBe('log');
    expect(byName['wasm']!.formats[0]).toBe('qdq');
  });
});
