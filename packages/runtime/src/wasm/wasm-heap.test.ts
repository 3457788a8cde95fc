import { describe, expect, it } from 'vitest';
import { WasmHeap } from './wasm-heap.js';

describe('WasmHeap', () => {
  it('hands out aligned, disjoint blocks and reuses freed ones, merged with their neighbours', () => {
    const heap = new WasmHeap(new WebAssembly.Memory({ initial: 1 }));
    const first = heap.allocate(100);
    const second = heap.allocate(10);
    const third = heap.allocate(64);
    expect(first % 64).toBe(0);
    expect(second).toBeGreaterThanOrEqual(first + 128);
    expect(third).toBeGreaterThanOrEqual(second + 64);
    heap.free(first);
    heap.free(second);
    // The two freed blocks merged: 192 bytes fit where the first was.
    expect(heap.allocate(192)).toBe(first);
  });

  it('grows the memory when no free block fits, and old offsets stay valid', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const heap = new WasmHeap(memory);
    const small = heap.allocate(16);
    new Uint8Array(heap.buffer, small, 16).fill(7);
    const large = heap.allocate(5 * 65536);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(large + 5 * 65536);
    expect([...new Uint8Array(heap.buffer, small, 16)]).toEqual(new Array(16).fill(7));
  });

  it('keeps one scratch arena that only grows', () => {
    const heap = new WasmHeap(new WebAssembly.Memory({ initial: 1 }));
    const scratch = heap.scratch(1000);
    expect(heap.scratch(500)).toBe(scratch);
    const larger = heap.scratch(200_000);
    expect(heap.scratch(1000)).toBe(larger);
  });
});
