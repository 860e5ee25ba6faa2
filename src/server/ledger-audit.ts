import { existsSync, readFileSync, statSync } from 'node:fs';
import { canonicalJson } from './canonical-json.js';
import { reportEvaluation, type Discrepancy, type PrivacyReport, type ReportCheck } from '../dp/index.js';
import { defaultProvider, type CryptoProvider } from '../secagg/index.js';
import { FedveilError } from '../secagg/util/errors.js';
import { chargedEntries, LedgerEntrySchema } from './ledger-entry.js';
import { checkReceipts, type Receipt } from './ledger-head.js';
import { ledgerGenesis, verifyLedger, type VerifyLedgerOptions } from './ledger-verify.js';
import { readReceipts } from './receipt-store.js';
import { entryCohortMethod, entryOutcome } from './report.js';

/** A ledger as an auditor gives it: the entries of one file, the key pinned for it, the receipts held. */
export interface LedgerBundle {
  /** The file the entries were read from. */
  path: string;
  /** ledger.jsonl lines, parsed (unparseable lines are kept as null and reported). */
  entries: unknown[];
  /** The coordinator key obtained out of band (hex), or null: then the genesis's own key is used and nothing proves who signed. */
  pinnedKey: string | null;
  /** Participants' receipts to hold the ledger to, or null when none were given. */
  receipts: Receipt[] | null;
  /** Lines that are not JSON, and unreadable files. */
  problems: Discrepancy[];
}

/** Reads exactly the ledger file `path` (one JSON entry per line). Never throws on content. */
export function readLedgerFile(path: string): Pick<LedgerBundle, 'entries' | 'problems'> {
  const problems: Discrepancy[] = [];
  let entries: unknown[] = [];
  try {
    if (statSync(path).isDirectory()) throw new Error('it is a folder; name the ledger file itself');
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
    entries = lines.map((l, i) => {
      try {
        return JSON.parse(l) as unknown;
      } catch {
        problems.push({ code: 'ledger/malformed-line', message: `${path} line ${i + 1} is not JSON` });
        return null;
      }
    });
  } catch (e) {
    problems.push({ code: 'ledger/unreadable', message: `cannot read ledger ${path}: ${(e as Error).message}` });
  }
  return { entries, problems };
}

/**
 * A coordinator key given as 64 hex characters, or as a file: `coordinator-key.json`
 * (`{"publicKey": …}`) or a file holding the hex alone. Throws FedveilError 'ledger/bad-coordinator-key'.
 */
export function readCoordinatorKey(arg: string): string {
  if (/^[0-9a-fA-F]{64}$/.test(arg)) return arg.toLowerCase();
  if (!existsSync(arg)) throw new FedveilError('ledger/bad-coordinator-key', `--coordinator-key ${arg} is neither 64 hex characters nor a file`);
  const text = readFileSync(arg, 'utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return text.toLowerCase();
  let key: unknown;
  try {
    key = (JSON.parse(text) as { publicKey?: unknown }).publicKey;
  } catch {
    key = undefined;
  }
  if (typeof key !== 'string' || !/^[0-9a-fA-F]{64}$/.test(key)) throw new FedveilError('ledger/bad-coordinator-key', `${arg} holds no 32-byte coordinator public key`);
  return key.toLowerCase();
}

/** Reads the ledger file and, when given, the pinned key and the receipts folder. */
export function readLedgerBundle(o: { ledger: string; coordinatorKey?: string; receipts?: string }): LedgerBundle {
  const { entries, problems } = readLedgerFile(o.ledger);
  let pinnedKey: string | null = null;
  if (o.coordinatorKey !== undefined) {
    try {
      pinnedKey = readCoordinatorKey(o.coordinatorKey);
    } catch (e) {
      problems.push({ code: 'ledger/bad-coordinator-key', message: (e as Error).message });
    }
  }
  let receipts: Receipt[] | null = null;
  if (o.receipts !== undefined) {
    try {
      receipts = readReceipts(o.receipts);
    } catch (e) {
      problems.push({ code: 'receipt/unreadable', message: (e as Error).message });
      receipts = [];
    }
  }
  return { path: o.ledger, entries, pinnedKey, receipts, problems };
}

/**
 * A privacy-report check (for src/dp `verifyReport(report, {checks})`) that holds the report to
 * the ledger: the ledger verifies ({@link verifyLedger}: chain, signatures under the pinned key,
 * genesis, co-signatures, agreement with the genesis), honours every receipt given (none missing:
 * `receipt/ledger-truncated`, none contradicted: `receipt/ledger-fork`), and the report is for
 * the genesis's federation at its δ and c, with exactly one round per charged entry carrying the
 * entry's round id, outcome, cohort method (draw and the genesis's seed secrecy), contributors U3
 * (count and keys, in order), dimension and DP configuration, and the federated evaluation totals
 * the entry records (`ledger/report-evaluation`), its noise-probe values (`ledger/report-noise-probe`),
 * and its adaptive clip norm and clipped fraction (`ledger/report-clipping`).
 */
export function ledgerReportCheck(
  bundle: LedgerBundle,
  opts: VerifyLedgerOptions & { allowedParticipantKeys?: readonly string[]; provider?: CryptoProvider } = {},
): ReportCheck {
  return (report: PrivacyReport): Discrepancy[] => {
    const out: Discrepancy[] = [...bundle.problems];
    for (const d of verifyLedger(bundle.entries, bundle.pinnedKey, opts.allowedParticipantKeys ?? null, opts)) {
      out.push({ code: d.code, ...(d.round === undefined ? {} : { round: d.round }), message: d.message });
    }
    const genesis = ledgerGenesis(bundle.entries);
    if (bundle.receipts !== null) {
      const key = bundle.pinnedKey ?? genesis?.coordinatorPublicKey ?? '';
      const mine = bundle.receipts.filter((r) => genesis === null || r.federationId === genesis.federationId);
      if (mine.length === 0) out.push({ code: 'receipt/none', message: `no receipt of federation '${genesis?.federationId ?? '?'}' was found in the receipts given` });
      out.push(...checkReceipts(bundle.entries, mine, key, opts.provider ?? defaultProvider));
    }
    const entries = chargedEntries(bundle.entries.map((e) => LedgerEntrySchema.safeParse(e)).flatMap((r) => (r.success ? [r.data] : [])));
    if (genesis !== null) {
      if (report.federationId !== genesis.federationId) {
        out.push({ code: 'ledger/report-federation', message: `report is for '${report.federationId}', the ledger for '${genesis.federationId}'` });
      }
      if (report.delta !== genesis.delta) {
        out.push({ code: 'ledger/report-delta', message: `report states ε at δ = ${report.delta}, the federation's genesis fixes δ = ${genesis.delta}` });
      }
      if (report.colluders !== genesis.colluders) {
        out.push({ code: 'ledger/report-colluders', message: `report assumes ${report.colluders} colluders, the federation's genesis ${genesis.colluders}` });
      }
    }
    if (report.rounds.length !== entries.length) {
      out.push({ code: 'ledger/report-rounds', message: `report accounts ${report.rounds.length} rounds, the ledger charges ${entries.length}` });
    }
    const byRound = new Map(entries.map((e) => [e.round, e]));
    for (const r of report.rounds) {
      const e = byRound.get(r.round);
      if (e === undefined) {
        out.push({ code: 'ledger/report-round-missing', round: r.round, message: `round ${r.round} of the report has no ledger entry` });
        continue;
      }
      const mismatches: string[] = [];
      const cohort = genesis === null ? null : entryCohortMethod(genesis, e);
      if (cohort !== null && canonicalJson(r.cohort) !== canonicalJson(cohort)) {
        mismatches.push(`cohort ${canonicalJson(r.cohort)} is not ${canonicalJson(cohort)}, what the ledger's draw and the genesis's seed imply`);
      }
      const outcome = entryOutcome(e);
      if (r.outcome !== outcome) mismatches.push(`outcome '${r.outcome}', but the ledger records '${outcome}'`);
      if (r.contributors !== e.contributors.length) mismatches.push(`contributors ${r.contributors} ≠ ${e.contributors.length}`);
      if (canonicalJson(r.contributorIds) !== canonicalJson(e.contributors.map((c) => c.publicKey))) mismatches.push('contributor ids differ');
      if (r.dim !== e.dim) mismatches.push(`dim ${r.dim} ≠ ${e.dim}`);
      if (canonicalJson(r.config) !== canonicalJson(e.mechanism)) mismatches.push('DP configuration differs');
      if (mismatches.length > 0) out.push({ code: 'ledger/report-mismatch', round: r.round, message: `round ${r.round}: ${mismatches.join('; ')}` });
      const recorded = e.kind === 'round' && e.evaluation !== undefined ? reportEvaluation(e.evaluation, e.mechanism) : undefined;
      if (canonicalJson(r.evaluation ?? null) !== canonicalJson(recorded ?? null)) {
        out.push({
          code: 'ledger/report-evaluation',
          round: r.round,
          message:
            recorded === undefined
              ? `round ${r.round}: the report gives evaluation totals the ledger entry does not record`
              : r.evaluation === undefined
                ? `round ${r.round}: the ledger entry records evaluation totals the report leaves out`
                : `round ${r.round}: evaluation ${canonicalJson(r.evaluation)} is not what the ledger entry records, ${canonicalJson(recorded)}`,
        });
      }
      const clipping = e.clipping ?? null;
      if (canonicalJson(r.clipping ?? null) !== canonicalJson(clipping)) {
        out.push({
          code: 'ledger/report-clipping',
          round: r.round,
          message:
            clipping === null
              ? `round ${r.round}: the report gives a clip norm the ledger entry does not record (the federation clips at its fixed dp.clipNorm)`
              : r.clipping === undefined
                ? `round ${r.round}: the ledger entry records clip norm ${clipping.clipNorm} and clipped fraction ${String(clipping.fraction)}, which the report leaves out`
                : `round ${r.round}: clipping ${canonicalJson(r.clipping)} is not what the ledger entry records, ${canonicalJson(clipping)}`,
        });
      }
      const probe = e.kind === 'round' ? (e.noiseProbe ?? null) : null;
      if (canonicalJson(r.noiseProbe ?? null) !== canonicalJson(probe)) {
        out.push({
          code: 'ledger/report-noise-probe',
          round: r.round,
          message:
            probe === null
              ? `round ${r.round}: the report gives noise-probe values the ledger entry does not record`
              : `round ${r.round}: the report's noise-probe values are not the ${probe.length} the ledger entry records${r.noiseProbe === undefined ? ' (it leaves them out)' : ''}`,
        });
      }
    }
    const reported = new Set(report.rounds.map((r) => r.round));
    for (const e of entries) {
      if (!reported.has(e.round)) out.push({ code: 'ledger/round-not-reported', round: e.round, message: `ledger round ${e.round} is missing from the report (its ε is not counted)` });
    }
    return out;
  };
}
