import { FedveilError } from '../secagg/util/errors.js';
import { cohortAmplifies, maxCohortMembers } from './cohort.js';
import { checkModulusHeadroom } from './config.js';
import { ledgerReaderEvent, modelObserverAdjacency, modelObserverEvent, type Adjacency, type DpEvent } from './events.js';
import { RDP_ACCOUNTANT } from './accountant/rdp.js';
import { REPORT_PLD_ACCOUNTANT, reportPldFigures } from './report-pld.js';
import { noiseProbeAudit } from './audit/noise-probe.js';
import { confidencePercent } from './audit/empirical-epsilon.js';
import {
  MODEL_OBSERVER_ADVERSARY,
  PrivacyReportSchema,
  accountParticipants,
  accountRounds,
  claimsAmplification,
  isCharged,
  ledgerReaderAdversary,
  reportEvaluation,
  reportOrders,
  type NoiseAudit,
  type PrivacyReport,
  type ReportClipping,
  type ReportEvaluation,
  type ReportRound,
  type RoundPrivacyEntry,
} from './report.js';

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

/** The round entry inside a report round (its accounting fields dropped). */
export function reportEntry(r: ReportRound): RoundPrivacyEntry {
  return { round: r.round, outcome: r.outcome, cohort: r.cohort, contributors: r.contributors, contributorIds: r.contributorIds, dim: r.dim, config: r.config };
}

/** The sampling wrapper of an event, if any. */
function samplingOf(e: DpEvent): 'poisson_sampled' | 'sampled_without_replacement' | null {
  return e.kind === 'poisson_sampled' || e.kind === 'sampled_without_replacement' ? e.kind : null;
}

const NON_PRIVATE: DpEvent = { kind: 'non_private' };

/** Builds an expected event; a refusal becomes a discrepancy and an unbounded event. */
function expectEvent(out: Discrepancy[], round: number, build: () => DpEvent): DpEvent {
  try {
    return build();
  } catch (e) {
    if (!(e instanceof FedveilError)) throw e;
    const code = e.code === 'dp/too-few-noise-shares' ? 'report/too-few-noise-shares' : 'report/invalid-round';
    if (!out.some((d) => d.code === code && d.round === round)) out.push({ code, round, message: `round ${round}: ${e.message}` });
    return NON_PRIVATE;
  }
}

/**
 * Checks one round's entry, builds its expected events and compares them with the recorded ones.
 * `adjacency` is the model observer's when the report claims amplification, 'unamplified' when it
 * does not (the model observer then has the ledger reader's events), null when none can hold.
 */
function checkRound(r: PrivacyReport, round: ReportRound, adjacency: Adjacency | 'unamplified' | null, out: Discrepancy[]): { ledger: DpEvent; model: DpEvent } {
  const n = round.round;
  if (round.contributorIds.length !== round.contributors) {
    out.push({ code: 'report/contributor-count', round: n, message: `round ${n}: ${round.contributorIds.length} contributor ids listed for ${round.contributors} contributors` });
  }
  if (new Set(round.contributorIds).size !== round.contributorIds.length) {
    out.push({ code: 'report/duplicate-contributor', round: n, message: `round ${n}: a contributor is listed twice` });
  }
  if (round.contributors > maxCohortMembers(round.cohort)) {
    out.push({ code: 'report/cohort-overflow', round: n, message: `round ${n}: ${round.contributors} contributors exceed the ${maxCohortMembers(round.cohort)} its cohort can have` });
  }
  const charged = isCharged(round.outcome);
  if (round.charged !== charged) {
    out.push({ code: 'report/charged-mismatch', round: n, message: `round ${n}: outcome '${round.outcome}' is ${charged ? '' : 'not '}charged, the report says otherwise` });
  }
  if (round.evaluation !== undefined) out.push(...evaluationDiscrepancies(round, round.evaluation));
  if (round.clipping !== undefined) out.push(...clippingDiscrepancies(round, round.clipping));
  if (!charged) {
    for (const [view, rec] of [['ledger-reader', round.ledgerReader.event], ['model-observer', round.modelObserver.event]] as const) {
      if (rec.kind !== 'no_op') out.push({ code: 'report/event-mismatch', round: n, message: `round ${n} is not charged, but its ${view} event is ${JSON.stringify(rec)}` });
    }
    return { ledger: { kind: 'no_op' }, model: { kind: 'no_op' } };
  }
  const ledger = expectEvent(out, n, () => ledgerReaderEvent(round.config, round.contributors, r.colluders, round.dim));
  const model =
    adjacency === null
      ? NON_PRIVATE
      : adjacency === 'unamplified'
        ? ledger
        : expectEvent(out, n, () => modelObserverEvent(round.config, round.cohort, round.contributors, r.colluders, round.dim, adjacency));

  const recLedger = round.ledgerReader.event;
  if (samplingOf(recLedger) !== null) {
    out.push({ code: 'report/ledger-reader-amplification', round: n, message: `round ${n}: the ledger names every cohort, yet the ledger-reader event claims amplification by sampling (${recLedger.kind})` });
  } else if (!eventsMatch(ledger, recLedger)) {
    out.push({ code: 'report/event-mismatch', round: n, message: `round ${n}: recorded ledger-reader event ${JSON.stringify(recLedger)} is not what its entry implies: ${JSON.stringify(ledger)}` });
  }

  const recModel = round.modelObserver.event;
  const claimed = samplingOf(recModel);
  const c = round.cohort;
  if (claimed !== null && !cohortAmplifies(c)) {
    if (c.kind !== 'all' && !c.secretSeed) {
      out.push({ code: 'report/public-seed-amplification', round: n, message: `round ${n}: amplification by sampling (${claimed}) claimed for a draw with a public seed: anyone can replay who was drawn` });
    } else {
      out.push({ code: 'report/cohort-event-mismatch', round: n, message: `round ${n}: amplification by sampling (${claimed}) claimed for a ${c.kind} cohort that samples nobody out` });
    }
  } else if (claimed !== null && claimed !== (c.kind === 'poisson' ? 'poisson_sampled' : 'sampled_without_replacement')) {
    out.push({ code: 'report/cohort-event-mismatch', round: n, message: `round ${n}: a ${c.kind} cohort recorded as ${claimed}` });
  } else if (!eventsMatch(model, recModel)) {
    out.push({ code: 'report/event-mismatch', round: n, message: `round ${n}: recorded model-observer event ${JSON.stringify(recModel)} is not what its entry implies: ${JSON.stringify(model)}` });
  }

  const distributed = round.config.mechanism === 'skellam' || round.config.mechanism === 'ddg';
  if (distributed && round.contributors < round.config.minContributors) {
    out.push({
      code: 'report/too-few-contributors',
      round: n,
      message: `round ${n}: ${round.contributors} contributors, but each added 1/${round.config.minContributors} of the noise, so the sum carries less noise than configured`,
    });
  }
  if (round.contributors >= 1) {
    try {
      checkModulusHeadroom(round.config, round.dim, round.contributors);
    } catch (e) {
      if (!(e instanceof FedveilError)) throw e;
      out.push({ code: 'report/modulus-overflow', round: n, message: `round ${n}: ${e.message}` });
    }
  }
  return { ledger, model };
}

/**
 * Recomputes every claim of a privacy report (version 2) from its round entries alone and returns
 * each claim that does not hold ([] iff all hold): a malformed report (one discrepancy per zod
 * issue, with its path), an unknown accountant, round numbers out of order, contributor lists
 * whose length is not `contributors` (or that repeat a key), a `charged` flag that does not follow
 * the outcome, a distributed-noise round with n − 1 − c < 1, amplification claimed against ledger
 * readers or for a draw with a public seed, an event whose sampling does not match its cohort
 * method (a fixed-size draw recorded as Poisson), any other event that does not match its entry, a
 * contributor count below the noise's assumed minimum t, an aggregate that could wrap the modulus,
 * secret Poisson and fixed-size draws mixed, adversary / adjacency / amplification statements that
 * are not what the entries imply, and any claimed ε below the recomputed one — per round,
 * cumulative, per participant, and in total against each adversary.
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
  r.rounds.forEach((round, i) => {
    const prev = r.rounds[i - 1];
    if (prev !== undefined && round.round <= prev.round) {
      out.push({ code: 'report/round-order', round: round.round, message: `round ${round.round} does not follow round ${prev.round}` });
    }
  });

  const entries = r.rounds.map(reportEntry);
  // The model-observer ε either claims amplification (each secret draw's sampling, under the
  // adjacency the draws need) or states the ledger readers' unsampled events over all rounds.
  let adjacency: Adjacency | 'unamplified' | null = 'unamplified';
  if (r.modelObserver.amplification) {
    if (!claimsAmplification(entries)) {
      out.push({ code: 'report/amplification-mismatch', message: 'the model-observer ε claims amplification by sampling, but no charged round has a secret draw that leaves anyone out' });
    } else {
      try {
        adjacency = modelObserverAdjacency(r.rounds.filter((x) => isCharged(x.outcome)).map((x) => x.cohort));
      } catch (e) {
        if (!(e instanceof FedveilError)) throw e;
        out.push({ code: 'report/mixed-sampling-adjacency', message: `${e.message}; the amplified model-observer ε cannot be bounded` });
        adjacency = null;
      }
    }
  }
  const expected = r.rounds.map((round) => checkRound(r, round, adjacency, out));
  // Adaptive clipping is a property of the federation: every charged round states its clip, or none does.
  if (r.rounds.some((x) => isCharged(x.outcome) && x.clipping !== undefined)) {
    for (const x of r.rounds) {
      if (isCharged(x.outcome) && x.clipping === undefined) {
        out.push({ code: 'report/clipping-mismatch', round: x.round, message: `round ${x.round} states no clip norm, yet other rounds of the report clip adaptively` });
      }
    }
  }

  const wantReader = ledgerReaderAdversary(entries);
  if (r.ledgerReader.adversary !== wantReader) {
    out.push({ code: 'report/adversary-mismatch', message: `the ledger-reader ε is stated against '${r.ledgerReader.adversary}'; its rounds make it '${wantReader}'` });
  }
  if (r.modelObserver.adversary !== MODEL_OBSERVER_ADVERSARY) {
    out.push({ code: 'report/adversary-mismatch', message: `the model-observer ε is stated against '${r.modelObserver.adversary}', not '${MODEL_OBSERVER_ADVERSARY}'` });
  }
  const wantAdjacency = adjacency === 'unamplified' ? 'add-remove' : adjacency;
  if (wantAdjacency !== null && r.modelObserver.adjacency !== wantAdjacency) {
    out.push({
      code: 'report/adjacency-mismatch',
      message: `the model-observer ε is stated under ${r.modelObserver.adjacency} adjacency; ${adjacency === 'unamplified' ? 'without amplification it is add-remove' : `its draws need ${wantAdjacency}`}`,
    });
  }

  const ledgerEvents = expected.map((e) => e.ledger);
  const modelEvents = expected.map((e) => e.model);
  const orders = reportOrders([...ledgerEvents, ...modelEvents]);
  const readers = accountParticipants(
    ledgerEvents,
    r.rounds.map((x) => (isCharged(x.outcome) ? x.contributorIds : [])),
    r.delta,
    orders,
  );
  const observers = accountRounds(modelEvents, r.delta, orders);
  r.rounds.forEach((round, i) => {
    for (const [view, claimed, own, cum] of [
      ['ledger readers', round.ledgerReader, readers.perRound[i] as number, readers.cumulativeWorst[i] as number],
      ['model observers', round.modelObserver, observers.perRound[i] as number, observers.cumulative[i] as number],
    ] as const) {
      if (understated(claimed.epsilon, own)) {
        out.push({ code: 'report/round-epsilon-understated', round: round.round, message: `round ${round.round}: claimed ε ${show(claimed.epsilon)} against ${view} < recomputed ${own}` });
      }
      if (understated(claimed.cumulativeEpsilon, cum)) {
        out.push({
          code: 'report/cumulative-epsilon-understated',
          round: round.round,
          message: `after round ${round.round}: claimed cumulative ε ${show(claimed.cumulativeEpsilon)} against ${view} < recomputed ${cum}`,
        });
      }
    }
  });
  for (const [id, mine] of readers.participants) {
    const claimed = r.ledgerReader.participants[id];
    if (claimed === undefined) {
      out.push({ code: 'report/participant-missing', message: `participant ${id} contributed to charged rounds (ε ${mine.epsilon}) but is not listed` });
    } else if (understated(claimed, mine.epsilon)) {
      out.push({ code: 'report/participant-epsilon-understated', message: `participant ${id}: claimed ε ${show(claimed)} < recomputed ${mine.epsilon}` });
    }
  }
  for (const id of Object.keys(r.ledgerReader.participants)) {
    if (!readers.participants.has(id)) out.push({ code: 'report/participant-unknown', message: `participant ${id} is listed but contributed to no charged round` });
  }
  const worst = readers.worst.epsilon;
  for (const claimed of [r.epsilon, r.ledgerReader.epsilon]) {
    if (understated(claimed, worst)) {
      out.push({ code: 'report/epsilon-understated', message: `claimed ε ${show(claimed)} against ledger readers (the worst participant's) at δ=${r.delta} < recomputed ${worst}` });
      break;
    }
  }
  const anyCharged = r.rounds.some((x) => isCharged(x.outcome));
  const modelTotal = anyCharged ? observers.total.epsilon : 0;
  if (understated(r.modelObserver.epsilon, modelTotal)) {
    out.push({ code: 'report/model-observer-epsilon-understated', message: `claimed ε ${show(r.modelObserver.epsilon)} against model observers at δ=${r.delta} < recomputed ${modelTotal}` });
  }
  checkPld(r, ledgerEvents, modelEvents, out);
  if (r.empiricalAudit !== undefined) out.push(...empiricalAuditDiscrepancies(r));
  out.push(...noiseAuditDiscrepancies(r));
  for (const extra of options.checks ?? []) out.push(...extra(r));
  return out;
}

/** Every PLD ε a report claims, in the order checkPld compares them. */
function pldClaims(r: PrivacyReport): (number | null | undefined)[] {
  return [
    r.pldEpsilon,
    r.ledgerReader.pldEpsilon,
    r.modelObserver.pldEpsilon,
    ...r.rounds.flatMap((x) => [x.ledgerReader.pldEpsilon, x.ledgerReader.pldCumulativeEpsilon, x.modelObserver.pldEpsilon, x.modelObserver.pldCumulativeEpsilon]),
  ];
}

/**
 * The PLD figures: a report may omit them (no `pld` block and no `pld…` field), but a report that
 * has the block names the PLD accountant, accounts only events it supports, states every figure,
 * and understates none of them against a recomputation on the stated grid (the same expected
 * events as the RDP figures).
 */
function checkPld(r: PrivacyReport, ledgerEvents: DpEvent[], modelEvents: DpEvent[], out: Discrepancy[]): void {
  const claims = pldClaims(r);
  if (r.pld === undefined) {
    if (claims.some((c) => c !== undefined)) out.push({ code: 'report/pld-unattributed', message: 'the report states PLD ε values but no `pld` block naming the accountant and grid that computed them' });
    return;
  }
  if (r.pld.accountant.name !== REPORT_PLD_ACCOUNTANT.name || r.pld.accountant.version !== REPORT_PLD_ACCOUNTANT.version) {
    out.push({
      code: 'report/unknown-accountant',
      message: `the PLD figures were accounted with ${r.pld.accountant.name} ${r.pld.accountant.version}; this verifier recomputes with ${REPORT_PLD_ACCOUNTANT.name} ${REPORT_PLD_ACCOUNTANT.version}`,
    });
    return;
  }
  const figures = reportPldFigures(
    ledgerEvents,
    modelEvents,
    r.rounds.map((x) => (isCharged(x.outcome) ? x.contributorIds : [])),
    r.delta,
    r.pld.valueDiscretization,
  );
  if (figures === null) {
    out.push({ code: 'report/pld-unsupported', message: 'the report states PLD ε values, but some round\'s event is one the PLD accountant does not account (distributed noise over several coordinates)' });
    return;
  }
  if (claims.some((c) => c === undefined)) {
    out.push({ code: 'report/pld-epsilon-missing', message: 'the report has a `pld` block but not every PLD ε beside the RDP ones (totals, and each round\'s own and cumulative against both adversaries)' });
  }
  const compare = (claimed: number | null | undefined, actual: number, code: string, what: string, round?: number): void => {
    if (claimed !== undefined && understated(claimed, actual)) out.push({ code, ...(round === undefined ? {} : { round }), message: `${what}: claimed PLD ε ${show(claimed)} < recomputed ${actual}` });
  };
  const modelTotal = r.rounds.some((x) => isCharged(x.outcome)) ? figures.modelObserver : 0;
  compare(r.pldEpsilon, figures.ledgerReader, 'report/pld-epsilon-understated', `against ledger readers at δ=${r.delta}`);
  compare(r.ledgerReader.pldEpsilon, figures.ledgerReader, 'report/pld-epsilon-understated', `against ledger readers at δ=${r.delta}`);
  compare(r.modelObserver.pldEpsilon, modelTotal, 'report/pld-epsilon-understated', `against model observers at δ=${r.delta}`);
  r.rounds.forEach((x, i) => {
    compare(x.ledgerReader.pldEpsilon, figures.ledgerReaderPerRound[i] as number, 'report/pld-round-epsilon-understated', `round ${x.round} against ledger readers`, x.round);
    compare(x.modelObserver.pldEpsilon, figures.modelObserverPerRound[i] as number, 'report/pld-round-epsilon-understated', `round ${x.round} against model observers`, x.round);
    compare(x.ledgerReader.pldCumulativeEpsilon, figures.ledgerReaderCumulative[i] as number, 'report/pld-cumulative-epsilon-understated', `after round ${x.round} against ledger readers`, x.round);
    compare(x.modelObserver.pldCumulativeEpsilon, figures.modelObserverCumulative[i] as number, 'report/pld-cumulative-epsilon-understated', `after round ${x.round} against model observers`, x.round);
  });
}

/**
 * A round's federated evaluation holds together: only a released round has one, its rates are
 * the ones its totals give, and it says it was noised exactly when the round's mechanism adds
 * noise, with the matching plain statement (so that un-noised totals cannot pass as private).
 */
function evaluationDiscrepancies(round: ReportRound, e: ReportEvaluation): Discrepancy[] {
  const n = round.round;
  const out: Discrepancy[] = [];
  if (round.outcome !== 'released') {
    out.push({ code: 'report/evaluation-mismatch', round: n, message: `round ${n} released nothing ('${round.outcome}'), yet the report gives it evaluation totals` });
  }
  const want = reportEvaluation(e, round.config);
  if (e.accuracy !== want.accuracy || e.loss !== want.loss) {
    out.push({
      code: 'report/evaluation-mismatch',
      round: n,
      message: `round ${n}: evaluation accuracy ${String(e.accuracy)} / loss ${String(e.loss)} are not what its totals give (${String(want.accuracy)} / ${String(want.loss)})`,
    });
  }
  if (e.noised !== want.noised || e.privacy !== want.privacy) {
    out.push({
      code: 'report/evaluation-noised',
      round: n,
      message: `round ${n}: its mechanism ${want.noised ? 'adds' : 'adds no'} noise, so its evaluation totals are ${want.noised ? 'noised' : 'released without DP'}; the report says noised ${e.noised}, "${e.privacy}"`,
    });
  }
  return out;
}

/**
 * A round's adaptive clip holds together: only a charged round clipped anything, and it released
 * its clipped fraction exactly when it released its update (an aborted round released neither).
 */
function clippingDiscrepancies(round: ReportRound, c: ReportClipping): Discrepancy[] {
  const n = round.round;
  if (!isCharged(round.outcome)) {
    return [{ code: 'report/clipping-mismatch', round: n, message: `round ${n} aborted before unmask ('${round.outcome}'); the ledger charges it nothing and records no clip, yet the report gives one` }];
  }
  if (round.outcome === 'released' && c.fraction === null) {
    return [{ code: 'report/clipping-mismatch', round: n, message: `round ${n} released its update but the report gives no clipped fraction for it` }];
  }
  if (round.outcome !== 'released' && c.fraction !== null) {
    return [{ code: 'report/clipping-mismatch', round: n, message: `round ${n} released nothing ('${round.outcome}'), yet the report gives it a clipped fraction ${c.fraction}` }];
  }
  return [];
}

/**
 * The empirical audit's verdict: a failed audit (the lower end of its interval above the claim it
 * tested) is a discrepancy, and so is an audit that tested a claim other than the report's — at
 * another δ, above the worst participant's ε (which would hide a failure), or with a verdict that
 * does not follow from its own numbers.
 */
function empiricalAuditDiscrepancies(r: PrivacyReport): Discrepancy[] {
  const a = r.empiricalAudit;
  if (a === undefined) return [];
  const out: Discrepancy[] = [];
  if (a.delta !== r.delta) out.push({ code: 'report/audit-mismatch', message: `the empirical audit estimates ε at δ = ${a.delta}, the report states δ = ${r.delta}` });
  const worst = r.ledgerReader.epsilon;
  if (a.claimedEpsilon === null ? worst !== null : worst !== null && a.claimedEpsilon > worst) {
    out.push({ code: 'report/audit-mismatch', message: `the empirical audit tested the claim ε = ${show(a.claimedEpsilon)}, but no participant's claimed ε exceeds ${show(worst)}` });
  }
  if (!(a.lower <= a.epsilon && a.epsilon <= a.upper)) out.push({ code: 'report/audit-mismatch', message: `the empirical estimate ${a.epsilon} lies outside its own interval [${a.lower}, ${a.upper}]` });
  const failed = a.claimedEpsilon !== null && a.lower > a.claimedEpsilon;
  if (failed) {
    out.push({
      code: 'report/empirical-epsilon-exceeds-claim',
      message:
        `failed empirical audit: with ${a.canaries} canaries, ε is at least ${a.lower.toFixed(3)} at δ = ${a.delta} (${confidencePercent(a.confidence)} interval ` +
        `[${a.lower.toFixed(3)}, ${a.upper.toFixed(3)}], estimate ${a.epsilon.toFixed(3)}), above the claimed ${(a.claimedEpsilon as number).toFixed(3)}: the released models carry less noise than the report claims`,
    });
  }
  if (a.passed === failed) out.push({ code: 'report/audit-mismatch', message: `the empirical audit says passed=${a.passed}, its numbers say ${!failed}` });
  return out;
}

function fixed(x: number | null, digits: number): string {
  return x === null ? 'unbounded' : x.toFixed(digits);
}

/**
 * The noise audit, recomputed from the rounds' probe values at {@link NOISE_PROBE_CONFIDENCE}:
 * probe values only on released rounds, the report's block exactly the recomputed one (present
 * iff the values give one: dropping it cannot hide a failure), and a failed audit — the upper
 * confidence bound of the released noise below the claimed noise, so that ε's lower end exceeds
 * the claim — is `report/noise-below-claim`.
 */
function noiseAuditDiscrepancies(r: PrivacyReport): Discrepancy[] {
  const out: Discrepancy[] = [];
  for (const x of r.rounds) {
    if (x.noiseProbe !== undefined && x.outcome !== 'released') {
      out.push({ code: 'report/noise-audit-mismatch', round: x.round, message: `round ${x.round} released nothing ('${x.outcome}'), yet the report gives it noise-probe values` });
    }
  }
  let want: NoiseAudit | null;
  try {
    want = noiseProbeAudit(r.rounds, { delta: r.delta, colluders: r.colluders });
  } catch (e) {
    if (!(e instanceof FedveilError)) throw e;
    out.push({ code: 'report/noise-audit-mismatch', message: `the noise audit cannot be recomputed: ${e.message}` });
    return out;
  }
  const have = r.noiseAudit;
  if (want === null) {
    if (have !== undefined) out.push({ code: 'report/noise-audit-mismatch', message: 'the report states a noise audit, but no released round carries noised probe values' });
    return out;
  }
  if (have === undefined) {
    out.push({ code: 'report/noise-audit-mismatch', message: `the released rounds carry ${want.samples} noise-probe values, but the report states no noise audit of them` });
  } else {
    const differs = (Object.keys(want) as (keyof NoiseAudit)[]).filter((k) => have[k] !== want[k]);
    if (differs.length > 0) {
      out.push({ code: 'report/noise-audit-mismatch', message: `the noise audit's ${differs.join(', ')} ${differs.length === 1 ? 'is' : 'are'} not what its probe values give (${differs.map((k) => `${k} ${String(want[k])}`).join(', ')})` });
    }
  }
  if (!want.passed) {
    out.push({
      code: 'report/noise-below-claim',
      message:
        `failed noise audit: the ${want.samples} released noise-probe values of ${want.rounds} rounds carry ${(100 * want.noiseFraction).toFixed(1)}% of the claimed noise standard deviation ` +
        `(at most ${(100 * want.noiseFractionUpper).toFixed(1)}% with confidence 1 − ${(1 - want.confidence).toExponential(0)}), so ε is at least ${fixed(want.lower, 3)} at δ = ${want.delta} ` +
        `(estimate ${fixed(want.epsilon, 3)}), above the claimed ${fixed(want.claimedEpsilon, 3)}: the released sums carry less noise than the report claims`,
    });
  }
  return out;
}
