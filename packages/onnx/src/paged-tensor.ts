import type { DType, DTypeStorage, Tensor, TypedArray } from '@quantkit/core';

/** Marks tensors made by {@link pagedTensor}; a symbol, so spreading or cloning a tensor never copies it. */
const PAGED = Symbol('quantkit.pagedTensor');

/** A paged tensor's data while it is resident. */
interface Page {
  data: TypedArray | undefined;
}

/**
 * The resident pages, least recently used first, and their bytes. A page cache rather than weak references:
 * a WeakRef keeps its target alive until the current job ends, and quantizing a model's weights is one
 * synchronous job, so weak references would keep every weight read so far.
 */
const resident = new Map<Page, number>();
let residentBytes = 0;
let budgetBytes = 64 * 2 ** 20;
/** The page read last: it is resident and last in `resident`. */
let newest: Page | undefined;

function evictBeyondBudget(keep: Page): void {
  for (const [page, bytes] of resident) {
    if (residentBytes <= budgetBytes || page === keep) return;
    page.data = undefined;
    resident.delete(page);
    residentBytes -= bytes;
  }
}

/**
 * Sets how many bytes of paged tensor data stay in memory after use (default 64 MiB; the most recently read
 * tensor always stays, whatever its size) and returns the previous setting. More saves re-reading weights that
 * several passes read; less lowers peak memory.
 *
 * @example const previous = setPagedTensorBudget(512 * 2 ** 20);
 */
export function setPagedTensorBudget(bytes: number): number {
  const previous = budgetBytes;
  budgetBytes = Math.max(0, bytes);
  if (newest !== undefined) evictBeyondBudget(newest);
  return previous;
}

/**
 * A tensor whose data stays in its file until something reads `data`. A read loads it into a small page cache
 * (see {@link setPagedTensorBudget}); when newer reads push it out, the next read loads it again. A model of
 * gigabytes in external data can so be walked weight by weight with a few weights in memory, while every other
 * part of quantkit sees an ordinary {@link Tensor}. Code that keeps the array keeps it alive, as with any tensor.
 *
 * `data` is an own enumerable property (an accessor), so `{ ...tensor }` and structured cloning copy the values.
 *
 * @example
 * const weight = pagedTensor('float32', [4096, 4096], () => readWeight('model.onnx.data', 0));
 * const first = weight.data[0]; // read from the file now
 */
export function pagedTensor<D extends DType>(
  dtype: D,
  shape: readonly number[],
  read: () => DTypeStorage[D],
): Tensor<D> {
  const page: Page = { data: undefined };
  const tensor = { dtype, shape } as Tensor<D>;
  Object.defineProperty(tensor, 'data', {
    enumerable: true,
    get(): DTypeStorage[D] {
      // Loops that read `tensor.data[i]` take this path on every element.
      if (page === newest) return page.data as DTypeStorage[D];
      newest = page;
      if (page.data === undefined) {
        const data = read();
        page.data = data;
        resident.set(page, data.byteLength);
        residentBytes += data.byteLength;
        evictBeyondBudget(page);
      } else {
        // Most recently used goes last.
        const bytes = resident.get(page)!;
        resident.delete(page);
        resident.set(page, bytes);
      }
      return page.data as DTypeStorage[D];
    },
  });
  Object.defineProperty(tensor, PAGED, { value: true });
  return tensor;
}

/** True for a tensor made by {@link pagedTensor}: its data is read from a file on access. */
export function isPagedTensor(tensor: Tensor): boolean {
  return (tensor as { [PAGED]?: boolean })[PAGED] === true;
}
