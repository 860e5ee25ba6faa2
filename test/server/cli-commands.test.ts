import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { nodeProvider, toHex } from '../../src/secagg/index.js';
import { readIdentityFile } from '../../src/server/identity.js';

/** Runs the command in-process; returns its stdout and the error it failed with (main.ts prints it and exits 1). */
async function cli(...args: string[]): Promise<{ stdout: string; error: Error | undefined }> {
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await buildProgram().parseAsync(['node', 'fedveil', ...args]);
    return { stdout, error: undefined };
  } catch (e) {
    return { stdout, error: e as Error };
  } finally {
    spy.mockRestore();
  }
}

describe('fedveil keygen / serve', () => {
  it('keygen writes a 0600 identity, prints its public key, and refuses to overwrite', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fedveil-keygen-')), 'me.json');
    const res = await cli('keygen', '--out', out);
    expect(res.error).toBeUndefined();
    const id = readIdentityFile(out, nodeProvider);
    expect(res.stdout.trim()).toBe(toHex(id.publicKey));
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const again = await cli('keygen', '--out', out);
    expect(again.error).toMatchObject({ code: 'identity/exists' });
    expect(readIdentityFile(out, nodeProvider).publicKey).toEqual(id.publicKey);
  });

  it('serve refuses an invalid config naming the field and the rule', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-serve-'));
    const config = join(dir, 'fed.json');
    writeFileSync(
      config,
      JSON.stringify({
        federationId: 'x',
        participants: ['a'.repeat(64), 'b'.repeat(64)],
        rounds: 1,
        cohort: { size: 2 },
        threshold: 2,
        dp: { mechanism: 'skellam', clipNorm: 0, bits: 20, scale: 0.01, noiseMultiplier: 1 },
        model: { name: 'logreg' },
        dim: 10,
        storage: { path: join(dir, 'c.db') },
      }),
    );
    const res = await cli('serve', '--config', config, '--quiet');
    expect(res.error).toMatchObject({ code: 'config/invalid' });
    expect(res.error?.message).toMatch(/dp\.clipNorm: .*\(too_small\)/);
    expect(() => readFileSync(join(dir, 'c.db'))).toThrow();
  });
});
