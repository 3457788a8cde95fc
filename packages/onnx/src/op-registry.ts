import { QuantError } from '@quantkit/core';
import { normalizeDomain } from './domain.js';
import type { Node } from './graph-node.js';
import { BUILTIN_OP_DESCRIPTORS, type OpDescriptor } from './op-descriptors.js';

/** Operator descriptors looked up by op type and domain ('' and 'ai.onnx' are the same domain). */
export interface OpRegistry {
  /** The descriptor of an op type in a domain (default ''), or undefined for an op quantkit knows nothing of. */
  get(opType: string, domain?: string): OpDescriptor | undefined;
  /** The descriptor of a node's operator. */
  of(node: Node): OpDescriptor | undefined;
  /** Every descriptor, in registration order. */
  readonly descriptors: readonly OpDescriptor[];
}

const key = (domain: string, opType: string) => `${normalizeDomain(domain)}:${opType}`;

/**
 * Builds a registry from descriptors; a user's own ops join by passing them along with the built-ins.
 *
 * @example
 * const ops = createOpRegistry([...BUILTIN_OP_DESCRIPTORS, myOp]);
 * ops.of(node)?.staticRole;
 * @throws QuantError INVALID_ARGUMENT when two descriptors name the same op type and domain.
 */
export function createOpRegistry(descriptors: readonly OpDescriptor[]): OpRegistry {
  const byKey = new Map<string, OpDescriptor>();
  for (const descriptor of descriptors) {
    const id = key(descriptor.domain, descriptor.opType);
    if (byKey.has(id)) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        `op "${descriptor.opType}" of domain "${descriptor.domain || 'ai.onnx'}" is described twice`,
      );
    }
    byKey.set(id, descriptor);
  }
  return {
    get: (opType, domain = '') => byKey.get(key(domain, opType)),
    of: (node) => byKey.get(key(node.domain, node.opType)),
    descriptors: [...descriptors],
  };
}

/** The built-in operator knowledge. */
export const BUILTIN_OPS: OpRegistry = createOpRegistry(BUILTIN_OP_DESCRIPTORS);

/**
 * The axis of a weight's output channels (for one scale per channel), or undefined when the op has no weight
 * there or the weight has no such axis (rank below 2, a grouped ConvTranspose).
 */
export function weightChannelAxis(
  descriptor: OpDescriptor | undefined,
  node: Node,
  shape: readonly number[],
): number | undefined {
  if (descriptor?.weight === undefined || shape.length < 2) return undefined;
  return descriptor.weight.axis(node, shape);
}
