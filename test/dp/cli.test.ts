import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport, type DpConfig } from '../../src/dp/index.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const run = (...args: string[]) => spawnSync('node', [...cli, ...args], { encoding: 'utf8' });

describe('fedveil accountant', () => {
  it('epsilon --json prints exactly one JSON object matching dp_accounting (P08)', () => {
    const out = execFileSync('node', [...cli, 'accountant', 'epsilon', '--q', '0.01', '--sigma', '1.1', '--steps', '10000', '--delta', '1e-5', '--json'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0] as string) as { epsilon: number; delta: number; order: number };
    expect(Math.abs(r.epsilon / 5.632010670081592 - 1)).toBeLessThan(1e-6);
    expect(r).toMatchObject({ delta: 1e-5, order: 4.7 });
  });

  it('epsilon --mechanism skellam matches the distributed-DP reference (P17)', () => {
    const out = execFileSync(
      'node',
      [...cli, 'accountant', 'epsilon', '--mechanism', 'skellam', '--q', '0.01', '--sigma', '1', '--steps', '1000', '--delta', '1e-5', '--gamma', '1/4096', '--dim', '65536', '--json'],
      { encoding: 'utf8' },
    );
    const r = JSON.parse(out) as { epsilon: number; order: number };
    expect(Math.abs(r.epsilon / 2.4537950946935134 - 1)).toBeLessThan(1e-6);
    expect(r.order).toBe(7);
  });

  it('calibrate --json prints the noise multiplier (P15)', () => {
    const out = execFileSync('node', [...cli, 'accountant', 'calibrate', '--epsilon', '1', '--delta', '1e-5', '--q', '0.01', '--steps', '1000', '--json'], { encoding: 'utf8' });
    const r = JSON.parse(out) as { sigma: number };
    expect(Math.abs(r.sigma / 1.5131221843914873 - 1)).toBeLessThan(1e-6);
  });

  it.each([
    [['--q', '1.5', '--sigma', '1', '--steps', '10', '--delta', '1e-5'], 'q must be in (0, 1]'],
    [['--q', '0.5', '--sigma', '-1', '--steps', '10', '--delta', '1e-5'], 'sigma must be > 0'],
    [['--q', '0.5', '--sigma', '1', '--steps', '10', '--delta', '1'], 'delta must be in (0, 1)'],
    [['--q', '0.5', '--sigma', '1', '--steps', '10'], "required option '--delta <D>' not specified"],
  ])('exits 2 with a clear message for bad arguments %j', (args, msg) => {
    const r = run('accountant', 'epsilon', ...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(msg);
    expect(r.stdout).toBe('');
  });
});

describe('fedveil verify-report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedveil-dp-'));
  const config: DpConfig = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1 / 1024, rotation: true, noiseMultiplier: 1, minContributors: 5 };
  const report = buildReport({
    federationId: 'cli-test',
    delta: 1e-5,
    rounds: [1, 2, 3].map((round) => ({ round, samplingRate: 0.1, contributors: 6, dim: 1000, config })),
  });

  it('exits 0 when every claim holds, 1 listing each discrepancy, 2 for unreadable or malformed files', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(report));
    const ok = run('verify-report', good);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('OK: every claim');

    const bad = join(dir, 'bad.json');
    const tampered = structuredClone(report);
    tampered.epsilon = 0.001;
    tampered.rounds[1]!.contributors = 2;
    writeFileSync(bad, JSON.stringify(tampered));
    const r1 = run('verify-report', bad, '--json');
    expect(r1.status).toBe(1);
    const j = JSON.parse(r1.stdout) as { ok: boolean; discrepancies: { code: string }[] };
    expect(j.ok).toBe(false);
    expect(j.discrepancies.map((d) => d.code)).toEqual(
      expect.arrayContaining(['report/event-mismatch', 'report/too-few-contributors', 'report/epsilon-understated']),
    );

    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{"format": "fedveil.privacy-report", "version": 7}');
    const r2 = run('verify-report', garbage);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('report/malformed');
    expect(run('verify-report', join(dir, 'missing.json')).status).toBe(2);
  });
});
