import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrivacyReportSchema, type EmpiricalAudit, type PrivacyReport } from '../dp/index.js';
import { CANARY_REVEAL_FORMAT, CanaryRevealSchema, runCanaryAudit, type Canary, type CanaryReveal } from '../server/canary-audit.js';
import { readCoordinatorKey, readLedgerFile } from '../server/ledger-audit.js';
import { verifyLedger } from '../server/ledger-verify.js';
import type { LedgerEntry } from '../server/ledger-entry.js';
import { FedveilError } from '../secagg/util/errors.js';

/**
 * Layout of an audited run's folder: `ledger.jsonl` and `report.json` (the coordinator's export),
 * `canary-audit/canaries.json` (the canaries' secrets, revealed after the run) and
 * `canary-audit/models/<version>.f32` (each released model version, as published).
 */
export const AUDIT_SUBDIR = 'canary-audit';

/** Where model version `version` of an audited run is kept. */
export function modelVersionPath(dir: string, version: number): string {
  return join(dir, AUDIT_SUBDIR, 'models', `${version}.f32`);
}

/** Saves one released model version (its published bytes) for the audit. */
export function saveModelVersion(dir: string, version: number, weights: Uint8Array): void {
  mkdirSync(join(dir, AUDIT_SUBDIR, 'models'), { recursive: true });
  writeFileSync(modelVersionPath(dir, version), weights);
}

/** Writes the reveal file: after the run, never before (the genesis holds only the commitment). */
export function writeCanaryReveal(dir: string, federationId: string, canaries: readonly Canary[]): string {
  mkdirSync(join(dir, AUDIT_SUBDIR), { recursive: true });
  const path = join(dir, AUDIT_SUBDIR, 'canaries.json');
  const reveal: CanaryReveal = { format: CANARY_REVEAL_FORMAT, version: 1, federationId, canaries: [...canaries] };
  writeFileSync(path, `${JSON.stringify(reveal, null, 2)}\n`);
  return path;
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FedveilError('audit/unreadable', `cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** What {@link auditRunDir} found and did. */
export interface AuditedRun {
  audit: EmpiricalAudit;
  report: string;
}

/**
 * Audits the run in `dir`: reads and verifies its ledger (signed by `coordinatorKey` when given,
 * else by the key its genesis names), the revealed canaries and the saved model versions, runs
 * {@link runCanaryAudit}, and writes the result into `report.json` as `empiricalAudit` (with
 * `write`). Throws FedveilError `audit/…` (or the ledger's first problem) when the inputs do not
 * hold together.
 */
export function auditRunDir(dir: string, o: { coordinatorKey?: string; write?: boolean; confidence?: number; bootstrap?: number } = {}): AuditedRun {
  const ledgerPath = join(dir, 'ledger.jsonl');
  const { entries, problems } = readLedgerFile(ledgerPath);
  const verified = verifyLedger(entries, o.coordinatorKey === undefined ? null : readCoordinatorKey(o.coordinatorKey), null);
  const first = problems[0] ?? verified[0];
  if (first !== undefined) throw new FedveilError('audit/bad-ledger', `${ledgerPath}: ${first.code}: ${first.message}`);
  const revealPath = join(dir, AUDIT_SUBDIR, 'canaries.json');
  const reveal = CanaryRevealSchema.safeParse(readJson(revealPath, 'the revealed canaries'));
  if (!reveal.success) throw new FedveilError('audit/unreadable', `${revealPath} is not a canary reveal file: ${reveal.error.issues[0]?.message ?? ''}`);
  const modelsDir = join(dir, AUDIT_SUBDIR, 'models');
  const models = new Map<number, Uint8Array>();
  if (existsSync(modelsDir)) {
    for (const name of readdirSync(modelsDir)) {
      const m = /^(\d+)\.f32$/.exec(name);
      if (m !== null) models.set(Number(m[1]), new Uint8Array(readFileSync(join(modelsDir, name))));
    }
  }
  const audit = runCanaryAudit(entries as LedgerEntry[], reveal.data, models, o);
  const reportPath = join(dir, 'report.json');
  if (o.write !== false) {
    const parsed = PrivacyReportSchema.safeParse(readJson(reportPath, 'the privacy report'));
    if (!parsed.success) throw new FedveilError('audit/unreadable', `${reportPath} is not a privacy report`);
    const report: PrivacyReport = { ...parsed.data, empiricalAudit: audit };
    writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  }
  return { audit, report: reportPath };
}
