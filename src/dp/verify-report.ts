import { FedveilError } from '../secagg/util/errors.js';
import { checkModulusHeadroom } from './config.js';
import { roundEvent, type DpEvent } from './events.js';
import { RDP_ACCOUNTANT } from './accountant/rdp.js';
import { PrivacyReportSchema, accountRounds, type PrivacyReport } from './report.js';

/** One claim of a report that does not hold. `code` is stable; see spec/dp.md for the list. */
export interface Discrepancy {
  code: string;
  round?: number;
  /** JSON path of the offending field, for malformed reports. */
  path?: (string | number)[];
  message: string;
}

/** An additional check run on a well-formed report (e.g. against a ledger); returns its discrepancies. */
export type ReportCheck = (report: PrivacyReport) => Discrepancy[];

/** Options of {@link verifyReport}. */
export interface VerifyReportOptions {
  /** Further checks on the parsed report, appended after the built-in ones (ledger checks plug in here). */
  checks?: ReportCheck[];
}

/** Relative slack for comparing recomputed floating-point values with claimed ones. */
const REL_TOL = 1e-9;

function numbersClose(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= REL_TOL * Math.max(Math.abs(a), Math.abs(b));
}

/** Structural equality of two events with numbers compared to relative 1e-9. */
export function eventsMatch(a: DpEvent, b: DpEvent): boolean {
  return valuesMatch(a, b);
}

function valuesMatch(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return numbersClose(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => valuesMatch(x, b[i]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && valuesMatch((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/** A claimed ε (null = unbounded) is too low when it is below the recomputed value beyond rounding. */
function understated(claimed: number | null, actual: number): boolean {
  if (claimed === null) return false;
  if (!Number.isFinite(actual)) return true;
  return claimed < actual * (1 - REL_TOL) - 1e-12;
}

function show(e: number | null): string {
  return e === null ? 'unbounded' : String(e);
}

/**
 * Recomputes every claim of a privacy report from its per-round entries and returns each claim
 * that does not hold ([] iff all hold): a malformed report (one discrepancy per zod issue, with its
 * path), an unknown accountant, round numbers out of order, an event that does not match its round
 * entry, a composed tree that is not the round events, a contributor count below the noise's
 * assumed minimum t, an aggregate that could wrap the modulus, and any claimed ε (per round,
 * cumulative, total) below the recomputed one.
 */
export function verifyReport(report: unknown, options: VerifyReportOptions = {}): Discrepancy[] {
  const parsed = PrivacyReportSchema.safeParse(report);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => ({
      code: 'report/malformed',
      path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
      message: `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`,
    }));
  }
  const r = parsed.data;
  const out: Discrepancy[] = [];
  if (r.accountant.name !== RDP_ACCOUNTANT.name || r.accountant.version !== RDP_ACCOUNTANT.version) {
    out.push({
      code: 'report/unknown-accountant',
      message: `report was accounted with ${r.accountant.name} ${r.accountant.version}; this verifier recomputes with ${RDP_ACCOUNTANT.name} ${RDP_ACCOUNTANT.version}`,
    });
  }
  const expected: DpEvent[] = [];
  r.rounds.forEach((round, i) => {
    if (i > 0 && round.round <= (r.rounds[i - 1] as (typeof r.rounds)[number]).round) {
      out.push({ code: 'report/round-order', round: round.round, message: `round ${round.round} does not follow round ${(r.rounds[i - 1] as (typeof r.rounds)[number]).round}` });
    }
    let ev: DpEvent;
    try {
      ev = roundEvent(round.config, round.samplingRate, round.contributors, round.dim);
    } catch (e) {
      out.push({ code: 'report/invalid-round', round: round.round, message: e instanceof Error ? e.message : String(e) });
      ev = { kind: 'non_private' };
    }
    expected.push(ev);
    if (!eventsMatch(ev, round.event)) {
      out.push({
        code: 'report/event-mismatch',
        round: round.round,
        message: `round ${round.round}: recorded event ${JSON.stringify(round.event)} is not what its entry implies: ${JSON.stringify(ev)}`,
      });
    }
    const distributed = round.config.mechanism === 'skellam' || round.config.mechanism === 'ddg';
    if (distributed && round.contributors < round.config.minContributors) {
      out.push({
        code: 'report/too-few-contributors',
        round: round.round,
        message: `round ${round.round}: ${round.contributors} contributors, but each added 1/${round.config.minContributors} of the noise, so the sum carries less noise than configured`,
      });
    }
    try {
      checkModulusHeadroom(round.config, round.dim, round.contributors);
    } catch (e) {
      if (!(e instanceof FedveilError)) throw e;
      out.push({ code: 'report/modulus-overflow', round: round.round, message: `round ${round.round}: ${e.message}` });
    }
  });
  if (!eventsMatch(r.event, { kind: 'composed', events: r.rounds.map((x) => x.event) })) {
    out.push({ code: 'report/event-tree-mismatch', message: 'the composed event is not composed([round events in order])' });
  }
  const { perRound, cumulative, total } = accountRounds(expected, r.delta);
  r.rounds.forEach((round, i) => {
    const own = perRound[i] as number;
    const cum = cumulative[i] as number;
    if (understated(round.epsilon, own)) {
      out.push({ code: 'report/round-epsilon-understated', round: round.round, message: `round ${round.round}: claimed ε ${show(round.epsilon)} < recomputed ${own}` });
    }
    if (understated(round.cumulativeEpsilon, cum)) {
      out.push({ code: 'report/cumulative-epsilon-understated', round: round.round, message: `after round ${round.round}: claimed cumulative ε ${show(round.cumulativeEpsilon)} < recomputed ${cum}` });
    }
  });
  const totalEps = r.rounds.length === 0 ? 0 : total.epsilon;
  if (understated(r.epsilon, totalEps)) {
    out.push({ code: 'report/epsilon-understated', message: `claimed total ε ${show(r.epsilon)} at δ=${r.delta} < recomputed ${totalEps}` });
  }
  for (const extra of options.checks ?? []) out.push(...extra(r));
  return out;
}
