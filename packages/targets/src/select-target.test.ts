import { API_VERSION, QuantError, type TargetHost, type TargetPlugin } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { x86VnniTarget } from './profiles/x86-vnni.js';
import { selectTarget } from './select-target.js';

const node = (arch: string, flags: string[] = []): TargetHost => ({ environment: 'node', arch, cpuFlags: new Set(flags) });

describe('selectTarget', () => {
  it('maps CPU flags and architecture to profiles', async () => {
    const cases: [TargetHost, string][] = [
      [node('x64', ['avx2', 'avx512_vnni']), 'x86-vnni'],
      [node('x64', ['avx2', 'avx_vnni']), 'x86-vnni'],
      [node('x64', ['avx2', 'fma']), 'x86-avx2'],
      [node('x64'), 'x86-avx2'],
      [node('ia32', ['sse4_1']), 'x86-avx2'],
      [node('arm64', ['asimd', 'asimddp']), 'arm64'],
      [node('arm64'), 'arm64'],
      [node('riscv64'), 'wasm'],
      [{ environment: 'browser', cpuFlags: new Set(), wasmSimd: true }, 'wasm'],
      [{ environment: 'browser', cpuFlags: new Set(), wasmSimd: false }, 'wasm'],
    ];
    for (const [host, expected] of cases) expect((await selectTarget(host)).target.name).toBe(expected);
  });

  it('says why', async () => {
    expect((await selectTarget(node('x64', ['avx512_vnni']))).reason).toBe(
      'x86-vnni matches the host (node, x64, flags avx512_vnni)',
    );
    expect((await selectTarget(node('riscv64'))).reason).toContain('no profile matches the host (node, riscv64, no CPU flags read)');
  });

  it('awaits async detect and respects list order', async () => {
    const custom: TargetPlugin = { ...x86VnniTarget, name: 'my-npu', detect: async (host) => host.cpuFlags.has('npu') };
    expect((await selectTarget(node('x64', ['npu', 'avx2']), [custom, x86VnniTarget])).target.name).toBe('my-npu');
  });

  it('throws UNSUPPORTED listing the targets when nothing matches and there is no wasm profile', async () => {
    const error = await selectTarget(node('riscv64'), [x86VnniTarget]).catch((e: unknown) => e);
    expect(QuantError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toContain('x86-vnni');
    expect(API_VERSION).toBe(1);
  });
});
