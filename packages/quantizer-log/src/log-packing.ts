import {
  type PackedWeight,
  QuantError,
  type QuantizedTensor,
  type QuantizerPacking,
  axisLayout,
  packNibbles,
  sizeOf,
  unpackNibbles,
} from '@quantkit/core';
import { exactPow2, exponentOfPowerOfTwo } from './exact-log2.js';
import { LOG_BITS } from './log-levels.js';
import { type LogForm, buildLogTensor, readLogTensor } from './log-tensor-form.js';

/** PackedWeight.format of log codes. */
export const LOG_PACKED_FORMAT = 'log';

/**
 * The stored byte of a signed magnitude index: sign in bit b-1, magnitude index m in bits 0..b-2.
 * @example storedLogCode(-5, 4) === 0b1101
 */
export function storedLogCode(signedIndex: number, bits: number): number {
  return signedIndex < 0 ? (1 << (bits - 1)) | -signedIndex : signedIndex;
}

/**
 * The signed magnitude index of a stored code (the unused "negative zero", sign bit with m = 0, reads as 0).
 * @example signedLogIndex(0b1101, 4) === -5
 */
export function signedLogIndex(stored: number, bits: number): number {
  const m = stored & ((1 << (bits - 1)) - 1);
  return stored & (1 << (bits - 1)) && m !== 0 ? -m : m;
}

/**
 * Packed storage of log codes (format 'log'), lossless with respect to the codes:
 * - data: each element's stored code (sign bit b-1, magnitude index in bits 0..b-2, see log-levels.ts), row-major;
 *   for 3 and 4 bits two codes per byte, element 2i in the low nibble and 2i+1 in the high one (an odd count
 *   leaves the last high nibble 0), for 5 to 8 bits one byte per code;
 * - scale: 2^FSR per group (one per tensor, or per channel along attributes.axis), so a kernel reads a code as
 *   sign * 2^(log2(scale) - M + m) with M = 2^(bits-1) - 1;
 * - attributes: bits, stepsPerOctave 1, granularity ('tensor' | 'channel'), axis (channel only) and form
 *   ('int8' | 'lookup': which stock-ONNX form unpack rebuilds, so unpack(pack(q)) has q's codes).
 *
 * @example
 * const packed = logQuantizer.packing!.pack(quantized); // packed.data.length === Math.ceil(n / 2) for 4 bits
 * @throws QuantError INVALID_ARGUMENT from pack for a QuantizedTensor that does not hold log codes, and from
 * unpack for a PackedWeight of another format or with inconsistent attributes, scales or data length.
 */
export function createLogPacking(quantizer = 'log'): QuantizerPacking {
  const fail = (message: string) => new QuantError('INVALID_ARGUMENT', `${quantizer} packing: ${message}`);
  return Object.freeze({
    pack(quantized: QuantizedTensor): PackedWeight {
      const codes = readLogTensor(quantized, quantizer);
      const { bits, indices } = codes;
      const stored = Uint8Array.from(indices, (s) => storedLogCode(s, bits));
      const attributes: Record<string, number | string> = {
        bits,
        stepsPerOctave: 1,
        granularity: codes.granularity,
        form: quantized.lookup === undefined ? 'int8' : 'lookup',
      };
      if (codes.axis !== undefined) attributes['axis'] = codes.axis;
      return {
        format: LOG_PACKED_FORMAT,
        data: bits <= 4 ? packNibbles(stored) : stored,
        shape: [...codes.shape],
        scale: Float32Array.from(codes.fsr, (top) => exactPow2(top)),
        attributes,
      };
    },
    unpack(packed: PackedWeight): QuantizedTensor {
      if (packed?.format !== LOG_PACKED_FORMAT) {
        throw fail(
          `expected a packed weight of format "${LOG_PACKED_FORMAT}", got ${JSON.stringify(packed?.format)}`,
        );
      }
      const { bits, granularity, form, axis } = packed.attributes;
      if (typeof bits !== 'number' || !LOG_BITS.includes(bits)) {
        throw fail(`attributes.bits must be 3 to 8, got ${JSON.stringify(bits)}`);
      }
      if (granularity !== 'tensor' && granularity !== 'channel') {
        throw fail(
          `attributes.granularity must be "tensor" or "channel", got ${JSON.stringify(granularity)}`,
        );
      }
      if (form !== 'int8' && form !== 'lookup') {
        throw fail(`attributes.form must be "int8" or "lookup", got ${JSON.stringify(form)}`);
      }
      const shape = [...packed.shape];
      let channelAxis: number | undefined;
      let groups = 1;
      if (granularity === 'channel') {
        if (typeof axis !== 'number') throw fail('attributes.axis is required per channel');
        const layout = axisLayout(shape, axis);
        channelAxis = layout.axis;
        groups = layout.axisSize;
      }
      if (packed.scale.length !== groups) throw fail(`expected ${groups} scales, got ${packed.scale.length}`);
      const fsr = new Int32Array(groups);
      for (let g = 0; g < groups; g++) {
        const e = exponentOfPowerOfTwo(packed.scale[g]!);
        if (e === undefined) throw fail(`scale ${g} is ${packed.scale[g]}, not a power of two 2^FSR`);
        fsr[g] = e;
      }
      const count = sizeOf(shape);
      const bytes = bits <= 4 ? Math.ceil(count / 2) : count;
      if (packed.data.length !== bytes) {
        throw fail(
          `shape [${shape.join(', ')}] at ${bits} bits needs ${bytes} bytes, got ${packed.data.length}`,
        );
      }
      const stored = bits <= 4 ? unpackNibbles(packed.data, count, false) : packed.data;
      const indices = new Int8Array(count);
      for (let i = 0; i < count; i++) {
        const code = stored[i]!;
        if (code >= 1 << bits) throw fail(`code ${code} at ${i} does not fit ${bits} bits`);
        // A (bits - 1)-bit magnitude index is at most M by construction.
        indices[i] = signedLogIndex(code, bits);
      }
      return buildLogTensor({ indices, shape, fsr, bits, granularity, axis: channelAxis }, form as LogForm);
    },
  });
}
