import { describe, expect, it } from 'vitest';
import { parseCpuFlags } from './parse-cpu-flags.js';

describe('parseCpuFlags', () => {
  it('reads x86 flags lines and ARM Features lines, lower-cased and merged', () => {
    const text = 'processor\t: 0\nflags\t\t: fpu SSE2 avx2\n\nprocessor\t: 1\nflags\t\t: fpu avx512_vnni\n';
    expect([...parseCpuFlags(text)].sort()).toEqual(['avx2', 'avx512_vnni', 'fpu', 'sse2']);
    expect(parseCpuFlags('Features\t: fp asimd asimddp\nCPU part\t: 0xd0c\n')).toEqual(new Set(['fp', 'asimd', 'asimddp']));
  });

  it('ignores other lines and empty input', () => {
    expect(parseCpuFlags('model name\t: avx2 inside\nbugs\t: spectre_v1\n').size).toBe(0);
    expect(parseCpuFlags('').size).toBe(0);
  });
});
