import type { NodeCase, Tolerance } from './run-both.js';

/** One conformance case: a node, its inputs, and how close the runtime must come to onnxruntime-node. */
export interface ConformanceCase extends NodeCase {
  /** Unique within the suite; says what the case covers ('Conv depthwise 3x3 stride 2 pads 1'). */
  readonly name: string;
  /** Default: 1e-5 absolute + 1e-5 relative for float outputs; integer outputs must match exactly. */
  readonly tolerance?: Tolerance;
}
