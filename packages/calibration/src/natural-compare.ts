const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });

/**
 * Orders names the way people number files: `set_2` before `set_10`. Ties under the collator fall back to code-unit
 * order so the result never depends on the platform's directory order.
 */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
