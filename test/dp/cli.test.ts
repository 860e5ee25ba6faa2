import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { verifyReportFile } from '../../src/cli/verify-report.js';
import { buildReport, type DpConfig } from '../../src/dp/index.js';

// Spawning `node --import tsx` costs seconds on a loaded machine, so the end-to-end runs cover
// each exit path once and the remaining argument checks run the same commander program in-process.
const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const run = (...args: string[]) => spawnSync('node', [...cli, ...args], { encoding: 'utf8' });

/** Runs the fedveil program in-process; returns what it wrote and the commander error, if any. */
async function inProcess(...args: string[]): Promise<{ stdout: string; stderr: string; error?: CommanderError }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    await buildProgram().parseAsync(['node', 'fedveil', ...args]);
    return { stdout, stderr };
  } catch (e) {
    if (e instanceof CommanderError) return { stdout, stderr, error: e };
    throw e;
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('fedveil accountant', () => {
  it('epsilon --json prints exactly one JSON object matching dp_accounting (P08)', () => {
    const out = execFileSync('node', [...cli, 'accountant', 'epsilon', '--q', '0.01', '--sigma', '1.1', '--steps', '10000', '--delta', '1e-5', '--json'], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0] as string) as { epsilon: number; delta: number; order: number };
    expect(Math.abs(r.epsilon / 5.632010670081592 - 1)).toBeLessThan(1e-6);
    expect(r).toMatchObject({ delta: 1e-5, order: 4.7 });
  });

  it('epsilon --mechanism skellam matches the distributed-DP reference (P17)', async () => {
    const { stdout: out } = await inProcess(
      'accountant', 'epsilon', '--mechanism', 'skellam', '--q', '0.01', '--sigma', '1', '--steps', '1000', '--delta', '1e-5', '--gamma', '1/4096', '--dim', '65536', '--json',
    );
    const r = JSON.parse(out) as { epsilon: number; order: number };
    expect(Math.abs(r.epsilon / 2.4537950946935134 - 1)).toBeLessThan(1e-6);
    expect(r.order).toBe(7);
  });

  it('calibrate --json prints the noise multiplier (P15)', async () => {
    const { stdout: out } = await inProcess('accountant', 'calibrate', '--epsilon', '1', '--delta', '1e-5', '--q', '0.01', '--steps', '1000', '--json');
    expect(out.trim().split('\n')).toHaveLength(1);
    const r = JSON.parse(out) as { sigma: number };
    expect(Math.abs(r.sigma / 1.5131221843914873 - 1)).toBeLessThan(1e-6);
  });

  it('exits 2 with a clear message for a bad argument (end to end)', () => {
    const r = run('accountant', 'epsilon', '--q', '1.5', '--sigma', '1', '--steps', '10', '--delta', '1e-5');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('q must be in (0, 1]');
    expect(r.stdout).toBe('');
  });

  it.each([
    [['epsilon', '--q', '0', '--sigma', '1', '--steps', '10', '--delta', '1e-5'], 'q must be in (0, 1]'],
    [['epsilon', '--q', '0.5', '--sigma', '-1', '--steps', '10', '--delta', '1e-5'], 'sigma must be > 0'],
    [['epsilon', '--q', '0.5', '--sigma', '1', '--steps', '10', '--delta', '1'], 'delta must be in (0, 1)'],
    [['epsilon', '--q', '0.5', '--sigma', '1', '--steps', '2.5', '--delta', '1e-5'], 'steps must be a positive integer'],
    [['epsilon', '--q', '0.5', '--sigma', '1', '--steps', '10'], "required option '--delta <D>' not specified"],
    [['epsilon', '--q', '0.5', '--sigma', '1', '--steps', '10', '--delta', '1e-5', '--mechanism', 'skellam'], '--mechanism skellam needs --gamma'],
    [['calibrate', '--epsilon', '-1', '--delta', '1e-5', '--q', '0.1', '--steps', '10'], 'epsilon must be > 0'],
    [['calibrate', '--epsilon', '1', '--q', '0.1', '--steps', '10'], "required option '--delta <D>' not specified"],
  ])('refuses bad arguments %j with a commander error (exit 2 in main)', async (args, msg) => {
    const r = await inProcess('accountant', ...args);
    expect(r.error).toBeInstanceOf(CommanderError);
    expect(r.stderr).toContain(msg);
    expect(r.stdout).toBe('');
  });
});

describe('fedveil verify-report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedveil-dp-'));
  const config: DpConfig = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1 / 1024, rotation: true, noiseMultiplier: 1, minContributors: 5 };
  const key = (i: number): string => i.toString(16).padStart(64, '0');
  // Participants 0..5 in rounds 1–2, 2..7 in round 3.
  const report = buildReport({
    federationId: 'cli-test',
    delta: 1e-5,
    rounds: [1, 2, 3].map((round) => {
      const ids = Array.from({ length: 6 }, (_, i) => key(i + (round === 3 ? 2 : 0)));
      return { round, outcome: 'released' as const, cohort: { kind: 'fixed' as const, size: 6, population: 60, secretSeed: true }, contributors: 6, contributorIds: ids, dim: 1000, config };
    }),
  });

  it('exits 0 when every claim holds, 1 listing each discrepancy, 2 for unreadable or malformed files', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(report));
    const ok = run('verify-report', good);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('OK: every claim');
    expect(ok.stdout).toContain(`against ${report.ledgerReader.adversary}: epsilon ${report.ledgerReader.epsilon}`);
    expect(report.modelObserver.amplification).toBe(false); // 6 of 60 at this noise: amplification under replace-one does not pay
    expect(ok.stdout).toContain(`against ${report.modelObserver.adversary}: epsilon ${report.modelObserver.epsilon} (no amplification by sampling)`);

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
      expect.arrayContaining(['report/contributor-count', 'report/event-mismatch', 'report/too-few-contributors', 'report/epsilon-understated']),
    );

    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{"format": "fedveil.privacy-report", "version": 7}');
    const r2 = run('verify-report', garbage);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('report/malformed');
  });

  it("prints one participant's own ε with --participant", async () => {
    const good = join(dir, 'good-participant.json');
    writeFileSync(good, JSON.stringify(report));
    const inAll = await inProcess('verify-report', good, '--participant', key(3));
    expect(inAll.error).toBeUndefined();
    expect(inAll.stdout).toContain(`participant ${key(3)}: epsilon ${report.ledgerReader.participants[key(3)]} against ledger readers over the 3 charged round(s)`);
    expect(report.ledgerReader.participants[key(3)]).toBe(report.epsilon);
    const inOne = await inProcess('verify-report', good, '--participant', key(7).toUpperCase(), '--json');
    const j = JSON.parse(inOne.stdout) as { participant: { key: string; epsilon: number; rounds: number } };
    expect(j.participant).toEqual({ key: key(7), epsilon: report.ledgerReader.participants[key(7)], rounds: 1 });
    expect(j.participant.epsilon).toBeLessThan(report.epsilon as number);
    const bad = await inProcess('verify-report', good, '--participant', 'xyz');
    expect(bad.error?.exitCode).toBe(2);
    expect(bad.stderr).toContain('--participant must be 64 hex characters');
  });

  it('maps an unreadable or non-JSON file to exit 2', async () => {
    expect(verifyReportFile(join(dir, 'missing.json')).exitCode).toBe(2);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{');
    expect(verifyReportFile(notJson)).toMatchObject({ exitCode: 2, error: expect.stringContaining('is not JSON') });
    const r = await inProcess('verify-report', join(dir, 'missing.json'));
    expect(r.error).toBeInstanceOf(CommanderError);
    expect(r.error?.exitCode).toBe(2);
    expect(r.stderr).toContain('cannot read');
  });
});

describe('fedveil accountant --accountant pld', () => {
  it('epsilon prints the PLD ε, matching dp_accounting\'s PLD accountant (P07), below the RDP ε', async () => {
    const args = ['accountant', 'epsilon', '--q', '0.01', '--sigma', '1', '--steps', '1000', '--delta', '1e-5', '--json'];
    const pld = JSON.parse((await inProcess(...args, '--accountant', 'pld')).stdout) as { epsilon: number; accountant: string };
    expect(pld.accountant).toBe('pld');
    expect(Math.abs(pld.epsilon / 1.8282436461194622 - 1)).toBeLessThan(1e-3);
    const rdp = JSON.parse((await inProcess(...args)).stdout) as { epsilon: number };
    expect(pld.epsilon).toBeLessThan(rdp.epsilon);
  });

  it('calibrate finds the PLD noise multiplier (P15), and epsilon refuses a vector Skellam with exit 2 and the accountant\'s code', async () => {
    const cal = JSON.parse((await inProcess('accountant', 'calibrate', '--epsilon', '1', '--delta', '1e-5', '--q', '0.01', '--steps', '1000', '--accountant', 'pld', '--json')).stdout) as { sigma: number };
    expect(Math.abs(cal.sigma / 1.4146308487349613 - 1)).toBeLessThan(1e-3);
    const r = await inProcess('accountant', 'epsilon', '--mechanism', 'skellam', '--q', '1', '--sigma', '1', '--steps', '10', '--delta', '1e-5', '--gamma', '1/4096', '--dim', '1000', '--accountant', 'pld');
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.code).toBe('dp/pld-unsupported-event');
  });

  it('verify-report prints the PLD ε of a central-DP report and refuses an understated one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-pld-'));
    const config: DpConfig = { mechanism: 'central', clipNorm: 1, bits: 32, scale: 1 / 4096, rotation: false, noiseMultiplier: 2, minContributors: 1 };
    const key = (i: number): string => i.toString(16).padStart(64, '0');
    const report = buildReport({
      federationId: 'cli-pld',
      delta: 1e-5,
      rounds: [1, 2].map((round) => ({ round, outcome: 'released' as const, cohort: { kind: 'all' as const, population: 4 }, contributors: 4, contributorIds: [0, 1, 2, 3].map(key), dim: 10, config })),
    });
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(report));
    const ok = verifyReportFile(good);
    expect(ok.exitCode).toBe(0);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...report, pldEpsilon: 0.01 }));
    const out = run('verify-report', bad, '--json');
    expect(out.status).toBe(1);
    expect((JSON.parse(out.stdout) as { discrepancies: { code: string }[] }).discrepancies.map((d) => d.code)).toEqual(['report/pld-epsilon-understated']);
    const text = run('verify-report', good);
    expect(text.stdout).toContain(`PLD accountant (fedveil-pld 1, grid 0.0001): epsilon ${report.ledgerReader.pldEpsilon} against ledger readers`);
  });
});
