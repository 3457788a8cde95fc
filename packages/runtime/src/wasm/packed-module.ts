import { packedWasmBase64 } from '../generated/packed-wasm.js';

/**
 * The functions of packed.wat, the packed-weight kernels (pointers and strides in bytes, other counts in elements;
 * see the .wat file for each contract). The module imports the kernels module's memory, so these read and write
 * the backend's heap.
 */
export interface PackedExports {
  binarize_rows(
    x: number,
    m: number,
    k: number,
    perRow: number,
    scale: number,
    valid: number,
    bits: number,
    mask: number,
    vecs: number,
    counts: number,
    scales: number,
  ): void;
  xnor_gemm(
    a: number,
    mask: number,
    m: number,
    w: number,
    n: number,
    vecs: number,
    c: number,
    ldc: number,
  ): void;
  xnor_epilogue(
    c: number,
    ldc: number,
    m: number,
    n: number,
    counts: number,
    scales: number,
    alpha: number,
    out: number,
    rowStride: number,
    colStride: number,
  ): void;
  sign_gemm(
    x: number,
    m: number,
    k: number,
    w: number,
    rowBytes: number,
    n: number,
    table: number,
    sums: number,
    alpha: number,
    out: number,
    rowStride: number,
    colStride: number,
  ): void;
  log_gemm(
    x: number,
    m: number,
    k: number,
    codes: number,
    rowTable: number,
    levels: number,
    planes: number,
    n: number,
    decoded: number,
    out: number,
    rowStride: number,
    colStride: number,
  ): void;
  i16_gemm(
    x: number,
    m: number,
    k: number,
    w: number,
    kPadded: number,
    streams: number,
    c: number,
    ldc: number,
  ): void;
  shift_epilogue(
    c: number,
    ldc: number,
    m: number,
    n: number,
    buckets: number,
    rowTable: number,
    bucketScale: number,
    out: number,
    rowStride: number,
    colStride: number,
  ): void;
  transpose_i16(x: number, m: number, k: number, mPadded: number, xT: number): void;
  shift_add_rows(
    xT: number,
    mPadded: number,
    m: number,
    k: number,
    codes: number,
    rowTable: number,
    entry: number,
    buckets: number,
    bucketScale: number,
    accumulators: number,
    n: number,
    out: number,
    rowStride: number,
    colStride: number,
  ): void;
  shift_add_gemm(
    x: number,
    m: number,
    k: number,
    codes: number,
    rowTable: number,
    entry: number,
    buckets: number,
    bucketScale: number,
    accumulators: number,
    n: number,
    out: number,
    rowStride: number,
    colStride: number,
  ): void;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * Instantiates packed.wat (compiled once per process) on `memory`, the kernels module's.
 * @throws when the engine refuses the module (no SIMD): the backend's init fails with it.
 */
export async function instantiatePackedModule(memory: WebAssembly.Memory): Promise<PackedExports> {
  compiled ??= WebAssembly.compile(decodeBase64(packedWasmBase64));
  const instance = await WebAssembly.instantiate(await compiled, { env: { memory } });
  return instance.exports as unknown as PackedExports;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
