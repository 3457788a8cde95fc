/** A stream the CLI writes to: process.stdout/stderr in the real command, an in-memory buffer in tests. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
}

/** Where the CLI reads and writes; passed down instead of touching `process` so commands are testable in-process. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Relative paths (models, --plugin, --calib) resolve against this folder. */
  readonly cwd: string;
}

/** The real terminal. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}

/**
 * Replaces non-finite numbers (SQNR of identical outputs is Infinity) with strings, because JSON has no Infinity and
 * JSON.stringify would silently turn it into null.
 */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

/** Serializes a value for --json output and reports: one object, non-finite numbers as strings. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, jsonReplacer, indent);
}

/** Writes one JSON object and a newline: what every command prints with --json. */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${toJson(value)}\n`);
}
