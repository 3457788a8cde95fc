import { describe, expect, it } from 'vitest';
import { builtinRules } from './builtin-rules.js';
import { builtinTargets } from './builtin-targets.js';
import { checkModel } from './check-model.js';
import type { CompatibilityRule } from './compatibility-rule.js';
import { gpuTensorrtTarget } from './profiles/gpu-tensorrt.js';
import { x86VnniTarget } from './profiles/x86-vnni.js';
import { qdqConvModel } from './test-models.js';

describe('checkModel', () => {
  it('passes a static u8 x s8 per-channel QDQ Conv on every onnxruntime profile', () => {
    for (const target of builtinTargets.filter((t) => t.runtime?.startsWith('onnxruntime'))) {
      expect(checkModel(qdqConvModel(), target)).toEqual([]);
    }
  });

  it('passes a symmetric s8 x s8 QDQ Conv on gpu-tensorrt', () => {
    expect(checkModel(qdqConvModel({ activation: 'int8' }), gpuTensorrtTarget)).toEqual([]);
  });

  it('fills in rule names and puts errors before warnings', () => {
    const model = qdqConvModel({ activation: 'uint8', tail: 'Softmax', extraConsumers: 1 });
    const issues = checkModel(model, gpuTensorrtTarget);
    const severities = issues.map((issue) => issue.severity);
    expect(severities).toEqual([...severities].sort());
    expect(new Set(issues.map((issue) => issue.rule))).toEqual(
      new Set(['activation-types', 'qdq-per-consumer']),
    );
  });

  it('runs custom rules and does not change the model', () => {
    const model = qdqConvModel();
    const before = model.graph.nodes.map((node) => `${node.name}:${node.inputs.join(',')}`);
    const rule: CompatibilityRule = {
      name: 'count-nodes',
      description: 'reports how many nodes there are',
      check: (context) => [{ severity: 'warning', message: `${context.nodes.length} nodes`, fix: 'none' }],
    };
    expect(checkModel(model, x86VnniTarget, { rules: [rule] })).toEqual([
      { severity: 'warning', rule: 'count-nodes', message: '7 nodes', fix: 'none' },
    ]);
    expect(model.graph.nodes.map((node) => `${node.name}:${node.inputs.join(',')}`)).toEqual(before);
  });

  it('has uniquely named rules with descriptions', () => {
    expect(new Set(builtinRules.map((rule) => rule.name)).size).toBe(builtinRules.length);
    for (const rule of builtinRules) {
      expect(rule.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.description.length).toBeGreaterThan(10);
    }
  });
});
