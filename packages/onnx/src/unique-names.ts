/**
 * The names a graph has handed out or reserved, and a counter per base name, so that
 * {@link Graph.uniqueName} never returns a name twice and numbers each base's names deterministically.
 *
 * @example
 * const names = new UniqueNames();
 * names.next('x', (name) => name === 'x'); // 'x_1'
 * names.next('x', () => false); // 'x_2': 'x_1' was handed out
 */
export class UniqueNames {
  readonly #reserved = new Set<string>();
  readonly #counters = new Map<string, number>();

  /** Keeps {@link UniqueNames.next} from ever returning these names. */
  reserve(names: Iterable<string>): void {
    for (const name of names) this.#reserved.add(name);
  }

  /**
   * `base`, else `base_1`, `base_2`, ...: the first that is not taken (by `isTaken`), reserved or returned before.
   * The counter of `base` resumes where it stopped, so a run of calls does not rescan from `base` each time.
   */
  next(base: string, isTaken: (name: string) => boolean): string {
    const taken = (name: string): boolean => isTaken(name) || this.#reserved.has(name);
    let counter = this.#counters.get(base) ?? 0;
    let candidate = counter === 0 ? base : `${base}_${counter}`;
    while (taken(candidate)) {
      counter++;
      candidate = `${base}_${counter}`;
    }
    this.#counters.set(base, counter);
    this.#reserved.add(candidate);
    return candidate;
  }
}
