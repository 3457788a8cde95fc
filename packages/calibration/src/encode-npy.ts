import { QuantError, type Tensor, listChoices } from '@quantkit/core';
import { HOST_IS_LITTLE_ENDIAN, NPY_CODE_OF, NPY_MAGIC, swapByteOrder } from './npy-format.js';

// NumPy aligns the data start to 64 bytes so the array can be memory-mapped; we do the same.
const ALIGNMENT = 64;

/**
 * Encodes a tensor as a NumPy `.npy` file (format 1.0, or 2.0 when the header needs more than 64 KiB), readable by
 * `np.load` and `parseNpy`.
 *
 * @example
 * await writeFile('calib/0.npy', encodeNpy({ dtype: 'float32', shape: [1, 3], data: Float32Array.of(1, 2, 3) }));
 * @throws QuantError UNSUPPORTED for dtypes NPY has no code for here (bfloat16, float8, int4, uint4).
 */
export function encodeNpy(tensor: Tensor): Uint8Array {
  const code = NPY_CODE_OF[tensor.dtype];
  if (code === undefined) {
    throw new QuantError(
      'UNSUPPORTED',
      `encodeNpy cannot write a ${tensor.dtype} tensor; expected ${listChoices(Object.keys(NPY_CODE_OF))}`,
    );
  }
  const width = Number(code.slice(1));
  const descr = (width === 1 ? '|' : '<') + code;
  const shape = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;

  let version = 1;
  let preamble = 10;
  let padded = Math.ceil((preamble + dict.length + 1) / ALIGNMENT) * ALIGNMENT - preamble;
  if (padded > 0xffff) {
    version = 2;
    preamble = 12;
    padded = Math.ceil((preamble + dict.length + 1) / ALIGNMENT) * ALIGNMENT - preamble;
  }
  const header = dict.padEnd(padded - 1, ' ') + '\n';

  const source = tensor.data;
  const dataBytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  const out = new Uint8Array(preamble + padded + dataBytes.length);
  out.set(NPY_MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, padded, true);
  else view.setUint32(8, padded, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  const data = out.subarray(preamble + padded);
  data.set(dataBytes);
  if (!HOST_IS_LITTLE_ENDIAN) swapByteOrder(data, width);
  if (tensor.dtype === 'bool') {
    for (let i = 0; i < data.length; i++) data[i] = data[i] === 0 ? 0 : 1;
  }
  return out;
}
