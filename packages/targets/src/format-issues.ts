import { API_NAMES, type MessageNames, type MessagePart, renderMessage } from '@quantkit/core';
import type { CompatibilityIssue } from './compatibility-rule.js';

/**
 * One line per issue: `error [rule] message. Fix: fix`, or 'no compatibility issues' for none.
 *
 * @example
 * console.log(formatIssues(checkModel(model, target)));
 * // error [ort-integer-kernels] ConvInteger "conv1" multiplies uint8 x int8; ... Fix: store the weight as uint8 ...
 */
export function formatIssues(issues: readonly CompatibilityIssue[], names: MessageNames = API_NAMES): string {
  return renderMessage(issueParts(issues), names);
}

/**
 * formatIssues as message parts, so an error that lists issues names their options apart (see formatIssues).
 */
export function issueParts(issues: readonly CompatibilityIssue[]): MessagePart[] {
  if (issues.length === 0) return ['no compatibility issues'];
  return issues.flatMap((issue, index) => {
    const message = issue.message.endsWith('.') ? issue.message : `${issue.message}.`;
    const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');
    const fix = (issue.fixParts ?? [issue.fix]).map((part) =>
      typeof part === 'string' ? oneLine(part) : part,
    );
    return [
      ...(index === 0 ? [] : ['\n']),
      oneLine(`${issue.severity} [${issue.rule}] ${message} Fix: `),
      ...fix,
    ];
  });
}
