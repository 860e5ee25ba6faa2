import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from './canonical-json.js';
import type { CohortMethod, Discrepancy, PrivacyReport, ReportCheck } from '../dp/index.js';
import { LedgerEntrySchema, type LedgerEntry } from './ledger-entry.js';
import { verifyLedger, type VerifyLedgerOptions } from './ledger-verify.js';

/** An exported audit bundle as read back from disk. */
export interface LedgerBundle {
  /** ledger.jsonl lines, parsed (unparseable lines are kept as null and reported). */
  entries: unknown[];
  coordinatorPublicKey: string;
  federationId: string | null;
  /** Allowed participant keys recorded at export (informational: compare with the federation's own list). */
  participants: string[] | null;
  /** Lines that are not JSON, and a missing or malformed key file. */
  problems: Discrepancy[];
}

/** Why a report round's cohort method is not the entry's draw, or null when it is. */
function cohortMismatch(c: CohortMethod, e: LedgerEntry): string | null {
  const { draw, members } = e.cohort;
  if (c.population !== draw.population) return `cohort population ${c.population} ≠ ${draw.population}`;
  if (c.kind === 'all') return members.length === draw.population ? null : `cohort 'all' but the ledger drew ${members.length} of ${draw.population}`;
  if (c.kind === 'fixed') {
    if (draw.method !== 'fixed-size') return `fixed-size cohort, but the ledger records a ${draw.method} draw`;
    return c.size === members.length ? null : `cohort size ${c.size} ≠ ${members.length} drawn`;
  }
  if (draw.method !== 'poisson') return `Poisson cohort, but the ledger records a ${draw.method} draw`;
  return c.rate === draw.samplingRate ? null : `sampling rate ${c.rate} ≠ ${draw.samplingRate}`;
}

/** Reads `ledger.jsonl` and `coordinator-key.json` from an export directory. Never throws on content. */
export function readLedgerBundle(dir: string): LedgerBundle {
  const problems: Discrepancy[] = [];
  let entries: unknown[] = [];
  try {
    const lines = readFileSync(join(dir, 'ledger.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    entries = lines.map((l, i) => {
      try {
        return JSON.parse(l) as unknown;
      } catch {
        problems.push({ code: 'ledger/malformed-line', message: `ledger.jsonl line ${i + 1} is not JSON` });
        return null;
      }
    });
  } catch (e) {
    problems.push({ code: 'ledger/unreadable', message: `cannot read ${join(dir, 'ledger.jsonl')}: ${(e as Error).message}` });
  }
  let key = { publicKey: '', federationId: null as string | null, participants: null as string[] | null };
  try {
    const k = JSON.parse(readFileSync(join(dir, 'coordinator-key.json'), 'utf8')) as { publicKey?: unknown; federationId?: unknown; participants?: unknown };
    key = {
      publicKey: typeof k.publicKey === 'string' ? k.publicKey : '',
      federationId: typeof k.federationId === 'string' ? k.federationId : null,
      participants: Array.isArray(k.participants) && k.participants.every((p) => typeof p === 'string') ? (k.participants as string[]) : null,
    };
  } catch (e) {
    problems.push({ code: 'ledger/unreadable', message: `cannot read ${join(dir, 'coordinator-key.json')}: ${(e as Error).message}` });
  }
  return { entries, coordinatorPublicKey: key.publicKey, federationId: key.federationId, participants: key.participants, problems };
}

/**
 * A privacy-report check (for src/dp `verifyReport(report, {checks})`) that holds the report to
 * the ledger: the ledger itself verifies (chain, signatures, consistency signatures; participant
 * membership when `allowedParticipantKeys` is given), and the report has exactly one released
 * round per ledger entry with the entry's round id, cohort draw (method, size or rate,
 * population), contributors U3 (count and keys, in order), dimension and DP configuration, for the
 * ledger's federation. Whether the draw's seed was secret is not recorded in the ledger, so it is
 * not checked here. Every mismatch is one discrepancy.
 */
export function ledgerReportCheck(bundle: LedgerBundle, opts: VerifyLedgerOptions & { allowedParticipantKeys?: readonly string[] } = {}): ReportCheck {
  return (report: PrivacyReport): Discrepancy[] => {
    const out: Discrepancy[] = [...bundle.problems];
    for (const d of verifyLedger(bundle.entries, bundle.coordinatorPublicKey, opts.allowedParticipantKeys ?? null, opts)) {
      out.push({ code: d.code, ...(d.round === undefined ? {} : { round: d.round }), message: d.message });
    }
    const entries = bundle.entries.map((e) => LedgerEntrySchema.safeParse(e)).flatMap((r) => (r.success ? [r.data] : []));
    if (bundle.federationId !== null && report.federationId !== bundle.federationId) {
      out.push({ code: 'ledger/report-federation', message: `report is for '${report.federationId}', the ledger for '${bundle.federationId}'` });
    }
    if (report.rounds.length !== entries.length) {
      out.push({ code: 'ledger/report-rounds', message: `report accounts ${report.rounds.length} rounds, the ledger records ${entries.length}` });
    }
    const byRound = new Map(entries.map((e) => [e.round, e]));
    for (const r of report.rounds) {
      const e = byRound.get(r.round);
      if (e === undefined) {
        out.push({ code: 'ledger/report-round-missing', round: r.round, message: `round ${r.round} of the report has no ledger entry` });
        continue;
      }
      const mismatches: string[] = [];
      const cohort = cohortMismatch(r.cohort, e);
      if (cohort !== null) mismatches.push(cohort);
      if (r.outcome !== 'released') mismatches.push(`outcome '${r.outcome}', but the ledger records a released round`);
      if (r.contributors !== e.contributors.length) mismatches.push(`contributors ${r.contributors} ≠ ${e.contributors.length}`);
      if (canonicalJson(r.contributorIds) !== canonicalJson(e.contributors.map((c) => c.publicKey))) mismatches.push('contributor ids differ');
      if (r.dim !== e.dim) mismatches.push(`dim ${r.dim} ≠ ${e.dim}`);
      if (canonicalJson(r.config) !== canonicalJson(e.mechanism)) mismatches.push('DP configuration differs');
      if (mismatches.length > 0) out.push({ code: 'ledger/report-mismatch', round: r.round, message: `round ${r.round}: ${mismatches.join('; ')}` });
    }
    const reported = new Set(report.rounds.map((r) => r.round));
    for (const e of entries) {
      if (!reported.has(e.round)) out.push({ code: 'ledger/round-not-reported', round: e.round, message: `ledger round ${e.round} is missing from the report (its ε is not counted)` });
    }
    return out;
  };
}
