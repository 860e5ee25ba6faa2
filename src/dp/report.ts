import { z } from 'zod';
import { check } from '../secagg/util/errors.js';
import { CohortMethodSchema, cohortAmplifies, maxCohortMembers, type CohortMethod } from './cohort.js';
import { DpConfigSchema, type DpConfig } from './config.js';
import { DpEventSchema, ledgerReaderEvent, modelObserverAdjacency, modelObserverEvent, type Adjacency, type DpEvent } from './events.js';
import { epsilonFromRdp } from './accountant/conversion.js';
import { DEFAULT_RDP_ORDERS, INTEGER_RDP_ORDERS } from './accountant/orders.js';
import { RDP_ACCOUNTANT, checkDelta, containsDiscreteMechanism, rdpCurve } from './accountant/rdp.js';
import { REPORT_PLD_ACCOUNTANT, reportPldFigures, type PldFigures } from './report-pld.js';

/** `format` field of every privacy report. */
export const REPORT_FORMAT = 'fedveil.privacy-report';
/** Current report version; bump on any change to the schema or its meaning. */
export const REPORT_VERSION = 2;

/**
 * How a round ended, as far as privacy goes. A round is charged once any participant revealed an
 * unmask share: from then on the coordinator may hold enough shares to rebuild the noised sum,
 * whether or not the round completes. A round that aborted before any unmask share was revealed
 * released nothing and is not charged.
 */
export type RoundOutcome = 'released' | 'aborted-after-unmask' | 'aborted-before-unmask';

/** One round as the coordinator records it: how its cohort was drawn, who contributed, what was run. */
export interface RoundPrivacyEntry {
  /** Round number (non-negative, strictly increasing within a report). */
  round: number;
  /** Whether the round is charged; see {@link RoundOutcome}. */
  outcome: RoundOutcome;
  /** How the round's cohort was drawn (with whether the draw's randomness was secret). */
  cohort: CohortMethod;
  /**
   * Number of noised encodings in the sum: the survivors of a released round; for a round aborted
   * after unmask, those whose masked input the server held.
   */
  contributors: number;
  /** Those contributors' public keys (64 lower-case hex characters each), `contributors` of them. */
  contributorIds: string[];
  /** Length of the model update (before padding). */
  dim: number;
  /** The DP configuration used in this round (noise, clip norm C, scale γ, bits b, …). */
  config: DpConfig;
}

/** One round's accounting against one adversary. */
export interface RoundAccounting {
  /** The round's privacy event against this adversary (`no_op` for an uncharged round). */
  event: DpEvent;
  /** ε of this round's event alone at the report's δ; null means unbounded (no DP). */
  epsilon: number | null;
  /**
   * ε of all rounds up to and including this one; null means unbounded. Against ledger readers:
   * the worst participant's, each participant composed over the rounds it contributed to.
   */
  cumulativeEpsilon: number | null;
  /** {@link RoundAccounting.epsilon} under the PLD accountant; present iff the report has `pld`. */
  pldEpsilon?: number | null;
  /** {@link RoundAccounting.cumulativeEpsilon} under the PLD accountant; present iff the report has `pld`. */
  pldCumulativeEpsilon?: number | null;
}

/** A round of the report: the entry plus its accounting against each adversary. */
export interface ReportRound extends RoundPrivacyEntry {
  /** True unless the round aborted before any unmask share was revealed. */
  charged: boolean;
  ledgerReader: RoundAccounting;
  modelObserver: RoundAccounting;
  /** A released round's federated evaluation totals, when its federation evaluates (see {@link ReportEvaluation}). */
  evaluation?: ReportEvaluation;
  /** A released round's noise-probe values (the mean's last P coordinates, pure noise), when its federation probes (spec/dp.md §6). */
  noiseProbe?: number[];
  /** The round's clip norm and clipped fraction, when its federation clips adaptively (see {@link ReportClipping}). */
  clipping?: ReportClipping;
}

/**
 * A charged round of a federation with adaptive clipping (Andrew et al. 2021), as its ledger entry
 * records it. `config.clipNorm` of such a round is the reference norm C the noise is scaled to;
 * the contributors clipped their updates to `clipNorm` C_t and were rescaled to C for encoding
 * (spec/protocol.md §5.3.4), so the round's ε is that of a fixed-clipping round at C whatever C_t is.
 */
export interface ReportClipping {
  /** C_t: the L2 norm every contributor clipped its update to in this round. */
  clipNorm: number;
  /**
   * The released fraction of contributors whose update norm was at most C_t (noised like the
   * update, so it may lie outside [0, 1]); null when the round aborted after unmask and released nothing.
   */
  fraction: number | null;
}

/**
 * The federated evaluation a released round carried: its contributors' summed counts on their
 * held-out data, decoded from the same noised sum as the round's update (so covered by the
 * round's ε when its mechanism adds noise), as the round's ledger entry records them.
 */
export interface ReportEvaluation {
  /** The model version the contributors measured (the one the round started from). */
  modelVersion: number;
  /** Released totals: examples evaluated, examples classified right, summed (capped) loss. Noised totals can be negative. */
  examples: number;
  correct: number;
  lossSum: number;
  /** correct / examples and lossSum / examples; null when the released example count is not positive. */
  accuracy: number | null;
  loss: number | null;
  /** True when the totals carry the round's DP noise ({@link addsNoise} of the round's config). */
  noised: boolean;
  /** {@link EVALUATION_NOISED} or {@link EVALUATION_NOT_NOISED}, as `noised` says: the plain statement for readers. */
  privacy: string;
}

/** {@link ReportEvaluation.privacy} of noised totals. */
export const EVALUATION_NOISED = "noised with the round's update under its DP mechanism and covered by the round's ε: no privacy cost beyond it";
/** {@link ReportEvaluation.privacy} of totals released without noise. */
export const EVALUATION_NOT_NOISED =
  "RELEASED WITHOUT DIFFERENTIAL PRIVACY: the round's mechanism adds no noise, so these are the contributors' exact totals and no ε covers them";

/** True when a round under `config` releases its sum with DP noise (a mechanism other than 'none', noise multiplier > 0). */
export function addsNoise(config: Pick<DpConfig, 'mechanism' | 'noiseMultiplier'>): boolean {
  return config.mechanism !== 'none' && config.noiseMultiplier > 0;
}

/** The report's evaluation of released totals under `config`: rates derived from the totals, and the privacy statement. */
export function reportEvaluation(totals: { modelVersion: number; examples: number; correct: number; lossSum: number }, config: Pick<DpConfig, 'mechanism' | 'noiseMultiplier'>): ReportEvaluation {
  const positive = totals.examples > 0;
  const noised = addsNoise(config);
  return {
    modelVersion: totals.modelVersion,
    examples: totals.examples,
    correct: totals.correct,
    lossSum: totals.lossSum,
    accuracy: positive ? totals.correct / totals.examples : null,
    loss: positive ? totals.lossSum / totals.examples : null,
    noised,
    privacy: noised ? EVALUATION_NOISED : EVALUATION_NOT_NOISED,
  };
}

/** Who the ledger-reader ε holds against, when the coordinator never sees an unnoised sum. */
export const LEDGER_READER_ADVERSARY = 'the coordinator, anyone who reads the ledger, and the assumed colluding participants';
/** Who the ledger-reader ε holds against when some round used central DP (the coordinator adds that noise itself). */
export const LEDGER_READER_ADVERSARY_CENTRAL =
  'anyone who reads the ledger and the assumed colluding participants, but not the coordinator: it adds the noise of central-DP rounds itself';
/** Who the model-observer ε holds against. */
export const MODEL_OBSERVER_ADVERSARY = 'anyone who sees only the released models, not the ledger or who was in each cohort';

/** The privacy report of a federation (JSON; see spec/dp.md for the format and its version). */
export interface PrivacyReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  federationId: string;
  delta: number;
  /** c: participants assumed to collude with the coordinator; their noise shares are not counted. */
  colluders: number;
  accountant: { name: string; version: string };
  rounds: ReportRound[];
  /** The headline: `ledgerReader.epsilon`, the worst participant's ε against ledger readers (null = unbounded). */
  epsilon: number | null;
  /**
   * The PLD accountant that computed the `pld…` fields beside the RDP ones, and its grid. Present
   * when every charged round's events are ones it accounts (the central Gaussian, sampled or not;
   * not distributed noise over several coordinates); then every `pldEpsilon` and
   * `pldCumulativeEpsilon` field is present too.
   */
  pld?: { accountant: { name: string; version: string }; valueDiscretization: number };
  /** The headline under the PLD accountant (`ledgerReader.pldEpsilon`); present iff `pld` is. */
  pldEpsilon?: number | null;
  /** ε against the coordinator and anyone who reads the ledger: no amplification, per participant. */
  ledgerReader: {
    adversary: string;
    adjacency: 'add-remove';
    amplification: false;
    /** The worst participant's ε (0 when no round was charged) and its RDP order. */
    epsilon: number | null;
    order: number | null;
    /** The worst participant's ε under the PLD accountant; present iff the report has `pld`. */
    pldEpsilon?: number | null;
    /** Every participant that contributed to a charged round (public key hex) → its ε. */
    participants: Record<string, number | null>;
  };
  /**
   * ε against someone who sees only the released models, over all charged rounds: amplified by
   * secret draws (`amplification` true), or the unsampled add/remove composition when that is
   * smaller or nothing amplifies.
   */
  modelObserver: {
    adversary: string;
    adjacency: Adjacency;
    /** True when the rounds' events are amplified by sampling (then `adjacency` is what the draws need). */
    amplification: boolean;
    epsilon: number | null;
    order: number | null;
    /** ε over all charged rounds under the PLD accountant, same events; present iff the report has `pld`. */
    pldEpsilon?: number | null;
  };
  /** The empirical audit of the run by canary participants, when one was run (`fedveil audit`). */
  empiricalAudit?: EmpiricalAudit;
  /** The noise audit of the released probe values, present iff some released round carries them (see {@link NoiseAudit}). */
  noiseAudit?: NoiseAudit;
}

/**
 * An empirical lower estimate of ε from canary participants (Andrew et al., ICLR 2024), beside the
 * claim it tests. It can refute a claim (the interval's lower end above it), never certify one.
 */
export interface EmpiricalAudit {
  method: 'one-shot-canaries';
  /** Canaries whose cosine was measured (those that contributed to at least one released round). */
  canaries: number;
  /** Fresh directions, never inserted, whose cosines form the null distribution. */
  nulls: number;
  /** Released rounds whose model changes were measured. */
  rounds: number;
  /** δ at which ε is estimated (the report's). */
  delta: number;
  /** Two-sided confidence level of [lower, upper]. */
  confidence: number;
  /** μ of the fitted Gaussians (canary mean above the null's, in null standard deviations). */
  mu: number;
  epsilon: number;
  lower: number;
  upper: number;
  /** The claim tested: the largest ledger-reader ε of the canaries (null = unbounded, nothing to refute). */
  claimedEpsilon: number | null;
  /** False when `lower` exceeds `claimedEpsilon`: the noise actually released is less than the report claims. */
  passed: boolean;
}

/** The noise audit of a run (spec/dp.md §6.3): the released probe noise beside the claim it tests. */
export interface NoiseAudit {
  method: 'noise-probe';
  /** Released rounds whose probe values were tested, and the values tested. */
  rounds: number;
  samples: number;
  /** One-sided confidence of `lower` (1 − the false-alarm probability of an honest run). */
  confidence: number;
  delta: number;
  /** √ρ: the measured noise standard deviation as a fraction of the claimed one, and its upper confidence bound. */
  noiseFraction: number;
  noiseFractionUpper: number;
  /** ε (ledger readers, same composition as the claim) with every round's noise multiplier scaled by `noiseFraction`; null: unbounded. */
  epsilon: number | null;
  /** The same with `noiseFractionUpper`: ε is at least this with probability `confidence`; null: unbounded. */
  lower: number | null;
  /** The report's headline ε (null: unbounded, nothing to refute). */
  claimedEpsilon: number | null;
  /** False when `lower` exceeds the claim: the released sums carried less noise than the ledger's mechanism says. */
  passed: boolean;
}

const nonNegative = z.number().min(0).finite();

/** zod schema of {@link EmpiricalAudit}. */
export const EmpiricalAuditSchema = z
  .object({
    method: z.literal('one-shot-canaries'),
    canaries: z.number().int().min(2),
    nulls: z.number().int().min(2),
    rounds: z.number().int().min(1),
    delta: z.number().gt(0).lt(1),
    confidence: z.number().gt(0).lt(1),
    mu: z.number().finite(),
    epsilon: nonNegative,
    lower: nonNegative,
    upper: nonNegative,
    claimedEpsilon: z.number().min(0).finite().nullable(),
    passed: z.boolean(),
  })
  .strict();

/** zod schema of {@link NoiseAudit}. */
export const NoiseAuditSchema = z
  .object({
    method: z.literal('noise-probe'),
    rounds: z.number().int().min(1),
    samples: z.number().int().min(2),
    confidence: z.number().gt(0).lt(1),
    delta: z.number().gt(0).lt(1),
    noiseFraction: nonNegative,
    noiseFractionUpper: nonNegative,
    epsilon: nonNegative.nullable(),
    lower: nonNegative.nullable(),
    claimedEpsilon: z.number().min(0).finite().nullable(),
    passed: z.boolean(),
  })
  .strict();

const claimedEpsilon = z.number().min(0).finite().nullable();
const participantKey = z.string().regex(/^[0-9a-f]{64}$/, 'must be a public key as 64 lower-case hex characters');

/** zod schema of {@link RoundPrivacyEntry} (strict; contributor keys distinct). */
export const RoundPrivacyEntrySchema = z
  .object({
    round: z.number().int().min(0),
    outcome: z.enum(['released', 'aborted-after-unmask', 'aborted-before-unmask']),
    cohort: CohortMethodSchema,
    contributors: z.number().int().min(0),
    contributorIds: z.array(participantKey),
    dim: z.number().int().min(1).max(2 ** 31),
    config: DpConfigSchema,
  })
  .strict();

const RoundAccountingSchema = z
  .object({ event: DpEventSchema, epsilon: claimedEpsilon, cumulativeEpsilon: claimedEpsilon, pldEpsilon: claimedEpsilon.optional(), pldCumulativeEpsilon: claimedEpsilon.optional() })
  .strict();

/** zod schema of {@link ReportClipping}; the ledger entry's `clipping` record has the same shape. */
export const ReportClippingSchema = z.object({ clipNorm: z.number().gt(0).finite(), fraction: z.number().finite().nullable() }).strict();

const ReportEvaluationSchema = z
  .object({
    modelVersion: z.number().int().min(0),
    examples: z.number().finite(),
    correct: z.number().finite(),
    lossSum: z.number().finite(),
    accuracy: z.number().finite().nullable(),
    loss: z.number().finite().nullable(),
    noised: z.boolean(),
    privacy: z.string().min(1),
  })
  .strict();

/** zod schema of {@link PrivacyReport} (strict: unknown fields are errors). */
export const PrivacyReportSchema: z.ZodType<PrivacyReport> = z
  .object({
    format: z.literal(REPORT_FORMAT),
    version: z.literal(REPORT_VERSION),
    federationId: z.string().min(1).max(256),
    delta: z.number().gt(0).lt(1),
    colluders: z.number().int().min(0),
    accountant: z.object({ name: z.string().min(1), version: z.string().min(1) }).strict(),
    rounds: z.array(
      RoundPrivacyEntrySchema.extend({
        charged: z.boolean(),
        ledgerReader: RoundAccountingSchema,
        modelObserver: RoundAccountingSchema,
        evaluation: ReportEvaluationSchema.optional(),
        noiseProbe: z.array(z.number().finite()).min(1).optional(),
        clipping: ReportClippingSchema.optional(),
      }).strict(),
    ),
    epsilon: claimedEpsilon,
    pld: z
      .object({ accountant: z.object({ name: z.string().min(1), version: z.string().min(1) }).strict(), valueDiscretization: z.number().gt(0).max(1) })
      .strict()
      .optional(),
    pldEpsilon: claimedEpsilon.optional(),
    ledgerReader: z
      .object({
        adversary: z.string().min(1),
        adjacency: z.literal('add-remove'),
        amplification: z.literal(false),
        epsilon: claimedEpsilon,
        order: z.number().positive().nullable(),
        pldEpsilon: claimedEpsilon.optional(),
        participants: z.record(participantKey, claimedEpsilon),
      })
      .strict(),
    modelObserver: z
      .object({
        adversary: z.string().min(1),
        adjacency: z.enum(['add-remove', 'replace-one']),
        amplification: z.boolean(),
        epsilon: claimedEpsilon,
        order: z.number().positive().nullable(),
        pldEpsilon: claimedEpsilon.optional(),
      })
      .strict(),
    empiricalAudit: EmpiricalAuditSchema.optional(),
    noiseAudit: NoiseAuditSchema.optional(),
  })
  .strict();

/** True for the outcomes that spend ε (released, or aborted after an unmask share was revealed). */
export function isCharged(outcome: RoundOutcome): boolean {
  return outcome !== 'aborted-before-unmask';
}

/** The orders a set of round events is accounted on (integer orders if any is Skellam/DDG). */
export function reportOrders(events: readonly DpEvent[]): readonly number[] {
  return events.some(containsDiscreteMechanism) ? INTEGER_RDP_ORDERS : DEFAULT_RDP_ORDERS;
}

/** ε as a report stores it: Infinity becomes null. */
function stored(e: number): number | null {
  return Number.isFinite(e) ? e : null;
}

/** RDP curves of events on fixed orders, cached by event, so identical rounds cost once. */
class CurveCache {
  private readonly cache = new Map<string, Float64Array>();
  constructor(readonly orders: readonly number[]) {}
  curve(e: DpEvent): Float64Array {
    const key = JSON.stringify(e);
    let c = this.cache.get(key);
    if (c === undefined) {
      c = rdpCurve(e, this.orders);
      this.cache.set(key, c);
    }
    return c;
  }
}

/** Per-round and cumulative ε of a sequence of round events (curves cached by event, so identical rounds cost once). */
export function accountRounds(
  events: readonly DpEvent[],
  delta: number,
  orders: readonly number[] = reportOrders(events),
): { perRound: number[]; cumulative: number[]; total: { epsilon: number; order: number } } {
  checkDelta(delta);
  const klInclusive = events.some(containsDiscreteMechanism);
  const curves = new CurveCache(orders);
  const acc = new Float64Array(orders.length);
  const perRound: number[] = [];
  const cumulative: number[] = [];
  let total = { epsilon: 0, order: orders[0] as number };
  for (const e of events) {
    const curve = curves.curve(e);
    for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (curve[i] as number);
    perRound.push(epsilonFromRdp(orders, curve, delta, { klInclusive }).epsilon);
    total = epsilonFromRdp(orders, acc, delta, { klInclusive });
    cumulative.push(total.epsilon);
  }
  return { perRound, cumulative, total };
}

/**
 * Per-participant accounting against ledger readers: each participant's RDP is the sum of the
 * curves of the rounds it contributed to (`ids[i]` for round event `events[i]`). Returns each
 * round's own ε, the worst participant's ε after each round, every participant's ε and order, and
 * the worst participant's. With `cumulative` false the worst-after-each-round list is left empty
 * and each participant is converted to ε once, at the end (for callers that need only totals).
 */
export function accountParticipants(
  events: readonly DpEvent[],
  ids: readonly (readonly string[])[],
  delta: number,
  orders: readonly number[] = reportOrders(events),
  cumulative = true,
): {
  perRound: number[];
  cumulativeWorst: number[];
  participants: Map<string, { epsilon: number; order: number }>;
  worst: { epsilon: number; order: number | null };
} {
  checkDelta(delta);
  check(events.length === ids.length, 'dp/bad-report-input', 'one contributor list per round event');
  const klInclusive = events.some(containsDiscreteMechanism);
  const curves = new CurveCache(orders);
  const acc = new Map<string, Float64Array>();
  const participants = new Map<string, { epsilon: number; order: number }>();
  const perRound: number[] = [];
  const cumulativeWorst: number[] = [];
  let worst: { epsilon: number; order: number | null } = { epsilon: 0, order: null };
  const settle = (id: string, a: Float64Array): void => {
    const mine = epsilonFromRdp(orders, a, delta, { klInclusive });
    participants.set(id, mine);
    // ε never falls as rounds are added, so the worst so far only moves up.
    if (worst.order === null || mine.epsilon > worst.epsilon) worst = mine;
  };
  events.forEach((e, r) => {
    const curve = curves.curve(e);
    perRound.push(epsilonFromRdp(orders, curve, delta, { klInclusive }).epsilon);
    for (const id of ids[r] as readonly string[]) {
      let a = acc.get(id);
      if (a === undefined) {
        a = new Float64Array(orders.length);
        acc.set(id, a);
      }
      for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) + (curve[i] as number);
      if (cumulative) settle(id, a);
    }
    if (cumulative) cumulativeWorst.push(worst.epsilon);
  });
  if (!cumulative) for (const [id, a] of acc) settle(id, a);
  return { perRound, cumulativeWorst, participants, worst };
}

/** Throws FedveilError('dp/bad-report-input') unless `rounds` are well-formed entries in strictly increasing round order. */
function checkEntries(rounds: readonly RoundPrivacyEntry[], colluders: number): RoundPrivacyEntry[] {
  check(Number.isSafeInteger(colluders) && colluders >= 0, 'dp/bad-colluders', `colluders must be a non-negative integer, got ${colluders}`);
  return rounds.map((r, i) => {
    const parsed = RoundPrivacyEntrySchema.safeParse(r);
    if (!parsed.success) {
      const msg = parsed.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ');
      check(false, 'dp/bad-report-input', `round entry ${i}: ${msg}`);
    }
    const e = parsed.data;
    check(i === 0 || e.round > (rounds[i - 1] as RoundPrivacyEntry).round, 'dp/bad-report-input', `round numbers must be strictly increasing (entry ${i})`);
    check(
      e.contributorIds.length === e.contributors,
      'dp/bad-report-input',
      `round ${e.round}: ${e.contributorIds.length} contributor ids for ${e.contributors} contributors`,
    );
    check(new Set(e.contributorIds).size === e.contributorIds.length, 'dp/bad-report-input', `round ${e.round}: a contributor is listed twice`);
    check(
      e.contributors <= maxCohortMembers(e.cohort),
      'dp/bad-report-input',
      `round ${e.round}: ${e.contributors} contributors exceed the ${maxCohortMembers(e.cohort)} its cohort can have`,
    );
    check(!isCharged(e.outcome) || e.contributors >= 1, 'dp/bad-report-input', `round ${e.round}: a charged round has at least one contributor`);
    return e;
  });
}

/** The events of every round against both adversaries, and the model observer's adjacency. */
export interface RoundEvents {
  ledgerReader: DpEvent[];
  modelObserver: DpEvent[];
  adjacency: Adjacency;
}

/**
 * Each round's event against ledger readers and against model observers (`no_op` for uncharged
 * rounds), with `colluders` assumed colluders. With `amplify` false the model observer gets the
 * ledger reader's unsampled add/remove events; with it true, each round's event amplified by its
 * draw where the draw amplifies, under the adjacency the draws need. Throws the events'
 * FedveilErrors (e.g. 'dp/too-few-noise-shares', 'dp/mixed-sampling-adjacency').
 */
export function roundEvents(rounds: readonly RoundPrivacyEntry[], colluders: number, amplify = true): RoundEvents {
  const noOp: DpEvent = { kind: 'no_op' };
  const ledgerReader = rounds.map((r) => (isCharged(r.outcome) ? ledgerReaderEvent(r.config, r.contributors, colluders, r.dim) : noOp));
  if (!amplify) return { adjacency: 'add-remove', ledgerReader, modelObserver: ledgerReader };
  const adjacency = modelObserverAdjacency(rounds.filter((r) => isCharged(r.outcome)).map((r) => r.cohort));
  return {
    adjacency,
    ledgerReader,
    modelObserver: rounds.map((r) => (isCharged(r.outcome) ? modelObserverEvent(r.config, r.cohort, r.contributors, colluders, r.dim, adjacency) : noOp)),
  };
}

/** The ledger-reader adversary a set of rounds is accounted against (central DP excludes the coordinator). */
export function ledgerReaderAdversary(rounds: readonly RoundPrivacyEntry[]): string {
  return rounds.some((r) => isCharged(r.outcome) && r.config.mechanism === 'central') ? LEDGER_READER_ADVERSARY_CENTRAL : LEDGER_READER_ADVERSARY;
}

/** Whether any charged round's draw supports amplification by sampling (a secret draw that leaves someone out, of a private mechanism). */
export function claimsAmplification(rounds: readonly RoundPrivacyEntry[]): boolean {
  return rounds.some((r) => isCharged(r.outcome) && r.config.mechanism !== 'none' && cohortAmplifies(r.cohort));
}

/**
 * Builds the privacy report (version 2) of `rounds` — the ordered round entries with their
 * contributor ids, cohort method, outcome, dimension and DP configuration — at `delta`, with
 * `colluders` (c, default 0) participants assumed to collude with the coordinator:
 *
 * - against ledger readers (the headline `epsilon`): every charged round's unsampled event with
 *   n − 1 − c noise shares, composed per participant over the rounds it contributed to; the total
 *   is the worst participant's;
 * - against model observers: composed over all charged rounds, each round's event amplified by
 *   its draw when the draw was secret — unless the unsampled add/remove composition is smaller
 *   (amplification under replace-one adjacency doubles the sensitivity, which a large sampling
 *   fraction does not win back) or the draws mix secret Poisson and fixed-size sampling, in which
 *   case that one is stated, with `amplification: false`.
 *
 * Throws FedveilError 'dp/bad-report-input' (malformed or out-of-order entries, contributor lists
 * that do not match `contributors`), 'dp/too-few-noise-shares' (a distributed-noise round with
 * n − 1 − c < 1), 'dp/bad-delta', 'dp/bad-colluders'.
 */
export function buildReport(opts: { federationId: string; delta: number; colluders?: number; rounds: readonly RoundPrivacyEntry[] }): PrivacyReport {
  check(opts.federationId.length > 0, 'dp/bad-report-input', 'federationId must not be empty');
  checkDelta(opts.delta);
  const colluders = opts.colluders ?? 0;
  const rounds = checkEntries(opts.rounds, colluders);
  let events = roundEvents(rounds, colluders, false);
  const orders = reportOrders(events.ledgerReader);
  let observers = accountRounds(events.modelObserver, opts.delta, orders);
  if (claimsAmplification(rounds) && !mixesSampling(rounds)) {
    const amplified = roundEvents(rounds, colluders, true);
    const withSampling = accountRounds(amplified.modelObserver, opts.delta, orders);
    if (withSampling.total.epsilon < observers.total.epsilon) {
      events = amplified;
      observers = withSampling;
    }
  }
  const readers = accountParticipants(
    events.ledgerReader,
    rounds.map((r) => (isCharged(r.outcome) ? r.contributorIds : [])),
    opts.delta,
    orders,
  );
  const participants: Record<string, number | null> = {};
  for (const id of [...readers.participants.keys()].sort()) participants[id] = stored((readers.participants.get(id) as { epsilon: number }).epsilon);
  const headline = stored(readers.worst.epsilon);
  const anyCharged = rounds.some((r) => isCharged(r.outcome));
  const pld = reportPldFigures(
    events.ledgerReader,
    events.modelObserver,
    rounds.map((r) => (isCharged(r.outcome) ? r.contributorIds : [])),
    opts.delta,
  );
  const report: PrivacyReport = {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    federationId: opts.federationId,
    delta: opts.delta,
    colluders,
    accountant: { name: RDP_ACCOUNTANT.name, version: RDP_ACCOUNTANT.version },
    rounds: rounds.map((r, i) => ({
      ...r,
      charged: isCharged(r.outcome),
      ledgerReader: {
        event: events.ledgerReader[i] as DpEvent,
        epsilon: stored(readers.perRound[i] as number),
        cumulativeEpsilon: stored(readers.cumulativeWorst[i] as number),
      },
      modelObserver: {
        event: events.modelObserver[i] as DpEvent,
        epsilon: stored(observers.perRound[i] as number),
        cumulativeEpsilon: stored(observers.cumulative[i] as number),
      },
    })),
    epsilon: headline,
    ledgerReader: {
      adversary: ledgerReaderAdversary(rounds),
      adjacency: 'add-remove',
      amplification: false,
      epsilon: headline,
      order: headline === null ? null : readers.worst.order,
      participants,
    },
    modelObserver: {
      adversary: MODEL_OBSERVER_ADVERSARY,
      adjacency: events.adjacency,
      amplification: events.modelObserver !== events.ledgerReader,
      epsilon: anyCharged ? stored(observers.total.epsilon) : 0,
      order: !anyCharged || !Number.isFinite(observers.total.epsilon) ? null : observers.total.order,
    },
  };
  return pld === null ? report : withPld(report, pld);
}

/**
 * `report` with its PLD figures beside the RDP ones: the `pld` block, `pldEpsilon` beside every
 * total and each round's `epsilon`, `pldCumulativeEpsilon` beside each `cumulativeEpsilon`.
 */
export function withPld(report: PrivacyReport, pld: PldFigures): PrivacyReport {
  const headline = stored(pld.ledgerReader);
  return {
    ...report,
    pld: { accountant: { name: REPORT_PLD_ACCOUNTANT.name, version: REPORT_PLD_ACCOUNTANT.version }, valueDiscretization: pld.valueDiscretization },
    pldEpsilon: headline,
    rounds: report.rounds.map((r, i) => ({
      ...r,
      ledgerReader: { ...r.ledgerReader, pldEpsilon: stored(pld.ledgerReaderPerRound[i] as number), pldCumulativeEpsilon: stored(pld.ledgerReaderCumulative[i] as number) },
      modelObserver: { ...r.modelObserver, pldEpsilon: stored(pld.modelObserverPerRound[i] as number), pldCumulativeEpsilon: stored(pld.modelObserverCumulative[i] as number) },
    })),
    ledgerReader: { ...report.ledgerReader, pldEpsilon: headline },
    modelObserver: { ...report.modelObserver, pldEpsilon: stored(pld.modelObserver) },
  };
}

/** True when the charged rounds mix secret Poisson and secret fixed-size draws (no common adjacency). */
function mixesSampling(rounds: readonly RoundPrivacyEntry[]): boolean {
  const charged = rounds.filter((r) => isCharged(r.outcome) && cohortAmplifies(r.cohort));
  return charged.some((r) => r.cohort.kind === 'poisson') && charged.some((r) => r.cohort.kind === 'fixed');
}

/**
 * One participant's ε against ledger readers: its rounds' unsampled events (n − 1 − c noise
 * shares) composed over the charged rounds whose contributors include `participant` (public key
 * hex), on the same orders a report of `rounds` uses, so it equals that report's
 * `ledgerReader.participants[participant]`. `epsilon` is Infinity when unbounded; `rounds` counts
 * the rounds composed. A participant that contributed to no charged round has ε 0.
 */
export function participantEpsilon(
  rounds: readonly RoundPrivacyEntry[],
  participant: string,
  opts: { delta: number; colluders?: number },
): ParticipantAccount {
  return participantAccounts(rounds, opts)(participant);
}

/** One participant's ε against ledger readers, the order it was attained at, and the rounds composed. */
export interface ParticipantAccount {
  epsilon: number;
  order: number | null;
  rounds: number;
}

/**
 * {@link participantEpsilon} for any number of participants over the same `rounds`: the entries
 * are checked, their events built and each round's contributors indexed once, so each
 * participant's figure costs its own rounds only (a process hosting a thousand participants of a
 * round over a ledger of T rounds of a thousand contributors would otherwise check T × 10⁶ ids).
 * `alsoIn` lists round numbers of `rounds` to count the participant in whether or not their
 * contributors name it: a round it is asked to join, whose contributor list is not yet known.
 * Throws as {@link participantEpsilon} when `rounds` are malformed, on the first call.
 */
export function participantAccounts(
  rounds: readonly RoundPrivacyEntry[],
  opts: { delta: number; colluders?: number },
): (participant: string, alsoIn?: readonly number[]) => ParticipantAccount {
  checkDelta(opts.delta);
  const entries = checkEntries(rounds, opts.colluders ?? 0);
  const events = roundEvents(entries, opts.colluders ?? 0, false).ledgerReader;
  const orders = reportOrders(events);
  const klInclusive = events.some(containsDiscreteMechanism);
  const curves = new CurveCache(orders);
  const charged = entries.map((r) => isCharged(r.outcome));
  const roundsOf = new Map<string, number[]>();
  entries.forEach((r, i) => {
    if (!charged[i]) return;
    for (const id of r.contributorIds) {
      const mine = roundsOf.get(id);
      if (mine === undefined) roundsOf.set(id, [i]);
      else mine.push(i);
    }
  });
  const indexOfRound = new Map(entries.map((r, i) => [r.round, i]));
  return (participant, alsoIn = []) => {
    const mine = new Set(roundsOf.get(participant));
    for (const round of alsoIn) {
      const i = indexOfRound.get(round);
      check(i !== undefined, 'dp/bad-report-input', `round ${round} is not among the rounds accounted`);
      if (charged[i]) mine.add(i);
    }
    if (mine.size === 0) return { epsilon: 0, order: null, rounds: 0 };
    // Composed in round order, as accountParticipants does, so the sum (and ε) is the report's to the bit.
    const total = new Float64Array(orders.length);
    for (const i of [...mine].sort((a, b) => a - b)) {
      const curve = curves.curve(events[i] as DpEvent);
      for (let k = 0; k < total.length; k++) total[k] = (total[k] as number) + (curve[k] as number);
    }
    const own = epsilonFromRdp(orders, total, opts.delta, { klInclusive });
    return { epsilon: own.epsilon, order: own.order, rounds: mine.size };
  };
}

/** The headline ε against ledger readers of `rounds` (the worst participant's; Infinity when unbounded). */
export function ledgerReaderEpsilon(rounds: readonly RoundPrivacyEntry[], opts: { delta: number; colluders?: number }): number {
  checkDelta(opts.delta);
  const colluders = opts.colluders ?? 0;
  const entries = checkEntries(rounds, colluders);
  const events = roundEvents(entries, colluders, false);
  const orders = reportOrders(events.ledgerReader);
  return accountParticipants(
    events.ledgerReader,
    entries.map((r) => (isCharged(r.outcome) ? r.contributorIds : [])),
    opts.delta,
    orders,
    false,
  ).worst.epsilon;
}
