import type { CompatibilityIssue } from './compatibility-rule.js';

/**
 * One line per issue: `error [rule] message. Fix: fix`, or 'no compatibility issues' for none.
 *
 * @example
 * console.log(formatIssues(checkModel(model, target)));
 * // error [ort-integer-kernels] ConvInteger "conv1" multiplies uint8 x int8; ... Fix: store the weight as uint8 ...
 */
export function formatIssues(issues: readonly CompatibilityIssue[]): string {
  if (issues.length === 0) return 'no compatibility issues';
  return issues
    .map((issue) => {
      const message = issue.message.endsWith('.') ? issue.message : `${issue.message}.`;
      return `${issue.severity} [${issue.rule}] ${message} Fix: ${issue.fix}`.replace(/\s*\n\s*/g, ' ');
    })
    .join('\n');
}
