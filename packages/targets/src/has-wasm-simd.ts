/**
 * The smallest module that uses a SIMD type: one function `() -> v128` whose body is `i32.const 0; i8x16.splat`.
 * Sections: type (0x60 () -> (0x7b v128)), function (type 0), code (no locals, 0x41 0x00, 0xfd 0x0f, end).
 */
export const WASM_SIMD_PROBE = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: 1 type, func () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: 1 function of type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b, // code: i32.const 0, i8x16.splat, end
);

/**
 * Whether this JavaScript engine's WebAssembly supports SIMD (v128), which onnxruntime-web needs: validates a
 * tiny module without compiling or running it.
 *
 * @example
 * if (!hasWasmSimd()) console.warn('onnxruntime-web will not run here');
 */
export function hasWasmSimd(): boolean {
  const wasm = (globalThis as { WebAssembly?: { validate(bytes: BufferSource): boolean } }).WebAssembly;
  if (wasm === undefined) return false;
  try {
    return wasm.validate(WASM_SIMD_PROBE);
  } catch {
    return false;
  }
}
