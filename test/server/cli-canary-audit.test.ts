import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAuditedFederation, writtenAudit, type Started } from './canary-federation.js';

/**
 * The operator's empirical audit of a real federation, every step in its own process (README,
 * "In a real federation"): an honest federation passes `fedveil audit` and `fedveil
 * verify-report`; one whose participants' build adds a quarter of the noise is caught by both.
 * Two training participants and eight canaries, one round: few enough processes for the fast
 * suite. The canaries are most of the released change, so the estimate's μ sits near the true
 * one: a quarter of the noise quadruples it, far beyond the spread of eight canaries. Two assumed
 * colluders make the claim count 7 of the 10 noise shares the released sum carries (the
 * report's adversary sees fewer), so an honest run's μ sits about 0.8 of the claim's. Both runs
 * audit at 99.9% (Student's t with 7 degrees of freedom, 5.4 standard errors) against 1 000 null
 * directions. Measured over seven federations each: honest μ 0.7–1.4 (lower end of ε 0), a quarter
 * of the noise μ 5.3–5.8 (lower end 16–22 against the claim of 8).
 */

const processes: Started[] = [];
const dirs: string[] = [];
afterEach((ctx) => {
  for (const p of processes.splice(0)) {
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
    if (ctx.task.result?.state === 'fail') console.error(`--- fedveil ${p.args.join(' ')}\n${p.stderr()}`);
  }
  if (ctx.task.result?.state !== 'fail') for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fedveil-canary-e2e-'));
  dirs.push(dir);
  return dir;
}

describe('the empirical audit of a real federation (separate processes)', () => {
  it('an honest federation passes fedveil audit, and verify-report accepts the report that carries it', async () => {
    const f = await runAuditedFederation({ dir: fresh(), trainers: 2, canaries: 8, colluders: 2, confidence: 0.999, processes });
    expect(f.serve.code, f.serve.stderr).toBe(0);
    expect(f.serve.stderr).toContain('federation finished: 1 of 1 rounds released');
    for (const c of f.clients) expect(c.code, c.stderr).toBe(0);
    expect(f.audit.status, f.audit.stdout + f.audit.stderr).toBe(0);
    expect(f.audit.stdout).toContain('PASSED');
    const a = writtenAudit(f);
    expect(a.canaries).toBe(8);
    // 125 null directions per canary: at least 1 000 in all, so the null's spread is known well.
    expect(a.nulls).toBe(1000);
    // The noise is calibrated to ε 8 counting the colluders, as the ledger charges it.
    expect(a.claimedEpsilon).toBeGreaterThan(7.9);
    expect(a.claimedEpsilon).toBeLessThanOrEqual(8);
    expect(a.lower).toBeLessThanOrEqual(a.claimedEpsilon!);
    expect(f.verify.status, f.verify.stdout + f.verify.stderr).toBe(0);
  }, 240_000);

  it('a federation whose participants add a quarter of the noise is caught: audit exits 1, verify-report exits 1 with report/empirical-epsilon-exceeds-claim', async () => {
    const f = await runAuditedFederation({ dir: fresh(), trainers: 2, canaries: 8, colluders: 2, confidence: 0.999, env: { FEDVEIL_TEST_NOISE_SCALE: '0.25' }, processes });
    expect(f.serve.code, f.serve.stderr).toBe(0);
    for (const c of f.clients) expect(c.code, c.stderr).toBe(0);
    const a = writtenAudit(f);
    // The report still claims the ε of the calibrated noise: only the audit can tell.
    expect(a.claimedEpsilon).toBeGreaterThan(7.9);
    expect(a.claimedEpsilon).toBeLessThanOrEqual(8);
    expect(a.lower).toBeGreaterThan(a.claimedEpsilon!);
    expect(a.passed).toBe(false);
    expect(f.audit.status, f.audit.stdout + f.audit.stderr).toBe(1);
    expect(f.audit.stdout).toContain('FAILED');
    expect(f.verify.status, f.verify.stdout + f.verify.stderr).toBe(1);
    expect(f.verify.stdout).toContain('report/empirical-epsilon-exceeds-claim');
  }, 240_000);
});
