import { describe, expect, it } from 'vitest';
import { detectHostTarget, selectHostTarget } from './detect-host-target.js';
import { readHost } from './read-host.js';

const x86 = (flags: string) => `processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 ${flags}\n\n`;
const arm = (features: string) => `processor\t: 0\nFeatures\t: fp ${features}\nCPU implementer\t: 0x41\n\n`;

describe('detectHostTarget', () => {
  it('reads injected cpuinfo: VNNI, AVX2, arm64 with and without dot product, unknown arch', async () => {
    expect((await detectHostTarget({ cpuinfo: x86('avx2 avx512_vnni'), arch: 'x64', platform: 'linux' })).name).toBe('x86-vnni');
    expect((await detectHostTarget({ cpuinfo: x86('avx2 avx_vnni'), arch: 'x64', platform: 'linux' })).name).toBe('x86-vnni');
    expect((await detectHostTarget({ cpuinfo: x86('avx2'), arch: 'x64', platform: 'linux' })).name).toBe('x86-avx2');
    const dot = await selectHostTarget({ cpuinfo: arm('asimd asimddp'), arch: 'arm64', platform: 'linux' });
    expect(dot.target.name).toBe('arm64');
    expect(dot.reason).toContain('asimddp) present');
    const noDot = await selectHostTarget({ cpuinfo: arm('asimd'), arch: 'arm64', platform: 'linux' });
    expect(noDot.reason).toContain('not reported');
    expect((await detectHostTarget({ cpuinfo: '', arch: 's390x', platform: 'linux' })).name).toBe('wasm');
  });

  it('falls back to the architecture when cpuinfo cannot be read or is not Linux', async () => {
    const missing = await readHost({ cpuinfoPath: '/nonexistent/cpuinfo', arch: 'x64', platform: 'linux' });
    expect(missing.cpuFlags.size).toBe(0);
    expect((await detectHostTarget({ cpuinfoPath: '/nonexistent/cpuinfo', arch: 'x64', platform: 'linux' })).name).toBe('x86-avx2');
    // On macOS the file is not read even if the path exists.
    const mac = await readHost({ cpuinfoPath: '/proc/cpuinfo', arch: 'arm64', platform: 'darwin' });
    expect(mac.cpuFlags.size).toBe(0);
  });

  it('detects this machine consistently with its /proc/cpuinfo', async () => {
    const host = await readHost();
    const selection = await selectHostTarget();
    const vnni = host.cpuFlags.has('avx512_vnni') || host.cpuFlags.has('avx_vnni');
    if (host.arch === 'x64') expect(selection.target.name).toBe(vnni ? 'x86-vnni' : 'x86-avx2');
    if (host.arch === 'arm64') expect(selection.target.name).toBe('arm64');
  });
});
