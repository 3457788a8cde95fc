import { describe, expect, it } from 'vitest';
import { checkModel } from './check-model.js';
import { formatIssues } from './format-issues.js';
import { wasmTarget } from './profiles/wasm.js';
import { integerOpModel } from './test-models.js';

describe('formatIssues', () => {
  it('prints one line per issue with severity, rule, message and fix', () => {
    const issues = checkModel(integerOpModel('ConvInteger', 'int8', 'int8'), wasmTarget);
    const lines = formatIssues(issues).split('\n');
    expect(lines).toHaveLength(issues.length);
    expect(lines[0]).toMatch(
      /^error \[ort-integer-kernels\] ConvInteger "integer_op" multiplies int8 x int8; .*\. Fix: store/,
    );
  });

  it('keeps multi-line messages on one line and says when there is nothing', () => {
    const text = formatIssues([{ severity: 'warning', rule: 'r', message: 'a\nb.', fix: 'c' }]);
    expect(text).toBe('warning [r] a b. Fix: c');
    expect(formatIssues([])).toBe('no compatibility issues');
  });
});

describe('formatIssues with fix parts', () => {
  it('words the options of a fix in the API by default, and as the names given', () => {
    const issue = {
      severity: 'error' as const,
      rule: 'weight-types',
      message: 'Conv "c" has asymmetric weights',
      fix: 're-quantize with target "x86-vnni" symmetric: true',
      fixParts: [
        're-quantize with ',
        { option: 'target', value: 'x86-vnni' },
        ' ',
        { option: 'symmetric', value: true },
      ],
    };
    expect(formatIssues([issue])).toBe(
      'error [weight-types] Conv "c" has asymmetric weights. Fix: re-quantize with target "x86-vnni" symmetric: true',
    );
    const flags = {
      option: ({ option, value }: { option: string; value?: unknown }) =>
        typeof value === 'boolean' ? `--${option}` : `--${option} ${value}`,
      file: ({ file }: { file: string }) => file,
    };
    expect(formatIssues([issue], flags)).toBe(
      'error [weight-types] Conv "c" has asymmetric weights. Fix: re-quantize with --target x86-vnni --symmetric',
    );
  });
});
