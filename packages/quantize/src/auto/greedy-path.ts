// The search's walk from the float model to the smallest one. Each step moves one layer to a smaller candidate, the
// move that saves the most bytes per unit of output noise it adds. Per-layer noise is estimated from sensitivity:
// a layer quantized alone at SQNR s adds noise power 10^(-s/10) relative to the signal, and noises from different
// layers are taken as independent, so they add. The estimate only orders the moves; every step is then measured
// on the real model, because sensitivity is not additive.
import type { AutoCandidateName } from './auto-candidates.js';
import type { AutoAssignment } from './auto-assignment.js';

/** One candidate for one layer, as sensitivity measured it. */
export interface LayerOption {
  readonly candidate: AutoCandidateName;
  /** Bytes the layer's weights take in the file this way (float: their fp32 bytes). */
  readonly size: number;
  /** The output SQNR with only this layer quantized this way (float: Infinity). */
  readonly sqnr: number;
}

/** A weighted layer and the candidates it can take (the ones whose measurement succeeded, float among them). */
export interface LayerOptions {
  readonly layer: string;
  readonly options: readonly LayerOption[];
}

/** One point of the walk: the assignment and its estimated size (bytes of layer weights) and SQNR. */
export interface PathStep {
  readonly assignment: AutoAssignment;
  readonly estimatedWeightBytes: number;
  readonly estimatedSqnr: number;
}

/** Relative noise power of an output SQNR in dB (0 for an exact output). */
export function noiseOf(sqnr: number): number {
  return sqnr === Number.POSITIVE_INFINITY ? 0 : 10 ** (-sqnr / 10);
}

/** The SQNR in dB of a relative noise power (Infinity for none). */
export function sqnrOf(noise: number): number {
  return noise <= 0 ? Number.POSITIVE_INFINITY : -10 * Math.log10(noise);
}

/**
 * The walk from all-float to every layer at its smallest candidate, one move per step (the first step is the float
 * model). Moves that save bytes without adding noise come first; ties go to the earlier layer, then the candidate
 * listed first, so the walk is a pure function of the table.
 *
 * @example greedyPath([{ layer: 'fc', options: [float, int8] }])[1].assignment // { fc: 'int8' }
 */
export function greedyPath(layers: readonly LayerOptions[]): PathStep[] {
  const current = layers.map((layer) => layer.options.find((option) => option.candidate === 'float')!);
  const snapshot = (): PathStep => {
    const assignment: Record<string, AutoCandidateName> = {};
    for (const [index, layer] of layers.entries()) assignment[layer.layer] = current[index]!.candidate;
    return {
      assignment,
      estimatedWeightBytes: current.reduce((sum, option) => sum + option.size, 0),
      estimatedSqnr: sqnrOf(current.reduce((sum, option) => sum + noiseOf(option.sqnr), 0)),
    };
  };
  const path = [snapshot()];
  for (;;) {
    let best: { layer: number; option: LayerOption; free: boolean; score: number } | undefined;
    for (const [index, layer] of layers.entries()) {
      const now = current[index]!;
      for (const option of layer.options) {
        const saved = now.size - option.size;
        if (!(saved > 0)) continue;
        const added = noiseOf(option.sqnr) - noiseOf(now.sqnr);
        // A move that adds no noise wins outright, the one saving most among them; otherwise bytes per noise.
        const free = added <= 0;
        const score = free ? saved : saved / added;
        if (best === undefined || (free && !best.free) || (free === best.free && score > best.score)) {
          best = { layer: index, option, free, score };
        }
      }
    }
    if (best === undefined) return path;
    current[best.layer] = best.option;
    path.push(snapshot());
  }
}

/** An assignment one layer away from another, with what the noise model expects of it. */
export interface Neighbor {
  readonly assignment: AutoAssignment;
  readonly layer: string;
  /** Bytes it adds (negative: saves) over the assignment it comes from, by the sensitivity table. */
  readonly sizeDelta: number;
  /** Its expected relative noise power: the measured noise of the start, this layer's share swapped. */
  readonly estimatedNoise: number;
}

/**
 * Every assignment that differs from `start` in one layer's candidate, for the local search around the walk's best
 * measured point. The start's noise is its measured SQNR, so the estimate corrects the walk's additive guess with a
 * real figure and only models the one change.
 *
 * @example neighbors(table, { fc1: 'int8', fc2: 'int4' }, 31.5).length // layers x (candidates - 1)
 */
export function neighbors(
  layers: readonly LayerOptions[],
  start: AutoAssignment,
  measuredSqnr: number,
): Neighbor[] {
  const base = noiseOf(measuredSqnr);
  const found: Neighbor[] = [];
  for (const layer of layers) {
    const now = layer.options.find((option) => option.candidate === (start[layer.layer] ?? 'float'));
    if (now === undefined) continue;
    for (const option of layer.options) {
      if (option === now) continue;
      found.push({
        assignment: { ...start, [layer.layer]: option.candidate },
        layer: layer.layer,
        sizeDelta: option.size - now.size,
        estimatedNoise: Math.max(0, base - noiseOf(now.sqnr) + noiseOf(option.sqnr)),
      });
    }
  }
  return found;
}
