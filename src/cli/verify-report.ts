import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyReport, type Discrepancy, type ReportCheck } from '../dp/index.js';
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
  epsilon?: number | null;
  delta?: number;
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
  const r = doc as { epsilon: number | null; delta: number };
  return { exitCode: discrepancies.length === 0 ? 0 : 1, discrepancies, epsilon: r.epsilon, delta: r.delta };
}

function line(d: Discrepancy): string {
  return `${d.code}${d.round === undefined ? '' : ` (round ${d.round})`}: ${d.message}`;
}

/**
 * Registers `fedveil verify-report REPORT [--ledger FILE] [--coordinator-key FILE|HEX] [--receipts DIR] [--json]`:
 * recomputes every claim of a privacy report and, with a ledger, checks the ledger's hash chain,
 * genesis, the coordinator's and the participants' signatures, the participants' receipts, and
 * that every round of the report is what the ledger recorded. Exit 0 only when all hold, 1 with each discrepancy printed, 2 for an
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
    .option('--json', 'print one JSON object')
    .action(function (this: Command, path: string, o: { json?: boolean; ledger?: string; coordinatorKey?: string; receipts?: string }) {
      if ((o.coordinatorKey !== undefined || o.receipts !== undefined) && o.ledger === undefined) {
        this.error('error: --coordinator-key and --receipts need --ledger', { exitCode: 2, code: 'fedveil.badOption' });
      }
      const held = o.ledger === undefined ? null : ledgerCheck({ ledger: o.ledger, ...(o.coordinatorKey === undefined ? {} : { coordinatorKey: o.coordinatorKey }), ...(o.receipts === undefined ? {} : { receipts: o.receipts }) });
      const out = verifyReportFile(path, held === null ? [] : [held.check]);
      if (o.json === true) {
        process.stdout.write(
          JSON.stringify({
            ok: out.exitCode === 0,
            exitCode: out.exitCode,
            error: out.error,
            epsilon: out.epsilon,
            delta: out.delta,
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
      process.stdout.write(`OK: every claim of ${path} holds (epsilon ${out.epsilon === null ? 'unbounded' : out.epsilon} at delta ${out.delta}; ${scope})\n`);
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
