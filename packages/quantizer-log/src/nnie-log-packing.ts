import {
  type PackedWeight,
  QuantError,
  type QuantizedTensor,
  type QuantizerPacking,
  sizeOf,
} from '@quantkit/core';
import { exponentOfPowerOfTwo } from './exact-log2.js';
import {
  MAX_NNIE_FSR,
  MIN_NNIE_FSR,
  NNIE_STEPS_PER_OCTAVE,
  nnieCodeOfIndex,
  nnieLookupTable,
  nnieScale,
} from './nnie-levels.js';
import { buildNnieTensor } from './nnie-tensor-form.js';

/** PackedWeight.format of NNIE log codes. */
export const NNIE_PACKED_FORMAT = 'log-nnie';

/**
 * Packed storage of NNIE log codes (format 'log-nnie'):
 * - data: one sign-magnitude code byte per element, row-major (0x00..0x7F positive, 0x80 zero, 0x81..0xFF
 *   negative; see nnie-levels.ts);
 * - scale: [2^floor(T/16)], the scale of the Gather form;
 * - attributes: bits 8, stepsPerOctave 16, fsr T (the top level's exponent in sixteenths of an octave, so a kernel
 *   reads code m as sign * 2^((fsr - 127 + m)/16)).
 *
 * @example
 * const packed = nnieLogQuantizer.packing!.pack(quantized); // packed.data.length === element count
 * @throws QuantError INVALID_ARGUMENT from pack for a QuantizedTensor that is not an NNIE lookup form, and from
 * unpack for another format, a bad fsr, a scale that disagrees with it, or a wrong data length.
 */
export function createNnieLogPacking(quantizer = 'log-nnie'): QuantizerPacking {
  const fail = (message: string) => new QuantError('INVALID_ARGUMENT', `${quantizer} packing: ${message}`);
  return Object.freeze({
    pack(quantized: QuantizedTensor): PackedWeight {
      const { codes, params, lookup } = quantized;
      if (
        lookup === undefined ||
        codes.dtype !== 'uint8' ||
        params.granularity !== 'tensor' ||
        params.scale.length !== 1
      ) {
        throw fail('expected the per-tensor lookup form that the log-nnie quantizer produces');
      }
      const octave = exponentOfPowerOfTwo(params.scale[0]!);
      if (octave === undefined) throw fail(`scale ${params.scale[0]} is not a power of two`);
      // The table fixes T's position inside its octave: find the one of 16 that matches exactly.
      let top: number | undefined;
      for (let r = 0; r < NNIE_STEPS_PER_OCTAVE && top === undefined; r++) {
        const candidate = octave * NNIE_STEPS_PER_OCTAVE + r;
        const table = nnieLookupTable(candidate);
        if (table.length === lookup.table.length && table.every((v, i) => v === lookup.table[i]))
          top = candidate;
      }
      if (top === undefined) throw fail('the lookup table is not an NNIE level table');
      return {
        format: NNIE_PACKED_FORMAT,
        data: Uint8Array.from(codes.data, nnieCodeOfIndex),
        shape: [...codes.shape],
        scale: Float32Array.from(params.scale),
        attributes: { bits: 8, stepsPerOctave: NNIE_STEPS_PER_OCTAVE, fsr: top },
      };
    },
    unpack(packed: PackedWeight): QuantizedTensor {
      if (packed?.format !== NNIE_PACKED_FORMAT) {
        throw fail(
          `expected a packed weight of format "${NNIE_PACKED_FORMAT}", got ${JSON.stringify(packed?.format)}`,
        );
      }
      const { bits, fsr } = packed.attributes;
      if (bits !== 8) throw fail(`attributes.bits must be 8, got ${JSON.stringify(bits)}`);
      if (typeof fsr !== 'number' || !Number.isInteger(fsr) || fsr < MIN_NNIE_FSR || fsr > MAX_NNIE_FSR) {
        throw fail(
          `attributes.fsr must be an integer from ${MIN_NNIE_FSR} to ${MAX_NNIE_FSR}, got ${JSON.stringify(fsr)}`,
        );
      }
      if (packed.scale.length !== 1 || packed.scale[0] !== nnieScale(fsr)) {
        throw fail(
          `scale must be [${nnieScale(fsr)}] for fsr ${fsr}, got [${Array.from(packed.scale).join(', ')}]`,
        );
      }
      const shape = [...packed.shape];
      if (packed.data.length !== sizeOf(shape)) {
        throw fail(`shape [${shape.join(', ')}] needs ${sizeOf(shape)} bytes, got ${packed.data.length}`);
      }
      return buildNnieTensor({ bytes: Uint8Array.from(packed.data), shape, top: fsr });
    },
  });
}
