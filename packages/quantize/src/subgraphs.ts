import type { DType } from '@quantkit/core';
import { type Graph, type Model, type Node, inferElementTypes, subgraphsOf } from '@quantkit/onnx';
import { emitDynamic } from './emit-dynamic.js';
import { type QuantizerFor, computeWeightQuantization } from './compute-quantization.js';
import { emitWeightOnly } from './emit-weight-only.js';
import { QdqEmitter } from './emitter.js';
import { foldsDequantize } from './mode-stages.js';
import { type Recipe, type WeightRange, quantizesActivations } from './options.js';
import { type NodeDecision, planQuantization } from './plan.js';

/** A decision about a node inside a subgraph: `scope` says where. */
export type ScopedDecision = NodeDecision & { readonly scope: string };

export interface SubgraphSettings {
  readonly recipe: Recipe;
  readonly opset: number;
  readonly quantizerFor: QuantizerFor;
  readonly weightRange?: WeightRange;
}

/** Every value and node name of a graph and of all graphs inside it. */
function namesIn(graph: Graph, into = new Set<string>()): Set<string> {
  for (const name of graph.allNames()) into.add(name);
  return into;
}

/**
 * Quantizes the weights of every If/Loop/Scan body (and bodies inside those) the way the main graph's were, for the
 * data-free modes: weight-only and dynamic. Static mode stores subgraph weights weight-only, since the values a
 * branch computes cannot be observed from the main graph to calibrate them. Weights the body reads from an
 * enclosing graph are stored once in the graph that holds them (dynamic mode's integer codes too), and the float
 * original stays only while something still reads it.
 *
 * @returns the decision for every node of every body, with the body it sits in.
 */
export function quantizeSubgraphs(
  model: Model,
  mainEmitter: QdqEmitter,
  settings: SubgraphSettings,
): ScopedDecision[] {
  const decisions: ScopedDecision[] = [];
  const emitters = new Map<Graph, QdqEmitter>([[model.graph, mainEmitter]]);
  const recipe: Recipe = quantizesActivations(settings.recipe.mode)
    ? { ...settings.recipe, mode: 'weight-only' }
    : settings.recipe;
  const reason = quantizesActivations(settings.recipe.mode)
    ? 'weights stored in int8 (weight-only): static Q/DQ needs ranges of branch values, which calibration of the main graph cannot observe'
    : undefined;

  const visit = (graph: Graph, scopes: readonly Graph[], types: ReadonlyMap<string, DType>, path: string) => {
    for (const node of graph.nodes) {
      const bodies = bodiesOf(node);
      for (const [label, body] of bodies) {
        const scope = `${path}${node.name}/${label}`;
        const enclosing = [...scopes, graph];
        for (const [index, inner] of body.nodes.entries()) {
          if (inner.name === '') inner.name = body.uniqueName(`${inner.opType}_${index}`);
        }
        body.reserveNames(namesIn(model.graph));
        const borrowed = borrowWeights(body, enclosing);
        const bodyTypes = inferElementTypes(body, types);
        const plan = planQuantization(body, recipe, settings.opset, false, types);
        // Fake quantization writes body weights as float behind Q -> DQ like the main graph's.
        const fakeQuant = recipe.emit === 'fake-quant';
        const emitter = new QdqEmitter({ ...model, graph: body }, settings.opset, {
          packCodes: recipe.mode === 'weight-only' && !fakeQuant,
          foldDequantize: !fakeQuant && foldsDequantize(settings.recipe, 'body'),
          fakeQuant,
        });
        const computed = computeWeightQuantization({
          plan,
          recipe,
          quantizerFor: settings.quantizerFor,
          weightRange: settings.weightRange ?? 'minmax',
          dynamic: recipe.mode === 'dynamic',
        });
        emitters.set(body, emitter);
        // A weight read from an enclosing graph is stored once, by that graph's emitter.
        const ownerOf = (name: string) => {
          const owner = borrowed.get(name);
          return owner === undefined ? undefined : emitters.get(owner);
        };
        if (recipe.mode === 'dynamic') emitDynamic(emitter, plan, recipe, computed, ownerOf);
        else if (recipe.mode === 'weight-only') emitWeightOnly(emitter, plan, recipe, computed, ownerOf);
        emitter.finish();
        // Borrowed weights go back to being read from the enclosing graph where they are still read as floats.
        for (const name of borrowed.keys()) body.initializers.delete(name);
        body.invalidate();
        for (const decision of plan.decisions) {
          decisions.push({
            ...decision,
            scope,
            ...(reason !== undefined && decision.quantized && { reason }),
          });
        }
        visit(body, enclosing, bodyTypes, `${scope}/`);
        // After the bodies inside it: they may have dequantized weights this body holds.
        body.removeUnused();
        body.topologicalSort();
      }
    }
  };
  visit(model.graph, [], inferElementTypes(model.graph), '');
  return decisions;
}

/** A node's bodies with a label each: the attribute name, indexed when the attribute holds several graphs. */
function bodiesOf(node: Node): [string, Graph][] {
  const bodies: [string, Graph][] = [];
  for (const [name, attribute] of node.attributes) {
    if (attribute.type === 'graph') bodies.push([name, attribute.value]);
    else if (attribute.type === 'graphs') {
      for (const [i, graph] of attribute.value.entries()) bodies.push([`${name}[${i}]`, graph]);
    }
  }
  return bodies;
}

/**
 * Makes the float constants of enclosing graphs (initializers and Constant nodes) that `body` reads visible as its
 * own initializers for planning (the same tensor objects, nothing copied); returns each one's name and the graph
 * that holds it, to take them back after.
 */
function borrowWeights(body: Graph, enclosing: readonly Graph[]): Map<string, Graph> {
  const borrowed = new Map<string, Graph>();
  for (const name of body.outerScopeNames()) {
    if (body.initializers.has(name)) continue;
    const owner = ownerOfName(name, enclosing);
    // An initializer, or a Constant node's value (exporters inline If branches with their weights as Constants).
    const tensor = owner?.getConstant(name);
    if (owner === undefined || tensor === undefined || tensor.dtype !== 'float32') continue;
    body.addInitializer(name, tensor);
    borrowed.set(name, owner);
  }
  return borrowed;
}

/** The nearest enclosing graph that defines a name (as an initializer, a node output or an input). */
function ownerOfName(name: string, scopes: readonly Graph[]): Graph | undefined {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i]!;
    if (scope.initializers.has(name) || scope.producer(name) !== undefined || scope.isInput(name))
      return scope;
  }
  return undefined;
}

/** Counts nodes with bodies, for callers that skip the walk when there are none. */
export function hasSubgraphs(graph: Graph): boolean {
  return graph.nodes.some((node) => subgraphsOf(node).length > 0);
}
