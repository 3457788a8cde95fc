// Shared by the tests of this package (not exported): the test kit's helpers, with runs that take a Model.
import type { Tensor } from '@quantkit/core';
import { encodeModel, type Model } from '@quantkit/onnx';
import { type OrtFeeds, type OrtOutput, runOrt as runEncoded } from '@quantkit/test-kit';
import * as ort from 'onnxruntime-node';

export { floatTensor, seededFloats, sqnr } from '@quantkit/test-kit';

export type OrtOutputs = Record<string, OrtOutput>;

/** Runs a model (or its bytes) in onnxruntime-node on one thread and returns its outputs. */
export function runOrt(model: Model | Uint8Array, feeds: OrtFeeds): Promise<OrtOutputs> {
  return runEncoded(model instanceof Uint8Array ? model : encodeModel(model), feeds, { threads: 1 });
}

/** A float32 onnxruntime feed. */
export function feed(tensor: Tensor<'float32'>): ort.Tensor {
  return new ort.Tensor('float32', tensor.data, [...tensor.shape]);
}
