import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimulationSummary } from '../../src/cli/simulate/run.js';

// The noise probe through `fedveil simulate` (masks, noise shares, secure aggregation, the
// ledger) with 1 024 probe coordinates over 2 rounds: 2 048 values, enough to refute a claim
// when the noise standard deviation is below about 0.93 of it. Fixed seed: an honest run passes,
// a run whose participants add 0.9 of their noise fails.

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function simulate(env: Record<string, string> = {}): SimulationSummary {
  const out = mkdtempSync(join(tmpdir(), 'fedveil-probe-'));
  dirs.push(out);
  const args = ['simulate', '--clients', '10', '--rounds', '2', '--noise-probe', '1024', '--examples', '20', '--test-examples', '50', '--dropout', '0', '--workers', '1', '--seed', '5', '--out', out, '--json'];
  return JSON.parse(execFileSync('node', [...cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, ...env } })) as SimulationSummary;
}

const verify = (s: SimulationSummary) => spawnSync('node', [...cli, 'verify-report', s.report!, '--ledger', s.ledger!, '--coordinator-key', s.coordinatorKey!], { encoding: 'utf8' });

describe('simulate --noise-probe 1024', () => {
  it('an honest run passes and verify-report accepts it; 0.9 of the noise fails with report/noise-below-claim', () => {
    const honest = simulate();
    expect(honest.noiseAudit!.samples).toBe(2048);
    expect(honest.noiseAudit!.passed).toBe(true);
    expect(verify(honest).status).toBe(0);
    const short = simulate({ FEDVEIL_TEST_NOISE_SCALE: '0.9' });
    expect(short.noiseAudit!.passed).toBe(false);
    expect(short.noiseAudit!.noiseFraction).toBeGreaterThan(0.85);
    expect(short.noiseAudit!.noiseFraction).toBeLessThan(0.95);
    const v = verify(short);
    expect(v.status).toBe(1);
    expect(v.stdout).toContain('report/noise-below-claim');
  });
});
