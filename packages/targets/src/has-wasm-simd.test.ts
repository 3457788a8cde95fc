import { describe, expect, it } from 'vitest';
import { WASM_SIMD_PROBE, hasWasmSimd } from './has-wasm-simd.js';

describe('hasWasmSimd', () => {
  it('is true on Node 20, whose V8 has WASM SIMD', () => {
    expect(hasWasmSimd()).toBe(true);
  });

  it('probes with a module that validates only because of SIMD', () => {
    // The same module returning i32 instead of v128 (no SIMD) validates: the envelope is right.
    const scalar = Uint8Array.of(
      ...WASM_SIMD_PROBE.slice(0, 14), 0x7f, // result type i32
      0x03, 0x02, 0x01, 0x00,
      0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b,
    );
    expect(WebAssembly.validate(scalar)).toBe(true);
    // Returning the i32 where the v128 is declared is invalid, so validate really type-checks the probe's body.
    const mismatched = Uint8Array.of(...WASM_SIMD_PROBE.slice(0, 19), 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b);
    expect(WebAssembly.validate(mismatched)).toBe(false);
  });

  it('is false where WebAssembly is missing or rejects the probe', () => {
    const original = globalThis.WebAssembly;
    try {
      Object.defineProperty(globalThis, 'WebAssembly', { value: { validate: () => false }, configurable: true });
      expect(hasWasmSimd()).toBe(false);
      Object.defineProperty(globalThis, 'WebAssembly', { value: undefined, configurable: true });
      expect(hasWasmSimd()).toBe(false);
    } finally {
      Object.defineProperty(globalThis, 'WebAssembly', { value: original, configurable: true, writable: true });
    }
  });
});
