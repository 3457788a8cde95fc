import { expect } from 'vitest';
import { type NodeCase, type Tolerance, runBoth, tensorMismatch } from './ort-conformance.js';

/** Runs a one-node case in onnxruntime-node and in the runtime, and expects every output to agree. */
export async function expectSameAsOrt(spec: NodeCase, tolerance: Tolerance = {}): Promise<void> {
  const { expected, actual } = await runBoth(spec);
  expect(actual).toHaveLength(expected.length);
  for (const [index, tensor] of expected.entries()) {
    expect(tensorMismatch(actual[index]!, tensor, tolerance), `output ${index}`).toBeUndefined();
  }
}
