// The per-layer choices `quantkit auto` searches over. They all live in one weight-only model: each is a per-node
// override (quantizer, bits, granularity) or keep-float, which the weight-only planner honours node by node, 4-bit
// blocks (MatMulNBits) included. fp16 cannot be mixed that way and is not offered: floatPrecision converts every node
// that stays float at once, and quantkit has no form for one layer's weights in fp16 behind a Cast.
import { QuantError, listChoices } from '@quantkit/core';
import type { NodeOverride } from '../overrides.js';

/** A candidate's name. */
export type AutoCandidateName = 'int8' | 'int4-block' | 'int4' | 'binary' | 'log' | 'float';

/** One way a layer can be stored. */
export interface AutoCandidate {
  readonly name: AutoCandidateName;
  /** What it stores, for the report and --help. */
  readonly description: string;
  /** The per-node override that stores a layer this way (float: keep the node float). */
  readonly override: NodeOverride;
}

/** Every candidate, most faithful first. */
export const AUTO_CANDIDATES: readonly AutoCandidate[] = [
  { name: 'float', description: 'fp32 weights, the layer untouched', override: { float: true } },
  {
    name: 'int8',
    description: 'int8 weights, symmetric, one scale per output channel (DequantizeLinear)',
    override: { quantizer: 'linear', bits: 8, symmetric: true, granularity: 'channel' },
  },
  {
    name: 'int4-block',
    description:
      'int4 weights in blocks of 32 along K, a scale each (com.microsoft MatMulNBits; MatMul/Gemm, else per channel)',
    override: { quantizer: 'linear', bits: 4, symmetric: true, granularity: 'block' },
  },
  {
    name: 'log',
    description: 'power-of-two codes, 4 bits (sign + exponent) per weight, one scale per channel',
    override: { quantizer: 'log', bits: 4, granularity: 'channel' },
  },
  {
    name: 'int4',
    description: 'int4 weights, symmetric, one scale per output channel, two codes per byte',
    override: { quantizer: 'linear', bits: 4, symmetric: true, granularity: 'channel' },
  },
  {
    name: 'binary',
    description: 'sign(W) x alpha per output channel (XNOR-Net), eight codes per byte',
    override: { quantizer: 'binary', bits: 1, granularity: 'channel' },
  },
];

/** The candidate names, in AUTO_CANDIDATES order. */
export const AUTO_CANDIDATE_NAMES: readonly AutoCandidateName[] = AUTO_CANDIDATES.map(
  (candidate) => candidate.name,
);

/** Why the formats `quantkit auto` does not mix per layer are left out (the report and --help say it). */
export const UNMIXED_FORMATS =
  'fp16 is not mixed per layer: floatPrecision is a whole-model setting in quantkit (every node left float ' +
  'converts at once), so it is not a candidate';

/**
 * The candidates named, in AUTO_CANDIDATES order; 'float' is always among them (the search starts from it).
 *
 * @example autoCandidates(['int8', 'int4']).map((c) => c.name) // ['float', 'int8', 'int4']
 * @throws QuantError INVALID_ARGUMENT for a name that is not a candidate, listing the candidates.
 */
export function autoCandidates(names?: readonly string[]): AutoCandidate[] {
  if (names === undefined) return [...AUTO_CANDIDATES];
  for (const name of names) {
    if (!(AUTO_CANDIDATE_NAMES as readonly string[]).includes(name)) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        [{ option: 'candidates' }, ` has "${name}"; expected ${listChoices(AUTO_CANDIDATE_NAMES)}`],
        { details: { option: 'candidates', value: name, allowed: AUTO_CANDIDATE_NAMES } },
      );
    }
  }
  return AUTO_CANDIDATES.filter((candidate) => candidate.name === 'float' || names.includes(candidate.name));
}
