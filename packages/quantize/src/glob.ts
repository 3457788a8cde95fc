/** Compiles a glob with `*` (any run) and `?` (one character) into an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** Returns the first pattern matching any of the candidates (e.g. a node's name and op type), or undefined. */
export function firstMatch(
  patterns: readonly RegExp[],
  sources: readonly string[],
  ...candidates: string[]
): string | undefined {
  for (let i = 0; i < patterns.length; i++) {
    if (candidates.some((candidate) => patterns[i]!.test(candidate))) return sources[i];
  }
  return undefined;
}
