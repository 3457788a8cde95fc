import { type TargetPlugin, renderMessage } from '@quantkit/core';
import type { Model } from '@quantkit/onnx';
import { builtinRules } from './builtin-rules.js';
import { type CompatibilityIssue, type CompatibilityRule, createRuleContext } from './compatibility-rule.js';

export interface CheckModelOptions {
  /** Rules to run (default builtinRules). */
  readonly rules?: readonly CompatibilityRule[];
}

/**
 * Checks a (quantized) model against a target: every op, type and format the target cannot run is an error,
 * what it runs poorly a warning; each issue names the node and the fix. Errors come first, then warnings, each
 * in rule order and graph order. The model is not changed.
 *
 * @example
 * const issues = checkModel(model, wasmTarget);
 * if (issues.some((issue) => issue.severity === 'error')) throw new Error(formatIssues(issues));
 */
export function checkModel(
  model: Model,
  target: TargetPlugin,
  options: CheckModelOptions = {},
): CompatibilityIssue[] {
  const context = createRuleContext(model, target);
  const issues: CompatibilityIssue[] = [];
  for (const rule of options.rules ?? builtinRules) {
    for (const { fix, ...finding } of rule.check(context)) {
      issues.push(
        typeof fix === 'string'
          ? { ...finding, fix, rule: rule.name }
          : { ...finding, fix: renderMessage(fix), fixParts: fix, rule: rule.name },
      );
    }
  }
  // Array.prototype.sort is stable, so rule and graph order survive within each severity.
  return issues.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
}
