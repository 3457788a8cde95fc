import { API_VERSION, type BackendPlugin } from '@quantkit/core';
import { kernelsWasmBase64 } from '../generated/kernels-wasm.js';
import { probeSimdWasmBase64 } from '../generated/probe-simd-wasm.js';
import { relaxedWasmBase64 } from '../generated/relaxed-wasm.js';
import type { ConvExports } from './kernels/conv-exports.js';
import { type PackedExports, instantiatePackedModule } from './packed-module.js';
import { WasmHeap } from './wasm-heap.js';

/** The functions of kernels.wat (pointers and strides in bytes; see the .wat file for each contract). */
export interface KernelExports extends ConvExports {
  readonly memory: WebAssembly.Memory;
  pack_b_f32(src: number, k: number, n: number, rowStride: number, colStride: number, dst: number): void;
  pack_a_f32(src: number, m: number, k: number, rowStride: number, colStride: number, dst: number): void;
  gemm_f32(a: number, b: number, c: number, ldc: number, m: number, panels: number, k: number): void;
  apply_zero_points(
    c: number,
    ldc: number,
    m: number,
    panels: number,
    rowSums: number,
    za: number,
    colSums: number,
    zb: number,
    k: number,
  ): void;
  requantize(
    c: number,
    ldc: number,
    m: number,
    panels: number,
    scales: number,
    zeroPoint: number,
    isSigned: number,
    out: number,
    ldo: number,
  ): void;
}

/**
 * One implementation of the int8 GEMM core: packing of A and B in its layout and the GEMM itself (same contracts
 * in kernels.wat and relaxed.wat; packed sizes are equal in both layouts).
 */
export interface Int8GemmExports {
  packA(
    src: number,
    m: number,
    k: number,
    lda: number,
    isSigned: number,
    dst: number,
    rowSums: number,
    kPadded: number,
  ): void;
  packB(
    src: number,
    k: number,
    n: number,
    rowStride: number,
    colStride: number,
    flip: number,
    dst: number,
    colSums: number,
    kPadded: number,
  ): void;
  /**
   * Widens packed B (`bytes` long) into the second layout the multi-row tiles read (twice as long), for paths
   * that have one; gemm then takes it as bWide when m >= {@link INT8_GROUP_ROWS}.
   */
  readonly widenB: ((src: number, bytes: number, dst: number) => void) | undefined;
  gemm(
    a: number,
    b: number,
    bWide: number,
    c: number,
    ldc: number,
    m: number,
    panels: number,
    kPadded: number,
  ): void;
  /**
   * Whether A's signed codes are stored plus 128 (the relaxed layout keeps A unsigned), so the zero point of a
   * signed A moves by 128 too.
   */
  readonly signedAOffset: number;
}

/** Rows per tile of kernels.wat's multi-row int8 tiles (fewer rows run single-row tiles on unwidened B). */
export const INT8_GROUP_ROWS = 5;

/** What the wasm-simd backend's kernels get in prepare. */
export interface WasmSimdHandle {
  readonly heap: WasmHeap;
  readonly kernels: KernelExports;
  readonly int8: Int8GemmExports;
  /** The packed-weight kernels (packed.wat), on the same memory. */
  readonly packed: PackedExports;
  /** Which int8 GEMM runs: relaxed SIMD's i8 dot when the engine has it and computes it right, else plain SIMD. */
  readonly int8Path: 'relaxed-simd' | 'simd';
  /** Why relaxed SIMD is or is not used, for listings. */
  readonly relaxedSimd: string;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let compiled: Promise<{ kernels: WebAssembly.Module; relaxed: WebAssembly.Module | undefined }> | undefined;

/** The modules, compiled once per process (each backend init instantiates its own copy with its own memory). */
function compileModules() {
  compiled ??= (async () => {
    const relaxedBytes = decodeBase64(relaxedWasmBase64);
    const [kernels, relaxed] = await Promise.all([
      WebAssembly.compile(decodeBase64(kernelsWasmBase64)),
      WebAssembly.validate(relaxedBytes) ? WebAssembly.compile(relaxedBytes) : undefined,
    ]);
    return { kernels, relaxed };
  })();
  return compiled;
}

/**
 * The WebAssembly SIMD backend: float32 and int8 GEMM kernels in hand-written WebAssembly text (src/wasm/wat).
 * init() fails, and the runtime falls back to the JS kernels, when the engine lacks 128-bit SIMD; relaxed SIMD is
 * used for the int8 dot only after it computed known inputs right (the handle records which path runs). Runs in
 * Node and browsers alike (no Node APIs).
 *
 * @example
 * const runtime = createRuntime(createRegistry([...builtinRuntimePlugins, wasmSimdBackend, ...wasmSimdKernels]));
 * const [status] = await runtime.backends(); // { name: 'wasm-simd', available: true, handle: { int8Path, ... } }
 */
export const wasmSimdBackend: BackendPlugin<WasmSimdHandle> = {
  kind: 'backend',
  name: 'wasm-simd',
  apiVersion: API_VERSION,
  description:
    'WebAssembly SIMD kernels (float32 and int8 GEMM); relaxed SIMD where the engine computes it right',
  priority: 10,
  async init() {
    if (typeof WebAssembly !== 'object') throw new Error('this engine has no WebAssembly');
    if (!WebAssembly.validate(decodeBase64(probeSimdWasmBase64))) {
      throw new Error('this engine has no WebAssembly SIMD (it refused a module with v128 instructions)');
    }
    const modules = await compileModules();
    const instance = await WebAssembly.instantiate(modules.kernels);
    const kernels = instance.exports as unknown as KernelExports;
    const heap = new WasmHeap(kernels.memory);
    const packed = await instantiatePackedModule(kernels.memory);
    const plain: Int8GemmExports = {
      packA: exported(instance, 'pack_a_i8'),
      packB: exported(instance, 'pack_b_i8'),
      widenB: exported(instance, 'widen_b_i8'),
      gemm: exported(instance, 'gemm_i8'),
      signedAOffset: 0,
    };
    if (modules.relaxed === undefined) {
      return {
        heap,
        kernels,
        packed,
        int8: plain,
        int8Path: 'simd',
        relaxedSimd: 'not available in this engine (the relaxed module does not validate)',
      };
    }
    const relaxedInstance = await WebAssembly.instantiate(modules.relaxed, {
      env: { memory: kernels.memory },
    });
    const relaxed: Int8GemmExports = {
      packA: exported(relaxedInstance, 'pack_a_relaxed'),
      packB: exported(relaxedInstance, 'pack_b_relaxed'),
      widenB: undefined,
      gemm: exported(relaxedInstance, 'gemm_relaxed'),
      signedAOffset: 128,
    };
    const wrong = checkInt8Gemm(heap, relaxed);
    if (wrong !== undefined) {
      return {
        heap,
        kernels,
        packed,
        int8: plain,
        int8Path: 'simd',
        relaxedSimd: `available but computes wrong results (${wrong}); using plain SIMD`,
      };
    }
    // Exact u8 x s8 products on relaxed SIMD take two of its dots (see relaxed.wat); where the engine lowers each
    // to several instructions (x86 without VNNI in V8) that loses to plain SIMD, so the faster path is kept.
    const relaxedMs = timeInt8Gemm(heap, relaxed);
    const plainMs = timeInt8Gemm(heap, plain);
    if (relaxedMs >= plainMs) {
      return {
        heap,
        kernels,
        packed,
        int8: plain,
        int8Path: 'simd',
        relaxedSimd: `available and verified, but slower than plain SIMD here (${relaxedMs.toFixed(3)} ms against ${plainMs.toFixed(3)} ms for a test GEMM); using plain SIMD`,
      };
    }
    return {
      heap,
      kernels,
      packed,
      int8: relaxed,
      int8Path: 'relaxed-simd',
      relaxedSimd: `available, verified and faster than plain SIMD (${relaxedMs.toFixed(3)} ms against ${plainMs.toFixed(3)} ms for a test GEMM)`,
    };
  },
};

// biome-ignore lint/suspicious/noExplicitAny: exports of a module whose signatures the interfaces above declare
function exported<T extends (...args: any[]) => unknown>(instance: WebAssembly.Instance, name: string): T {
  const value = instance.exports[name];
  if (typeof value !== 'function') throw new Error(`the wasm module lacks its export "${name}"`);
  return value as T;
}

/**
 * Runs an int8 GEMM on known inputs (u8 A with every edge value 0, 127, 128, 255 against s8 B with -128 and 127,
 * M with a whole group of rows and some left over, K not a multiple of 4, N not a multiple of 8) and compares with
 * plain integer arithmetic; returns the first difference, or undefined when all agree.
 */
export function checkInt8Gemm(heap: WasmHeap, gemm: Int8GemmExports): string | undefined {
  const m = 7;
  const k = 19;
  const n = 11;
  const a = Uint8Array.from({ length: m * k }, (_, i) => [0, 127, 128, 255, 1, 200, 64][i % 7]! ^ (i % 3));
  const b = Int8Array.from(
    { length: k * n },
    (_, i) => [-128, 127, -1, 0, 99, -77, 5, 126][i % 8]! - (i % 2),
  );
  const workspace = int8Workspace(heap, gemm, m, k, n, a, b);
  try {
    workspace.run();
    const c = workspace.c();
    const width = Math.ceil(n / 8) * 8;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let expected = 0;
        for (let p = 0; p < k; p++) expected += a[i * k + p]! * b[p * n + j]!;
        const actual = c[i * width + j]!;
        if (actual !== expected) return `C[${i}, ${j}] is ${actual}, expected ${expected}`;
      }
    }
    return undefined;
  } finally {
    workspace.free();
  }
}

/**
 * Milliseconds one int8 GEMM of M 10, K 512, N 128 takes (in cache: the kernels' speed, not the memory's), the
 * best of a few rounds of repeated runs, so a scheduling hiccup does not decide.
 */
function timeInt8Gemm(heap: WasmHeap, gemm: Int8GemmExports): number {
  const m = 10;
  const k = 512;
  const n = 128;
  const a = Uint8Array.from({ length: m * k }, (_, i) => (i * 37) % 256);
  const b = Int8Array.from({ length: k * n }, (_, i) => ((i * 11) % 256) - 128);
  const workspace = int8Workspace(heap, gemm, m, k, n, a, b);
  try {
    const repeats = 20;
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 4; round++) {
      const start = performance.now();
      for (let repeat = 0; repeat < repeats; repeat++) workspace.run();
      best = Math.min(best, (performance.now() - start) / repeats);
    }
    return best;
  } finally {
    workspace.free();
  }
}

/** A's and B's codes packed in the heap for `gemm`; run() computes C (m x padded n, i32), c() views it. */
function int8Workspace(
  heap: WasmHeap,
  gemm: Int8GemmExports,
  m: number,
  k: number,
  n: number,
  a: Uint8Array,
  b: Int8Array,
): { run(): void; c(): Int32Array; free(): void } {
  const kPadded = Math.ceil(k / 4) * 4;
  const panels = Math.ceil(n / 8);
  const sizes = [
    m * k,
    k * n,
    m * kPadded * 2,
    m * 4,
    panels * kPadded * 8,
    panels * 32,
    m * panels * 32,
    panels * kPadded * 16,
  ];
  const rounded = sizes.map((size) => Math.ceil(size / 64) * 64);
  const base = heap.allocate(rounded.reduce((sum, size) => sum + size, 0));
  const starts: number[] = [];
  for (let index = 0, at = base; index < rounded.length; at += rounded[index]!, index++) starts.push(at);
  const [aAt, bAt, aPacked, rowSums, bPacked, colSums, cAt, bWide] = starts as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  new Uint8Array(heap.buffer, aAt, a.length).set(a);
  new Int8Array(heap.buffer, bAt, b.length).set(b);
  gemm.packA(aAt, m, k, k, 0, aPacked, rowSums, kPadded);
  gemm.packB(bAt, k, n, n, 1, 0, bPacked, colSums, kPadded);
  gemm.widenB?.(bPacked, panels * kPadded * 8, bWide);
  return {
    run: () => gemm.gemm(aPacked, bPacked, bWide, cAt, panels * 32, m, panels, kPadded),
    c: () => new Int32Array(heap.buffer, cAt, m * panels * 8),
    free: () => heap.free(base),
  };
}
