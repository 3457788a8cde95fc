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
  cases: readonly ConformanceCase[] = allCases,
): void {
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
    for (const testCase of cases) {
      const covered = implemented.has(`${testCase.domain ?? ''}:${testCase.opType}`);
      it.skipIf(!covered)(testCase.name, async () => {
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
