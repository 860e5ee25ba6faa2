import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyReport } from '../../src/dp/index.js';
import { ledgerReportCheck, readLedgerBundle } from '../../src/server/ledger-audit.js';
import { seededRandom, randomUnit } from '../../src/secagg/index.js';

const fedveil = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'] as const;

describe('fedveil keygen → serve → client (separate processes, tfjs training)', () => {
  it('three participants train a logistic regression over two audited rounds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-cli-e2e-'));
    const keys = [1, 2, 3].map((i) => {
      const res = spawnSync(fedveil[0], [...fedveil.slice(1), 'keygen', '--out', join(dir, `k${i}.json`)], { encoding: 'utf8' });
      expect(res.status).toBe(0);
      return res.stdout.trim();
    });
    const rng = seededRandom('cli-e2e-data');
    for (let c = 0; c < 3; c++) {
      const rows = ['a,b,c,d,y'];
      for (let i = 0; i < 60; i++) {
        const y = randomUnit(rng) < 0.5 ? 0 : 1;
        rows.push([0, 1, 2, 3].map(() => (2 * y - 1 + (randomUnit(rng) - 0.5) * 2).toFixed(3)).join(',') + `,${y}`);
      }
      writeFileSync(join(dir, `d${c}.csv`), rows.join('\n') + '\n');
    }
    writeFileSync(
      join(dir, 'fed.json'),
      JSON.stringify({
        federationId: 'cli-e2e',
        participants: keys,
        rounds: 2,
        cohort: { size: 3 },
        threshold: 2,
        dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.001, rotation: true, targetEpsilon: 10, delta: 1e-5 },
        data: { features: ['a', 'b', 'c', 'd'], label: 'y', classes: ['0', '1'] },
        model: { name: 'logreg' },
        deadlines: { 'advertise-keys': 120_000, 'share-keys': 60_000, 'masked-input': 120_000, unmask: 60_000 },
        storage: { path: join(dir, 'coordinator.db') },
      }),
    );
    const serve = spawn(fedveil[0], [...fedveil.slice(1), 'serve', '--config', join(dir, 'fed.json'), '--export', join(dir, 'audit')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let serveLog = '';
    serve.stderr.on('data', (d: Buffer) => (serveLog += d.toString()));
    const url = await new Promise<string>((resolve) => serve.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    const clients = [1, 2, 3].map(
      (i) =>
        new Promise<string>((resolve) => {
          const c = spawn(fedveil[0], [...fedveil.slice(1), 'client', '--coordinator', url, '--identity', join(dir, `k${i}.json`), '--data', join(dir, `d${i - 1}.csv`), '--label', 'y', '--quiet'], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          c.stdout.on('data', (d: Buffer) => (out += d.toString()));
          c.on('exit', () => resolve(out));
        }),
    );
    const outputs = await Promise.all(clients);
    await new Promise<void>((resolve) => serve.on('exit', () => resolve()));
    for (const o of outputs) {
      const summary = JSON.parse(o) as { completed: number };
      expect(summary.completed).toBeGreaterThanOrEqual(1);
    }
    expect(serveLog).toContain('federation finished: 2 of 2 rounds released');
    const bundle = readLedgerBundle({ ledger: join(dir, 'audit', 'ledger.jsonl'), coordinatorKey: join(dir, 'audit', 'coordinator-key.json') });
    const report = JSON.parse(readFileSync(join(dir, 'audit', 'report.json'), 'utf8')) as unknown;
    expect(verifyReport(report, { checks: [ledgerReportCheck(bundle, { allowedParticipantKeys: keys })] })).toEqual([]);
    expect(bundle.entries).toHaveLength(3);
  });
});
