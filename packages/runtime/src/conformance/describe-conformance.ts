import type { Plugin } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { allCases } from './all-cases.js';
import type { ConformanceCase } from './conformance-case.js';
import { runBoth, tensorMismatch } from './run-both.js';

/**
 * The shared conformance suite: every case runs in onnxruntime-node and in the runtime built from `plugins`, and
 * every output must agree within the case's tolerance. Each backend runs it with its own kernels registered (over
 * the JS ones, so ops it lacks still run); `backend` names the backend whose kernels the suite is about, and a case
 * whose op that backend implements must have run on it, unless its kernel said why not (declined the node when
 * planning, or its inputs at run time, when the next kernel ran them).
 */
export function describeConformance(
  backend: string,
  plugins: readonly Plugin[],
  options: {
    readonly cases?: readonly ConformanceCase[];
    /**
     * Ops ('domain:OpType', or 'domain:*' for a whole domain) whose kernels are tested elsewhere, each with where: ops with subgraphs (If, Loop) and
     * ops onnxruntime cannot run (ai.quantkit), which a one-node case against onnxruntime cannot check.
     */
    readonly testedElsewhere?: Readonly<Record<string, string>>;
  } = {},
): void {
  const cases = options.cases ?? allCases;
  const elsewhere = new Set(Object.keys(options.testedElsewhere ?? {}));
  const names = new Set<string>();
  for (const testCase of cases) {
    if (names.has(testCase.name)) throw new Error(`two conformance cases are named "${testCase.name}"`);
    names.add(testCase.name);
  }
  const implemented = new Set(
    plugins.flatMap((plugin) =>
      plugin.kind === 'kernel' && plugin.backend === backend ? [`${plugin.domain}:${plugin.opType}`] : [],
    ),
  );
  describe(`conformance of the ${backend} backend against onnxruntime-node`, () => {
    // Only the cases of ops the backend implements: the others would run on the JS kernels the JS suite covers.
    const covered = cases.filter((testCase) =>
      implemented.has(`${testCase.domain ?? ''}:${testCase.opType}`),
    );
    it('covers the ops the backend implements', () => {
      const ops = new Set(covered.map((testCase) => `${testCase.domain ?? ''}:${testCase.opType}`));
      const missing = [...implemented].filter(
        (op) => !ops.has(op) && !elsewhere.has(op) && !elsewhere.has(`${op.split(':')[0]}:*`),
      );
      expect(missing.sort(), 'ops without a conformance case').toEqual([]);
    });
    for (const testCase of covered) {
      it(testCase.name, async () => {
        const { expected, actual, assignments } = await runBoth(testCase, plugins);
        // The backend's kernel ran the node, or said why not: declined it when planning, or its inputs at run time.
        const [assignment] = assignments;
        const ownKernel = `${backend}/`;
        const explained =
          assignment!.backend === backend
            ? assignment!.fellBack === undefined || assignment!.fellBack.reason.startsWith(ownKernel)
            : assignment!.declined.some((reason) => reason.startsWith(ownKernel));
        expect(explained, JSON.stringify(assignment)).toBe(true);
        expect(actual).toHaveLength(expected.length);
        for (const [index, tensor] of expected.entries()) {
          expect(
            tensorMismatch(actual[index]!, tensor, testCase.tolerance),
            `output ${index}`,
          ).toBeUndefined();
        }
      });
    }
  });
}
