import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyReport, type Discrepancy, type ReportCheck } from '../dp/index.js';

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
 * Registers `fedveil verify-report REPORT [--json]`: recomputes every claim of a privacy report;
 * exit 0 only when all hold, 1 with each discrepancy printed, 2 for an unreadable or malformed file.
 */
export function registerVerifyReport(program: Command): void {
  program
    .command('verify-report')
    .description('recompute every claim of a privacy report; exit 0 only when all hold (1: a claim fails, 2: unreadable/malformed)')
    .argument('<report>', 'privacy report JSON file')
    .option('--json', 'print one JSON object')
    .action(function (this: Command, path: string, o: { json?: boolean }) {
      const out = verifyReportFile(path);
      if (o.json === true) {
        process.stdout.write(JSON.stringify({ ok: out.exitCode === 0, exitCode: out.exitCode, error: out.error, epsilon: out.epsilon, delta: out.delta, discrepancies: out.discrepancies }) + '\n');
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
      process.stdout.write(`OK: every claim of ${path} holds (epsilon ${out.epsilon === null ? 'unbounded' : out.epsilon} at delta ${out.delta})\n`);
    });
}
