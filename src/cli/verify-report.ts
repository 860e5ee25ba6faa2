import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { participantEpsilon, reportEntry, verifyReport, type Discrepancy, type PrivacyReport, type ReportCheck } from '../dp/index.js';
import { ledgerReportCheck, readLedgerBundle } from '../server/ledger-audit.js';

/**
 * The check that holds a report to its ledger. `ledgerPath` is `ledger.jsonl` or the folder that
 * holds it beside `coordinator-key.json`. The key in that file only proves the bundle is
 * self-consistent; `pinnedKey` (obtained from the coordinator out of band) proves who signed it.
 */
export function ledgerCheck(ledgerPath: string, pinnedKey?: string): ReportCheck {
  let dir = ledgerPath;
  try {
    if (statSync(ledgerPath).isFile()) dir = dirname(ledgerPath);
  } catch {
    // Missing path: readLedgerBundle reports it as a discrepancy.
  }
  const bundle = readLedgerBundle(dir);
  const keyProblems: Discrepancy[] = [];
  if (pinnedKey !== undefined && pinnedKey.toLowerCase() !== bundle.coordinatorPublicKey) {
    keyProblems.push({
      code: 'ledger/coordinator-key-mismatch',
      message: `the ledger is signed by ${bundle.coordinatorPublicKey || '(no key)'}, not by the pinned coordinator key ${pinnedKey}`,
    });
  }
  const inner = ledgerReportCheck(bundle, {
    ...(bundle.participants === null ? {} : { allowedParticipantKeys: bundle.participants }),
    ...(bundle.federationId === null ? {} : { federationId: bundle.federationId }),
  });
  return (report) => [...keyProblems, ...inner(report)];
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
 * Registers `fedveil verify-report REPORT [--ledger PATH] [--coordinator-key HEX] [--participant KEY] [--json]`:
 * recomputes every claim of a privacy report and, with a ledger, checks the ledger's hash chain,
 * the coordinator's and the participants' signatures, and that every round of the report is what
 * the ledger recorded. Prints both ε (against ledger readers, the headline, and against model
 * observers) and, with `--participant`, that participant's own ε. Exit 0 only when all hold, 1
 * with each discrepancy printed, 2 for an unreadable or malformed report.
 */
export function registerVerifyReport(program: Command): void {
  program
    .command('verify-report')
    .description('recompute every claim of a privacy report; exit 0 only when all hold (1: a claim fails, 2: unreadable/malformed)')
    .argument('<report>', 'privacy report JSON file')
    .option('--ledger <path>', 'ledger.jsonl (or its folder, with coordinator-key.json) to hold the report to')
    .option('--coordinator-key <hex>', "the coordinator's Ed25519 public key, obtained out of band; the ledger must be signed by it")
    .option('--participant <key>', "also print this participant's own ε against ledger readers (its public key, 64 hex characters)")
    .option('--json', 'print one JSON object')
    .action(function (this: Command, path: string, o: { json?: boolean; ledger?: string; coordinatorKey?: string; participant?: string }) {
      if (o.coordinatorKey !== undefined && o.ledger === undefined) {
        this.error('error: --coordinator-key needs --ledger', { exitCode: 2, code: 'fedveil.badOption' });
      }
      if (o.coordinatorKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.coordinatorKey)) {
        this.error('error: --coordinator-key must be 64 hex characters (an Ed25519 public key)', { exitCode: 2, code: 'fedveil.badOption' });
      }
      if (o.participant !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.participant)) {
        this.error('error: --participant must be 64 hex characters (a participant public key)', { exitCode: 2, code: 'fedveil.badOption' });
      }
      const out = verifyReportFile(path, o.ledger === undefined ? [] : [ledgerCheck(o.ledger, o.coordinatorKey)]);
      const mine = o.participant !== undefined && out.exitCode === 0 && out.report !== undefined ? participantEpsilonOf(out.report, o.participant) : undefined;
      if (o.json === true) {
        process.stdout.write(
          JSON.stringify({
            ok: out.exitCode === 0,
            exitCode: out.exitCode,
            error: out.error,
            epsilon: out.epsilon,
            modelObserverEpsilon: out.modelObserverEpsilon,
            delta: out.delta,
            ...(mine === undefined ? {} : { participant: { key: (o.participant as string).toLowerCase(), epsilon: mine.epsilon, rounds: mine.rounds } }),
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
      const scope = o.ledger === undefined ? 'report alone; give --ledger to check it against the ledger' : `checked against ledger ${o.ledger}`;
      const r = out.report as PrivacyReport;
      process.stdout.write(
        `OK: every claim of ${path} holds (epsilon ${showEpsilon(out.epsilon)} at delta ${out.delta}; ${scope})\n` +
          `  against ${r.ledgerReader.adversary}: epsilon ${showEpsilon(r.ledgerReader.epsilon)} (worst participant, no amplification by sampling)\n` +
          `  against ${r.modelObserver.adversary}: epsilon ${showEpsilon(r.modelObserver.epsilon)} (${r.modelObserver.amplification ? `amplified by sampling, ${r.modelObserver.adjacency} adjacency` : 'no amplification by sampling'})\n` +
          (mine === undefined
            ? ''
            : `  participant ${(o.participant as string).toLowerCase()}: epsilon ${showEpsilon(mine.epsilon)} against ledger readers over the ${mine.rounds} charged round(s) it contributed to\n`),
      );
    });
}
