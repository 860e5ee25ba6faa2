import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRunDir, modelVersionPath } from '../../src/cli/canary-audit-files.js';
import { simulateOptionsFromFlags } from '../../src/cli/simulate.js';
import { DEFAULT_NOISE_PROBE, noiseProbeOf } from '../../src/cli/simulate/options.js';
import { ledgerCheck, verifyReportFile } from '../../src/cli/verify-report.js';
import type { SimulationSummary } from '../../src/cli/simulate/run.js';
import { verifyReport, type PrivacyReport } from '../../src/dp/index.js';
import { FedveilError } from '../../src/secagg/util/errors.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A small audited federation: 2 clients and 24 canaries (the canaries are most of the sum, as many as fit a fast test), one round. */
function simulate(env: Record<string, string> = {}): SimulationSummary {
  const out = mkdtempSync(join(tmpdir(), 'fedveil-audit-'));
  dirs.push(out);
  const stdout = execFileSync(
    'node',
    [...cli, 'simulate', '--clients', '2', '--audit-canaries', '24', '--rounds', '1', '--examples', '20', '--test-examples', '50', '--dropout', '0', '--workers', '1', '--seed', '3', '--out', out, '--json'],
    { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, ...env } },
  );
  return JSON.parse(stdout) as SimulationSummary;
}

function errorCodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof FedveilError ? e.code : String(e);
  }
  return undefined;
}

describe('the empirical privacy audit (canaries)', () => {
  let honest: SimulationSummary;
  let underNoised: SimulationSummary;
  beforeAll(() => {
    honest = simulate();
    underNoised = simulate({ FEDVEIL_TEST_NOISE_SCALE: '0.25' });
  }, 240_000);

  it('an honest run passes: its estimate stays below the claimed ε, and verify-report accepts the report', () => {
    const a = honest.audit!;
    expect(a.canaries).toBe(24);
    expect(a.claimedEpsilon).toBeGreaterThan(0);
    expect(a.lower).toBeLessThanOrEqual(a.claimedEpsilon!);
    expect(a.passed).toBe(true);
    const report = JSON.parse(readFileSync(honest.report!, 'utf8')) as PrivacyReport;
    expect(report.empiricalAudit).toEqual(a);
    const held = ledgerCheck({ ledger: honest.ledger!, coordinatorKey: honest.coordinatorKey! });
    expect(verifyReportFile(honest.report!, [held.check]).discrepancies).toEqual([]);
  });

  it('with canaries the participants append the noise probe by default: the honest run passes its noise audit', () => {
    const n = honest.noiseAudit!;
    expect(n.samples).toBe(DEFAULT_NOISE_PROBE);
    expect(n.passed).toBe(true);
    expect(n.claimedEpsilon).toBeCloseTo(honest.audit!.claimedEpsilon!, 6);
  });

  it('a run whose participants add a quarter of the noise fails: verify-report exits 1 and says why, as does fedveil audit', () => {
    const a = underNoised.audit!;
    expect(a.passed).toBe(false);
    expect(a.lower).toBeGreaterThan(a.claimedEpsilon!);
    // The report still claims the calibrated ε: only the audit can tell.
    expect(a.claimedEpsilon).toBeCloseTo(honest.audit!.claimedEpsilon!, 6);
    const v = spawnSync('node', [...cli, 'verify-report', underNoised.report!, '--ledger', underNoised.ledger!], { encoding: 'utf8' });
    expect(v.status).toBe(1);
    expect(v.stdout).toContain('report/empirical-epsilon-exceeds-claim');
    expect(v.stdout).toContain('less noise than the report claims');
    // The noise probe sees it directly: the released probe values carry about a quarter of the claimed noise.
    expect(v.stdout).toContain('report/noise-below-claim');
    expect(underNoised.noiseAudit!.passed).toBe(false);
    expect(underNoised.noiseAudit!.noiseFraction).toBeGreaterThan(0.2);
    expect(underNoised.noiseAudit!.noiseFraction).toBeLessThan(0.3);
    const audit = spawnSync('node', [...cli, 'audit', underNoised.out, '--no-write'], { encoding: 'utf8' });
    expect(audit.status).toBe(1);
    expect(audit.stdout).toContain('FAILED');
  });

  it('refuses canaries other than those the genesis committed to, and models other than those the ledger records', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-audit-tamper-'));
    dirs.push(dir);
    cpSync(honest.out, dir, { recursive: true });
    expect(auditRunDir(dir, { write: false }).audit).toEqual(honest.audit);
    const revealPath = join(dir, 'canary-audit', 'canaries.json');
    const reveal = readFileSync(revealPath, 'utf8');
    const doc = JSON.parse(reveal) as { canaries: { secret: string }[] };
    doc.canaries[0]!.secret = 'ab'.repeat(32);
    writeFileSync(revealPath, JSON.stringify(doc));
    expect(errorCodeOf(() => auditRunDir(dir, { write: false }))).toBe('audit/commitment-mismatch');
    writeFileSync(revealPath, reveal);
    const model = modelVersionPath(dir, 1);
    const bytes = readFileSync(model);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(model, bytes);
    expect(errorCodeOf(() => auditRunDir(dir, { write: false }))).toBe('audit/model-mismatch');
    rmSync(model);
    expect(errorCodeOf(() => auditRunDir(dir, { write: false }))).toBe('audit/missing-model');
  });

  it('verify-report refuses an audit that tested an inflated claim or states a verdict its numbers do not give', () => {
    const report = JSON.parse(readFileSync(underNoised.report!, 'utf8')) as PrivacyReport;
    const inflated = { ...report, empiricalAudit: { ...report.empiricalAudit!, claimedEpsilon: 1000, passed: true } };
    expect(verifyReport(inflated).map((d) => d.code)).toContain('report/audit-mismatch');
    const lying = { ...report, empiricalAudit: { ...report.empiricalAudit!, passed: true } };
    expect(verifyReport(lying).map((d) => d.code)).toEqual(['report/empirical-epsilon-exceeds-claim', 'report/audit-mismatch', 'report/noise-below-claim']);
  });
});

describe('simulate --audit-canaries', () => {
  it('refuses a single canary and an audit without DP', () => {
    expect(() => simulateOptionsFromFlags({ auditCanaries: '1' })).toThrow(/--audit-canaries/);
    expect(() => simulateOptionsFromFlags({ auditCanaries: '10', dp: 'none' })).toThrow(/--audit-canaries.*needs secure aggregation with DP/);
  });

  it('counts the canaries in the default cohort', () => {
    expect(simulateOptionsFromFlags({ clients: '5', auditCanaries: '10', cohort: '15' }).cohort).toBe(15);
    expect(() => simulateOptionsFromFlags({ clients: '5', auditCanaries: '10', cohort: '16' })).toThrow(/--cohort/);
  });

  it('--noise-probe: 256 coordinates by default with canaries, none without, refused without DP', () => {
    expect(noiseProbeOf(simulateOptionsFromFlags({ auditCanaries: '10' }))).toBe(DEFAULT_NOISE_PROBE);
    expect(noiseProbeOf(simulateOptionsFromFlags({}))).toBe(0);
    expect(noiseProbeOf(simulateOptionsFromFlags({ noiseProbe: '64' }))).toBe(64);
    expect(() => simulateOptionsFromFlags({ noiseProbe: '64', dp: 'none' })).toThrow(/--noise-probe.*needs secure aggregation with DP/);
  });
});

describe('fedveil canaries (a real federation’s operator)', () => {
  it('creates identities and secrets whose commitment it prints, and a client finds its own secret or refuses', async () => {
    const { buildProgram } = await import('../../src/cli/program.js');
    const { readCanarySecret } = await import('../../src/cli/canaries.js');
    const { canaryCommitment, CanaryRevealSchema } = await import('../../src/server/canary-audit.js');
    const { readIdentityFile } = await import('../../src/server/identity.js');
    const { defaultProvider, toHex } = await import('../../src/secagg/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-canaries-'));
    dirs.push(dir);
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stdout.write;
    try {
      await buildProgram().parseAsync(['node', 'fedveil', 'canaries', '--count', '3', '--federation-id', 'fed-a', '--out', dir, '--json']);
    } finally {
      process.stdout.write = write;
    }
    const printed = JSON.parse(written.join('')) as { auditCommitment: string; participants: string[]; secrets: string };
    const reveal = CanaryRevealSchema.parse(JSON.parse(readFileSync(printed.secrets, 'utf8')));
    expect(printed.auditCommitment).toBe(canaryCommitment('fed-a', reveal.canaries));
    expect(printed.participants).toEqual(reveal.canaries.map((c) => c.publicKey));
    const id = readIdentityFile(join(dir, 'canary-1.json'), defaultProvider);
    expect(toHex(readCanarySecret(printed.secrets, toHex(id.publicKey)))).toBe(reveal.canaries[1]!.secret);
    expect(errorCodeOf(() => readCanarySecret(printed.secrets, '00'.repeat(32)))).toBe('cli/not-a-canary');
    await expect(buildProgram().parseAsync(['node', 'fedveil', 'canaries', '--count', '3', '--federation-id', 'fed-a', '--out', dir])).rejects.toThrow(/created once/);
  });
});
