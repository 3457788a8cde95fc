import { type DType, QuantError, type Tensor, listChoices, sizeOf } from '@quantkit/core';
import { HOST_IS_LITTLE_ENDIAN, NPY_MAGIC, NPY_TYPE_CODES, swapByteOrder, viewAs } from './npy-format.js';

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/**
 * Parses the Python literal NumPy writes as the NPY header, e.g.
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`. Only literals are accepted; nothing is evaluated.
 */
function parsePythonLiteral(text: string, fail: (what: string) => never): PyValue {
  let pos = 0;
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[pos] !== char) fail(`expected "${char}" at character ${pos} of the header`);
    pos++;
  };
  // Reads comma-separated items up to `close`; Python allows a trailing comma.
  const items = (close: string, item: () => void) => {
    skipSpace();
    while (text[pos] !== close) {
      item();
      skipSpace();
      if (text[pos] === ',') {
        pos++;
        skipSpace();
      } else if (text[pos] !== close) {
        fail(`expected "," or "${close}" at character ${pos} of the header`);
      }
    }
    pos++;
  };
  const value = (): PyValue => {
    skipSpace();
    const char = text[pos];
    if (char === '{') {
      pos++;
      const dict: { [key: string]: PyValue } = {};
      items('}', () => {
        const key = value();
        if (typeof key !== 'string') fail('a header key is not a string');
        expect(':');
        dict[key] = value();
      });
      return dict;
    }
    if (char === '(' || char === '[') {
      pos++;
      const list: PyValue[] = [];
      items(char === '(' ? ')' : ']', () => list.push(value()));
      return list;
    }
    if (char === "'" || char === '"') {
      const end = text.indexOf(char, pos + 1);
      if (end < 0) fail('a string in the header is not closed');
      const result = text.slice(pos + 1, end);
      pos = end + 1;
      return result;
    }
    const word = /^(?:True|False|None|-?\d+L?)/.exec(text.slice(pos));
    if (word === null) fail(`unexpected ${JSON.stringify(text.slice(pos, pos + 10))} in the header`);
    pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    // Python 2 wrote long integers with an L suffix.
    return Number.parseInt(word[0], 10);
  };
  const result = value();
  skipSpace();
  if (pos !== text.length) fail(`unexpected text after the header dictionary at character ${pos}`);
  return result;
}

function decodeHeaderText(bytes: Uint8Array, utf8: boolean): string {
  if (utf8) return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  // Versions 1 and 2 are latin-1; decoding by hand avoids TextDecoder mapping it to windows-1252.
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/**
 * Parses a NumPy `.npy` file (format versions 1, 2 and 3) into a tensor.
 *
 * Accepted element types: `f2` (float16, kept as raw bits), `f4`, `f8` (kept as float64; `checkSample` converts it
 * for float32 inputs), `i1`, `i2`, `i4`, `i8`, `u1`, `u2` and `b1`, little- or big-endian (big-endian data is
 * converted). Fortran-ordered arrays are accepted only when the order makes no difference (at most one dimension
 * larger than 1); save with `np.ascontiguousarray` otherwise.
 *
 * @param source the file name, used in error messages.
 * @example
 * const tensor = parseNpy(await readFile('calib/0.npy'), 'calib/0.npy');
 * @throws QuantError CALIBRATION_DATA naming the source when the bytes are not a well-formed NPY file (bad magic,
 *   malformed header, truncated data); UNSUPPORTED for element types quantkit cannot hold, Fortran order or an
 *   unknown format version.
 */
export function parseNpy(bytes: Uint8Array, source = 'npy data'): Tensor {
  const fail = (what: string): never => {
    throw new QuantError('CALIBRATION_DATA', `${source}: ${what}`);
  };
  if (bytes.length < 10 || NPY_MAGIC.some((byte, i) => bytes[i] !== byte)) {
    fail('not an NPY file (it does not start with the magic bytes "\\x93NUMPY")');
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3) {
    throw new QuantError('UNSUPPORTED', `${source}: NPY format version ${major}.${minor} is not supported; expected 1.0, 2.0 or 3.0`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) fail('the file ends inside the NPY preamble');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    fail(`the header claims ${headerLength} bytes but the file ends after ${bytes.length - headerStart}`);
  }
  let text: string;
  try {
    text = decodeHeaderText(bytes.subarray(headerStart, dataStart), major === 3);
  } catch (error) {
    throw new QuantError('CALIBRATION_DATA', `${source}: the NPY header is not valid UTF-8`, { cause: error });
  }
  const header = parsePythonLiteral(text, (what) => fail(`malformed NPY header: ${what}`));
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail('malformed NPY header: it is not a dictionary');
  }
  const { descr, fortran_order: fortranOrder, shape } = header as Record<string, PyValue>;

  if (typeof descr !== 'string') {
    throw new QuantError(
      'UNSUPPORTED',
      `${source}: structured NPY arrays (descr ${JSON.stringify(descr)}) are not supported; save a plain numeric array`,
    );
  }
  const order = descr[0];
  const code = descr.slice(1);
  const dtype: DType | undefined = Object.hasOwn(NPY_TYPE_CODES, code) ? NPY_TYPE_CODES[code] : undefined;
  if (dtype === undefined || !['<', '>', '|', '='].includes(order ?? '')) {
    const accepted = Object.keys(NPY_TYPE_CODES).map((c) => (c.endsWith('1') ? `|${c}` : `<${c}`));
    throw new QuantError(
      'UNSUPPORTED',
      `${source}: NPY element type "${descr}" is not supported; expected ${listChoices(accepted)}`,
    );
  }
  if (!Array.isArray(shape) || shape.some((dim) => typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0)) {
    fail(`malformed NPY header: shape ${JSON.stringify(shape)} is not a tuple of non-negative integers`);
  }
  const dims = shape as number[];
  if (typeof fortranOrder !== 'boolean') fail('malformed NPY header: fortran_order is not True or False');
  if (fortranOrder && dims.filter((dim) => dim > 1).length > 1) {
    throw new QuantError(
      'UNSUPPORTED',
      `${source}: Fortran-ordered (column-major) NPY arrays are not supported; ` +
        'save with np.save(path, np.ascontiguousarray(array))',
    );
  }

  const width = Number(code.slice(1));
  const size = sizeOf(dims);
  const needed = size * width;
  const available = bytes.length - dataStart;
  if (available < needed) {
    fail(`truncated: shape [${dims.join(', ')}] of ${descr} needs ${needed} bytes of data, the file holds ${available}`);
  }
  if (available > needed) {
    fail(`${available - needed} unexpected bytes after the data of shape [${dims.join(', ')}] of ${descr}`);
  }
  // A copy gives an aligned buffer (typed arrays need offsets that are multiples of the element size). Copied with
  // set() because Node's Buffer.slice returns a view into its shared pool instead of a copy.
  const data = new Uint8Array(needed);
  data.set(bytes.subarray(dataStart, dataStart + needed));
  const littleEndian = order === '<' || (order === '=' && HOST_IS_LITTLE_ENDIAN) || order === '|';
  if (littleEndian !== HOST_IS_LITTLE_ENDIAN) swapByteOrder(data, width);
  if (dtype === 'bool') {
    for (let i = 0; i < data.length; i++) data[i] = data[i] === 0 ? 0 : 1;
  }
  return { dtype, shape: dims, data: viewAs(dtype, data.buffer) } as Tensor;
}
