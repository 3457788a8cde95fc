import { describe, expect, it } from 'vitest';
import { detectTarget, probeHost } from './detect-target.js';

describe('detectTarget', () => {
  it('returns wasm in a browser', async () => {
    const target = await detectTarget({ host: { environment: 'browser', cpuFlags: new Set(), wasmSimd: true } });
    expect(target.name).toBe('wasm');
  });

  it('goes by architecture in Node, where this entry reads no CPU flags', async () => {
    expect((await detectTarget({ host: { environment: 'node', arch: 'x64', cpuFlags: new Set() } })).name).toBe('x86-avx2');
    expect((await detectTarget({ host: { environment: 'node', arch: 'arm64', cpuFlags: new Set() } })).name).toBe('arm64');
  });

  it('probes this host as Node with its arch and WASM SIMD, without flags', () => {
    const host = probeHost();
    expect(host).toMatchObject({ environment: 'node', arch: process.arch, wasmSimd: true });
    expect(host.cpuFlags.size).toBe(0);
  });
});
