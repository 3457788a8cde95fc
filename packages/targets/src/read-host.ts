import { readFile } from 'node:fs/promises';
import { arch as osArch } from 'node:os';
import type { TargetHost } from '@quantkit/core';
import { hasWasmSimd } from './has-wasm-simd.js';
import { parseCpuFlags } from './parse-cpu-flags.js';

export interface ReadHostOptions {
  /** /proc/cpuinfo text to use instead of reading the file (tests, or another machine's). */
  readonly cpuinfo?: string;
  /** CPU architecture instead of `os.arch()` ('x64', 'arm64', ...). */
  readonly arch?: string;
  /** Platform instead of `process.platform`; /proc/cpuinfo is read on 'linux' only. */
  readonly platform?: string;
  /** Path of the cpuinfo file (default /proc/cpuinfo). */
  readonly cpuinfoPath?: string;
}

/**
 * Describes the Node host: `os.arch()`, and on Linux the CPU feature flags from /proc/cpuinfo (the x86 `flags`
 * lines: avx2, avx512_vnni, avx_vnni, ...; the ARM `Features` lines: asimd, asimddp, ...). On other platforms,
 * or when the file cannot be read, the flags are empty and detection goes by architecture alone.
 *
 * @example
 * const host = await readHost();
 * host.cpuFlags.has('avx512_vnni');
 */
export async function readHost(options: ReadHostOptions = {}): Promise<TargetHost> {
  const platform = options.platform ?? process.platform;
  let cpuinfo = options.cpuinfo;
  if (cpuinfo === undefined && platform === 'linux') {
    // Containers and sandboxes may hide /proc; detection then falls back to the architecture.
    cpuinfo = await readFile(options.cpuinfoPath ?? '/proc/cpuinfo', 'utf8').catch(() => undefined);
  }
  return {
    environment: 'node',
    arch: options.arch ?? osArch(),
    cpuFlags: parseCpuFlags(cpuinfo ?? ''),
    wasmSimd: hasWasmSimd(),
  };
}
