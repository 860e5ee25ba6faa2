import type { Command } from 'commander';
import { confidencePercent, type EmpiricalAudit, type NoiseAudit } from '../dp/index.js';
import { FedveilError } from '../secagg/util/errors.js';
import { auditRunDir } from './canary-audit-files.js';

/** One line: the estimate, its interval, the claim it tested and the verdict. */
export function auditLine(a: EmpiricalAudit): string {
  const claim = a.claimedEpsilon === null ? 'no finite claim to test' : `claimed ε ${a.claimedEpsilon.toFixed(3)}`;
  const verdict = a.passed
    ? 'PASSED (not refuted; a lower estimate can refute a claim, never certify it)'
    : 'FAILED: the lower end exceeds the claimed ε, the released models carry less noise than the report claims';
  return (
    `empirical audit: ε ≈ ${a.epsilon.toFixed(3)} at δ = ${a.delta}, ${confidencePercent(a.confidence)} interval [${a.lower.toFixed(3)}, ${a.upper.toFixed(3)}] ` +
    `from ${a.canaries} canaries and ${a.nulls} null directions over ${a.rounds} rounds; ${claim}: ${verdict}`
  );
}

/** One line: the noise the probe measured as a fraction of the claimed, the ε it implies beside the claim, and the verdict. */
export function noiseAuditLine(a: NoiseAudit): string {
  const e = (x: number | null) => (x === null ? 'unbounded' : x.toFixed(3));
  const verdict = a.passed
    ? 'PASSED (the released sums carry at least the claimed noise, within the test)'
    : 'FAILED: the released sums carry less noise than the report claims';
  return (
    `noise audit: ${(100 * a.noiseFraction).toFixed(1)}% of the claimed noise (at most ${(100 * a.noiseFractionUpper).toFixed(1)}% with confidence 1 − ${(1 - a.confidence).toExponential(0)}) ` +
    `in ${a.samples} probe values over ${a.rounds} rounds: ε ≈ ${e(a.epsilon)}, at least ${e(a.lower)} at δ = ${a.delta}; claimed ε ${e(a.claimedEpsilon)}: ${verdict}`
  );
}

/**
 * Registers `fedveil audit DIR [--coordinator-key K] [--confidence L] [--no-write] [--json]`: the one-shot empirical
 * privacy audit of a finished run whose folder holds the ledger, the report, the revealed canaries
 * and the released model versions. Exit 0 when the audit does not refute the claim, 1 when it
 * does, 2 when the inputs do not hold together (no commitment, a canary or model that does not
 * match the ledger, an unverifiable ledger).
 */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('estimate ε empirically from the canaries of a run (Andrew et al. 2024) and write it into its report; exit 1 when the estimate refutes the claimed ε')
    .argument('<dir>', 'the run folder: ledger.jsonl, report.json, canary-audit/canaries.json and canary-audit/models/')
    .option('--coordinator-key <key>', "the coordinator's public key (64 hex characters or coordinator-key.json); default: the key the ledger's genesis names")
    .option('--confidence <level>', 'two-sided confidence of the interval whose lower end is tested against the claim (a false alarm has probability about (1 − level)/2)', '0.95')
    .option('--no-write', 'do not write the result into report.json')
    .option('--json', 'print the result as one JSON object')
    .action(function (this: Command, dir: string, o: { coordinatorKey?: string; confidence: string; write: boolean; json?: boolean }) {
      const confidence = Number(o.confidence);
      if (!(confidence > 0 && confidence < 1)) this.error(`error: audit/bad-confidence: --confidence must be a number in (0, 1), got '${o.confidence}'`, { exitCode: 2, code: 'fedveil.audit' });
      let audit: EmpiricalAudit;
      try {
        audit = auditRunDir(dir, { write: o.write, confidence, ...(o.coordinatorKey === undefined ? {} : { coordinatorKey: o.coordinatorKey }) }).audit;
      } catch (e) {
        const code = e instanceof FedveilError ? e.code : 'audit/failed';
        this.error(`error: ${code}: ${e instanceof Error ? e.message : String(e)}`, { exitCode: 2, code: 'fedveil.audit' });
      }
      process.stdout.write(o.json === true ? `${JSON.stringify(audit)}\n` : `${auditLine(audit)}\n`);
      if (!audit.passed) process.exitCode = 1;
    });
}
