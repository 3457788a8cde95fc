import { QuantError } from '@quantkit/core';

const PAGE = 65536;
const ALIGN = 64;

interface Block {
  offset: number;
  size: number;
}

/**
 * The backend's WebAssembly memory, shared by all its kernels: long-lived blocks (packed weights, freed when the
 * kernel state that owns them is collected) from a first-fit free list, and one scratch arena that each kernel
 * run borrows for its operands (runs are synchronous, so they never overlap) and that only grows. Growing the
 * memory detaches earlier views: read {@link WasmHeap.buffer} again after any allocation.
 */
export class WasmHeap {
  readonly #memory: WebAssembly.Memory;
  readonly #free: Block[] = [];
  readonly #used = new Map<number, number>();
  #scratch: Block = { offset: 0, size: 0 };
  readonly #collector = new FinalizationRegistry<number[]>((offsets) => {
    for (const offset of offsets) this.free(offset);
  });

  constructor(memory: WebAssembly.Memory) {
    this.#memory = memory;
    // Offset 0 stays unused, so no block is ever at the null address.
    this.#free.push({ offset: ALIGN, size: memory.buffer.byteLength - ALIGN });
  }

  get buffer(): ArrayBuffer {
    return this.#memory.buffer;
  }

  /**
   * A block of at least `bytes` bytes, 64-byte aligned, growing the memory when no free block fits.
   * @throws QuantError UNSUPPORTED when the memory cannot grow (its 4 GiB limit, or the host's memory).
   */
  allocate(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let index = this.#free.findIndex((block) => block.size >= size);
    if (index < 0) {
      this.#grow(size);
      index = this.#free.findIndex((block) => block.size >= size);
    }
    const block = this.#free[index]!;
    const offset = block.offset;
    if (block.size === size) this.#free.splice(index, 1);
    else {
      block.offset += size;
      block.size -= size;
    }
    this.#used.set(offset, size);
    return offset;
  }

  /** Returns a block from {@link WasmHeap.allocate}; unknown offsets are ignored. */
  free(offset: number): void {
    const size = this.#used.get(offset);
    if (size === undefined) return;
    this.#used.delete(offset);
    this.#insertFree(offset, size);
  }

  /** Frees `offsets` once `owner` (a kernel's prepared state) is garbage-collected. */
  freeWith(owner: object, offsets: readonly number[]): void {
    this.#collector.register(owner, [...offsets]);
  }

  /**
   * The scratch arena, at least `bytes` long: valid until the next call (a kernel takes it once per run and
   * carves its operands out of it).
   */
  scratch(bytes: number): number {
    if (this.#scratch.size < bytes) {
      if (this.#scratch.size > 0) this.free(this.#scratch.offset);
      const size = Math.max(bytes, this.#scratch.size * 2);
      this.#scratch = { offset: this.allocate(size), size };
    }
    return this.#scratch.offset;
  }

  #grow(size: number): void {
    const last = this.#free[this.#free.length - 1];
    const end = this.#memory.buffer.byteLength;
    const tail = last !== undefined && last.offset + last.size === end ? last.size : 0;
    // Grow by at least an eighth of the memory so a run of allocations does not grow it page by page.
    const needed = Math.max(size - tail, end / 8);
    const pages = Math.ceil(needed / PAGE);
    try {
      this.#memory.grow(pages);
    } catch (error) {
      throw new QuantError(
        'UNSUPPORTED',
        `the wasm-simd backend could not grow its memory from ${end} bytes by ${pages * PAGE}`,
        { cause: error },
      );
    }
    this.#insertFree(end, pages * PAGE);
  }

  #insertFree(offset: number, size: number): void {
    let index = this.#free.findIndex((block) => block.offset > offset);
    if (index < 0) index = this.#free.length;
    this.#free.splice(index, 0, { offset, size });
    const next = this.#free[index + 1];
    const current = this.#free[index]!;
    if (next !== undefined && current.offset + current.size === next.offset) {
      current.size += next.size;
      this.#free.splice(index + 1, 1);
    }
    const previous = this.#free[index - 1];
    if (previous !== undefined && previous.offset + previous.size === current.offset) {
      previous.size += current.size;
      this.#free.splice(index, 1);
    }
  }
}
