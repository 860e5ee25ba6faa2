import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulatedCoordinatorIdentity } from '../../src/cli/simulate/identities.js';
import type { SimulationSummary } from '../../src/cli/simulate/run.js';
import { nextClipNorm } from '../../src/dp/index.js';
import { ledgerLine, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { rechain } from '../server/fixtures.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('fedveil simulate --adaptive-clip', () => {
  it('moves the clip norm by the released fractions, with server momentum, and verify-report holds the ledger to the rule', () => {
    const out = mkdtempSync(join(tmpdir(), 'fedveil-sim-clip-'));
    dirs.push(out);
    const stdout = execFileSync(
      'node',
      [
        ...cli, 'simulate', '--clients', '4', '--rounds', '3', '--examples', '100', '--test-examples', '300', '--workers', '1', '--dropout', '0',
        '--noise', '0.5', '--adaptive-clip', '--clip-lr', '1', '--clip-quantile', '0.5', '--server-optimizer', 'fedavgm', '--seed', '5', '--out', out, '--json',
      ],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const summary = JSON.parse(stdout) as SimulationSummary;
    expect(summary.rounds.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    const clips = summary.rounds.map((r) => r.clipping!);
    expect(clips[0]!.clipNorm).toBe(0.5);
    const rule = { targetQuantile: 0.5, learningRate: 1, initial: 0.5, min: 0.5 / 1000, max: 500 };
    for (let t = 1; t < clips.length; t++) expect(clips[t]!.clipNorm).toBe(nextClipNorm(clips[t - 1]!.clipNorm, clips[t - 1]!.fraction!, rule));
    expect(new Set(clips.map((c) => c.clipNorm)).size).toBe(3);

    const verify = (ledger: string) =>
      spawnSync('node', [...cli, 'verify-report', summary.report!, '--ledger', ledger, '--coordinator-key', summary.coordinatorKey!], { encoding: 'utf8' });
    const ok = verify(summary.ledger!);
    expect(ok.stdout).toContain('OK');
    expect(ok.status).toBe(0);

    // The coordinator rewrites round 0's fraction and re-signs its ledger: round 1's C_t no longer follows.
    const entries = readFileSync(summary.ledger!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LedgerEntry);
    (entries[1] as { clipping: { fraction: number } }).clipping.fraction += 0.5;
    const tampered = join(out, 'tampered.jsonl');
    writeFileSync(tampered, `${rechain(entries, simulatedCoordinatorIdentity(5).secretKey).map(ledgerLine).join('\n')}\n`);
    const bad = verify(tampered);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('ledger/clip-mismatch');
  });
});
