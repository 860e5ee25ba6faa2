import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { participantEpsilon, reportEntry, verifyReport, type Discrepancy, type PrivacyReport, type ReportCheck } from '../dp/index.js';
import { ledgerReportCheck, readLedgerBundle, type LedgerBundle } from '../server/ledger-audit.js';

/**
 * The check that holds a report to a ledger: exactly the file `ledger` (one entry per line),
 * signed by the coordinator key `coordinatorKey` (64 hex characters, or a file holding it, e.g.
 * `coordinator-key.json`; obtained out of band: without it the ledger's own genesis key is used,
 * which proves only self-consistency) and, with `receipts`, honouring every participant receipt
 * under that folder. Returns the check and the bundle read (for the summary line).
 */
export function ledgerCheck(o: { ledger: string; coordinatorKey?: string; receipts?: string }): { check: ReportCheck; bundle: LedgerBundle } {
  const bundle = readLedgerBundle(o);
  return { check: ledgerReportCheck(bundle), bundle };
}

/** Outcome of verifying one report file. `exitCode`: 0 every claim holds, 1 some do not, 2 unreadable or malformed. */
export interface VerifyReportOutcome {
  exitCode: 0 | 1 | 2;
  discrepancies: Discrepancy[];
  /** Why the file could not be used, when exitCode is 2 for an unreadable or non-JSON file. */
  error?: string;
  /** The headline: ε against ledger readers, the worst participant's (null = unbounded). */
  epsilon?: number | null;
  /** ε against model observers (null = unbounded). */
  modelObserverEpsilon?: number | null;
  delta?: number;
  /** The well-formed report, when it parsed. */
  report?: PrivacyReport;
}

/**
 * One participant's ε against ledger readers, recomputed from a well-formed report's entries (its
 * rounds' events composed over the charged rounds it contributed to); null when unbounded.
 */
export function participantEpsilonOf(report: PrivacyReport, participant: string): { epsilon: number | null; rounds: number } {
  const own = participantEpsilon(report.rounds.map(reportEntry), participant.toLowerCase(), { delta: report.delta, colluders: report.colluders });
  return { epsilon: Number.isFinite(own.epsilon) ? own.epsilon : null, rounds: own.rounds };
}

/** Reads and verifies the report at `path`; `checks` are extra checks (e.g. against a ledger). */
export function verifyReportFile(path: string, checks: ReportCheck[] = []): VerifyReportOutcome {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    return { exitCode: 2, discrepancies: [], error: `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (e) {
    return { exitCode: 2, discrepancies: [], error: `${path} is not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  const discrepancies = verifyReport(doc, { checks });
  if (discrepancies.some((d) => d.code === 'report/malformed')) return { exitCode: 2, discrepancies };
  const r = doc as PrivacyReport;
  return { exitCode: discrepancies.length === 0 ? 0 : 1, discrepancies, epsilon: r.epsilon, modelObserverEpsilon: r.modelObserver.epsilon, delta: r.delta, report: r };
}

function line(d: Discrepancy): string {
  return `${d.code}${d.round === undefined ? '' : ` (round ${d.round})`}: ${d.message}`;
}

function showEpsilon(e: number | null | undefined): string {
  return e === null || e === undefined ? 'unbounded' : String(e);
}

/**
 * Registers `fedveil verify-report REPORT [--ledger FILE] [--coordinator-key FILE|HEX] [--receipts DIR] [--participant KEY] [--json]`:
 * recomputes every claim of a privacy report and, with a ledger, checks the ledger's hash chain,
 * genesis, the coordinator's and the participants' signatures, the participants' receipts, and
 * that every round of the report is what the ledger recorded. Prints both ε (against ledger
 * readers, the headline, and against model observers) and, with `--participant`, that
 * participant's own ε. Exit 0 only when all hold, 1 with each discrepancy printed, 2 for an
 * unreadable or malformed report.
 */
export function registerVerifyReport(program: Command): void {
  program
    .command('verify-report')
    .description('recompute every claim of a privacy report; exit 0 only when all hold (1: a claim fails, 2: unreadable/malformed)')
    .argument('<report>', 'privacy report JSON file')
    .option('--ledger <file>', 'the ledger file (ledger.jsonl) to hold the report to; exactly this file is read')
    .option('--coordinator-key <key>', "the coordinator's Ed25519 public key, obtained out of band: 64 hex characters or a file (coordinator-key.json); the ledger must be signed by it")
    .option('--receipts <dir>', "a participant's receipts folder (fedveil client --receipts): the ledger must hold every receipt in it")
    .option('--participant <key>', "also print this participant's own ε against ledger readers (its public key, 64 hex characters)")
    .option('--json', 'print one JSON object')
    .action(function (this: Command, path: string, o: { json?: boolean; ledger?: string; coordinatorKey?: string; receipts?: string; participant?: string }) {
      if ((o.coordinatorKey !== undefined || o.receipts !== undefined) && o.ledger === undefined) {
        this.error('error: --coordinator-key and --receipts need --ledger', { exitCode: 2, code: 'fedveil.badOption' });
      }
      if (o.participant !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.participant)) {
        this.error('error: --participant must be 64 hex characters (a participant public key)', { exitCode: 2, code: 'fedveil.badOption' });
      }
      const held = o.ledger === undefined ? null : ledgerCheck({ ledger: o.ledger, ...(o.coordinatorKey === undefined ? {} : { coordinatorKey: o.coordinatorKey }), ...(o.receipts === undefined ? {} : { receipts: o.receipts }) });
      const out = verifyReportFile(path, held === null ? [] : [held.check]);
      const mine = o.participant !== undefined && out.exitCode === 0 && out.report !== undefined ? participantEpsilonOf(out.report, o.participant) : undefined;
      if (o.json === true) {
        process.stdout.write(
          JSON.stringify({
            ok: out.exitCode === 0,
            exitCode: out.exitCode,
            error: out.error,
            epsilon: out.epsilon,
            modelObserverEpsilon: out.modelObserverEpsilon,
            ...(out.report?.pld === undefined ? {} : { pld: { epsilon: out.report.ledgerReader.pldEpsilon ?? null, modelObserverEpsilon: out.report.modelObserver.pldEpsilon ?? null } }),
            delta: out.delta,
            ...(mine === undefined ? {} : { participant: { key: (o.participant as string).toLowerCase(), epsilon: mine.epsilon, rounds: mine.rounds } }),
            ledger: held === null ? null : { path: held.bundle.path, entries: held.bundle.entries.length, coordinatorKey: held.bundle.pinnedKey, receipts: held.bundle.receipts?.length ?? null },
            discrepancies: out.discrepancies,
          }) + '\n',
        );
        if (out.exitCode !== 0) process.exitCode = out.exitCode;
        return;
      }
      if (out.error !== undefined) this.error(`error: ${out.error}`, { exitCode: 2, code: 'fedveil.unreadable-report' });
      if (out.exitCode === 2) {
        process.stderr.write(`${path} is not a valid privacy report:\n${out.discrepancies.map((d) => `  ${line(d)}\n`).join('')}`);
        process.exitCode = 2;
        return;
      }
      if (out.exitCode === 1) {
        process.stdout.write(`${out.discrepancies.length} claim(s) of ${path} do not hold:\n${out.discrepancies.map((d) => `  ${line(d)}\n`).join('')}`);
        process.exitCode = 1;
        return;
      }
      const scope = held === null ? 'report alone; give --ledger to check it against the ledger' : ledgerScope(held.bundle);
      const r = out.report as PrivacyReport;
      process.stdout.write(
        `OK: every claim of ${path} holds (epsilon ${showEpsilon(out.epsilon)} at delta ${out.delta}; ${scope})\n` +
          `  against ${r.ledgerReader.adversary}: epsilon ${showEpsilon(r.ledgerReader.epsilon)} (worst participant, no amplification by sampling)\n` +
          `  against ${r.modelObserver.adversary}: epsilon ${showEpsilon(r.modelObserver.epsilon)} (${r.modelObserver.amplification ? `amplified by sampling, ${r.modelObserver.adjacency} adjacency` : 'no amplification by sampling'})\n` +
          (r.pld === undefined
            ? ''
            : `  PLD accountant (${r.pld.accountant.name} ${r.pld.accountant.version}, grid ${r.pld.valueDiscretization}): epsilon ${showEpsilon(r.ledgerReader.pldEpsilon ?? null)} against ledger readers, ${showEpsilon(r.modelObserver.pldEpsilon ?? null)} against model observers\n`) +
          (mine === undefined
            ? ''
            : `  participant ${(o.participant as string).toLowerCase()}: epsilon ${showEpsilon(mine.epsilon)} against ledger readers over the ${mine.rounds} charged round(s) it contributed to\n`),
      );
    });
}

/** What an OK verdict against a ledger covered: the file, the key (pinned or not) and the receipts. */
function ledgerScope(b: LedgerBundle): string {
  const key =
    b.pinnedKey === null
      ? 'coordinator key NOT pinned: the ledger is only self-consistent under the key its own genesis names; give --coordinator-key to prove who signed it'
      : `signed by the pinned coordinator key ${b.pinnedKey}`;
  const receipts = b.receipts === null ? 'no receipts given' : `${b.receipts.length} receipt(s) held`;
  return `checked against ledger ${b.path} (${b.entries.length} entries), ${key}; ${receipts}`;
}
