import type { Node } from './graph-node.js';

/**
 * Typed attribute readers: the value when the node has the attribute with that type, else the fallback (or
 * undefined). An attribute of another type counts as absent, as onnxruntime's own readers treat it.
 *
 * @example
 * const group = intAttribute(node, 'group', 1);
 * const pads = intsAttribute(node, 'pads') ?? [0, 0, 0, 0];
 */
export function intAttribute(node: Node, name: string): number | undefined;
export function intAttribute(node: Node, name: string, fallback: number): number;
export function intAttribute(node: Node, name: string, fallback?: number): number | undefined {
  const attribute = node.attributes.get(name);
  return attribute?.type === 'int' ? attribute.value : fallback;
}

/** A float attribute's value, else the fallback (see {@link intAttribute}). */
export function floatAttribute(node: Node, name: string): number | undefined;
export function floatAttribute(node: Node, name: string, fallback: number): number;
export function floatAttribute(node: Node, name: string, fallback?: number): number | undefined {
  const attribute = node.attributes.get(name);
  return attribute?.type === 'float' ? attribute.value : fallback;
}

/** A string attribute's value, else the fallback (see {@link intAttribute}). */
export function stringAttribute(node: Node, name: string): string | undefined;
export function stringAttribute(node: Node, name: string, fallback: string): string;
export function stringAttribute(node: Node, name: string, fallback?: string): string | undefined {
  const attribute = node.attributes.get(name);
  return attribute?.type === 'string' ? attribute.value : fallback;
}

/** An ints attribute's values, else undefined (see {@link intAttribute}). */
export function intsAttribute(node: Node, name: string): number[] | undefined {
  const attribute = node.attributes.get(name);
  return attribute?.type === 'ints' ? attribute.value : undefined;
}

/** A floats attribute's values, else undefined (see {@link intAttribute}). */
export function floatsAttribute(node: Node, name: string): number[] | undefined {
  const attribute = node.attributes.get(name);
  return attribute?.type === 'floats' ? attribute.value : undefined;
}
