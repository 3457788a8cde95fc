/**
 * The CPU feature flags listed in Linux /proc/cpuinfo text: the `flags` lines (x86) and `Features` lines (ARM),
 * lower-cased. All processors are merged; on hybrid CPUs the kernel reports the common set anyway.
 *
 * @example
 * parseCpuFlags('flags\t\t: fpu sse2 avx2 avx512_vnni\n').has('avx512_vnni'); // true
 */
export function parseCpuFlags(cpuinfo: string): Set<string> {
  const flags = new Set<string>();
  for (const line of cpuinfo.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (key !== 'flags' && key !== 'features') continue;
    for (const flag of line.slice(colon + 1).trim().split(/\s+/)) if (flag !== '') flags.add(flag.toLowerCase());
  }
  return flags;
}
