import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulateOptionsFromFlags } from '../../src/cli/simulate.js';
import { verifyReport, type PrivacyReport } from '../../src/dp/index.js';
import type { SimulationSummary } from '../../src/cli/simulate/run.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function simulate(extra: string[]): SimulationSummary {
  const out = mkdtempSync(join(tmpdir(), 'fedveil-sim-'));
  dirs.push(out);
  const stdout = execFileSync(
    'node',
    [...cli, 'simulate', '--clients', '4', '--rounds', '2', '--examples', '100', '--test-examples', '500', '--model', 'logreg', '--workers', '2', '--out', out, '--json', ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout) as SimulationSummary;
}

describe('fedveil simulate', () => {
  let first: SimulationSummary;

  it('runs a private federation end to end and prints one JSON summary', () => {
    first = simulate(['--dropout', '0', '--epsilon', '6', '--seed', '7']);
    expect(first.secure).toBe(true);
    expect(first.rounds).toHaveLength(2);
    for (const r of first.rounds) {
      expect(r.status).toBe('completed');
      expect(r.contributors).toBe(4);
      expect(r.dropouts).toBe(0);
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
    }
    // ε grows over rounds and stays within the target the noise was calibrated to.
    const [e1, e2] = first.rounds.map((r) => r.epsilon as number);
    expect(e1).toBeGreaterThan(0);
    expect(e2).toBeGreaterThan(e1 as number);
    expect(first.final.epsilon).toBe(e2);
    expect(first.final.epsilon as number).toBeLessThanOrEqual(6 + 1e-9);
    expect(first.dp).toMatchObject({ mechanism: 'skellam', targetEpsilon: 6 });
    for (const p of [first.report, first.ledger, first.coordinatorKey, first.model]) expect(existsSync(p as string)).toBe(true);
    expect(readFileSync(first.ledger as string, 'utf8').trim().split('\n')).toHaveLength(3); // genesis + 2 rounds
    // The summary's ε figures are the report's.
    const report = JSON.parse(readFileSync(first.report as string, 'utf8')) as PrivacyReport;
    expect(first.epsilons?.ledgerReader.epsilon).toBe(report.ledgerReader.epsilon);
    expect(first.epsilons?.ledgerReader.epsilon).toBe(first.final.epsilon);
    expect(first.epsilons?.modelObserver).toEqual({ epsilon: report.modelObserver.epsilon, pldEpsilon: report.modelObserver.pldEpsilon ?? null, amplification: report.modelObserver.amplification });
  });

  it('writes an audit bundle that verify-report accepts, and rejects once the ledger is edited', () => {
    const ok = spawnSync('node', [...cli, 'verify-report', first.report as string, '--ledger', first.ledger as string, '--coordinator-key', first.coordinatorKey as string], { encoding: 'utf8' });
    expect(ok.stdout + ok.stderr).toContain('OK');
    expect(ok.stdout).toContain('signed by the pinned coordinator key');
    expect(ok.status).toBe(0);

    const lines = readFileSync(first.ledger as string, 'utf8').trim().split('\n');
    // Claim a round had one contributor fewer than it had.
    const entry = JSON.parse(lines[2] as string) as { contributors: unknown[] };
    entry.contributors.pop();
    writeFileSync(first.ledger as string, `${lines[0]}\n${lines[1]}\n${JSON.stringify(entry)}\n`);
    const bad = spawnSync('node', [...cli, 'verify-report', first.report as string, '--ledger', first.ledger as string], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('ledger/report-mismatch');

    const wrongKey = spawnSync('node', [...cli, 'verify-report', first.report as string, '--ledger', first.ledger as string, '--coordinator-key', 'ab'.repeat(32)], { encoding: 'utf8' });
    expect(wrongKey.status).toBe(1);
    expect(wrongKey.stdout).toContain('ledger/bad-signature');
  });

  it('a 10-of-20 fixed-size draw with the public simulation seed claims no amplification', () => {
    const sim = simulate(['--clients', '20', '--cohort', '10', '--dropout', '0', '--epsilon', '4', '--seed', '11', '--examples', '30']);
    const report = JSON.parse(readFileSync(sim.report as string, 'utf8')) as PrivacyReport;
    expect(report.version).toBe(2);
    expect(report.rounds).toHaveLength(2);
    for (const r of report.rounds) {
      expect(r.cohort).toEqual({ kind: 'fixed', size: 10, population: 20, secretSeed: false });
      expect(r.contributorIds).toHaveLength(10);
      expect(r.modelObserver.event).toEqual(r.ledgerReader.event);
      expect(r.modelObserver.epsilon).toBe(r.ledgerReader.epsilon);
    }
    expect(report.modelObserver.amplification).toBe(false);
    expect(report.modelObserver.adjacency).toBe('add-remove');
    // Calibrated against a participant in every round without amplification: both ε meet the target.
    expect(report.epsilon as number).toBeLessThanOrEqual(4 + 1e-9);
    expect(report.modelObserver.epsilon as number).toBeLessThanOrEqual(4 + 1e-9);
    expect(report.modelObserver.epsilon as number).toBeGreaterThanOrEqual(report.epsilon as number);
    expect(sim.final.epsilon).toBe(report.epsilon);
    expect(verifyReport(report)).toEqual([]);
  });

  it('is reproducible from its seed', () => {
    const again = simulate(['--dropout', '0', '--epsilon', '6', '--seed', '7']);
    expect(again.rounds.map((r) => [r.accuracy, r.loss, r.epsilon, r.contributors])).toEqual(first.rounds.map((r) => [r.accuracy, r.loss, r.epsilon, r.contributors]));
  });

  it('refuses bad flags with exit code 2 and names the flag', () => {
    const res = spawnSync('node', [...cli, 'simulate', '--clients', '4', '--cohort', '9'], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('--cohort 9 exceeds --clients 4');
    expect(() => simulateOptionsFromFlags({ rounds: 'ten' })).toThrow("--rounds must be a number, got 'ten'");
    expect(() => simulateOptionsFromFlags({ partition: 'dirichlet:-1' })).toThrow(/ALPHA/);
    expect(() => simulateOptionsFromFlags({ dp: 'none', epsilon: '3' })).toThrow(/--dp none gives no ε guarantee/);
  });

  it('ends by saying the ε against observers of the released models beside the headline, when that is what it calibrated', () => {
    const out = mkdtempSync(join(tmpdir(), 'fedveil-sim-'));
    dirs.push(out);
    const args = ['simulate', '--clients', '8', '--cohort', '6', '--rounds', '2', '--examples', '100', '--test-examples', '500', '--model', 'logreg', '--workers', '1', '--dropout', '0'];
    const stdout = execFileSync('node', [...cli, ...args, '--draw', 'poisson', '--epsilon-against', 'model-observer', '--dp', 'central', '--epsilon', '4', '--out', out], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as PrivacyReport;
    const line = /final test accuracy .*; ε = ([\d.]+) at δ = 0\.00001 against ledger readers; ([\d.]+) \(PLD ([\d.]+)\) against observers of the released models \(amplified by the secret draw\)/.exec(stdout);
    expect(line, stdout).not.toBeNull();
    expect(Number(line?.[1])).toBeCloseTo(report.ledgerReader.epsilon ?? NaN, 3);
    expect(Number(line?.[2])).toBeCloseTo(4, 3);
    expect(Number(line?.[2])).toBeCloseTo(report.modelObserver.epsilon ?? NaN, 3);
    expect(Number(line?.[3])).toBeCloseTo(report.modelObserver.pldEpsilon ?? NaN, 3);
  });
});
