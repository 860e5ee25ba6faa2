import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/secagg/index.js';
import { parseFederationConfig } from '../../src/server/config.js';
import { startCoordinator } from '../../src/server/start.js';
import { identities } from './fixtures.js';

const repo = resolve(import.meta.dirname, '../..');
const fedveil = [process.execPath, '--import', pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href, join(repo, 'src/cli/main.ts')] as const;

const config = (rounds: number, targetEpsilon: number) => ({
  federationId: 'fed-amend-serve',
  participants: identities(3, 'amend-serve').map((p) => toHex(p.publicKey)),
  rounds,
  cohort: { size: 3 },
  threshold: 2,
  dp: { mechanism: 'skellam', clipNorm: 1, bits: 20, scale: 0.01, rotation: false, minContributors: 2, targetEpsilon },
  model: { name: 'logreg', options: { inputSize: 4, numClasses: 2 } },
  storage: { path: 'state/coordinator.db' },
  seed: 'amend-serve',
  dashboard: false,
});

describe('fedveil serve on a federation whose config raised its rounds (separate processes)', () => {
  it('refuses without --amend, saying what would be spent against the target; with it, records the amendment and runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-amend-serve-'));
    const file = join(dir, 'federation.json');
    // the federation as it was opened: its ledger and coordinator key beside the storage
    const opened = await startCoordinator({ config: { ...parseFederationConfig(config(3, 4)), storage: { path: join(dir, 'state/coordinator.db') } }, initialModel: new Float32Array(10), autoStart: false });
    await opened.close();

    writeFileSync(file, JSON.stringify(config(6, 4)));
    const refused = spawnSync(fedveil[0], [...fedveil.slice(1), 'serve', '--config', file, '--quiet'], { encoding: 'utf8', timeout: 60_000 });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/rounds 3 → 6, ε target 4 \(unchanged\)\. The 0 rounds released so far spent ε 0 .*would spend ε [0-9.]+ in total, against the target 4\. Start again with --amend/);

    const serve = spawn(fedveil[0], [...fedveil.slice(1), 'serve', '--config', file, '--amend', 'a longer study'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    serve.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => serve.on('exit', (code) => r(code)));
    const t0 = Date.now();
    while (!/waiting|listening/.test(stderr) && Date.now() - t0 < 60_000 && serve.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    serve.kill('SIGTERM');
    await exited;
    expect(stderr).toMatch(/federation amended from round 0: rounds 3 → 6, ε target 4 \(unchanged\); ε spent so far 0; noise multiplier of the remaining rounds [0-9.]+ \(ledger entry 1\)/);
  }, 90_000);
});
