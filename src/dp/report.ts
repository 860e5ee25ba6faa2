import { z } from 'zod';
import { check } from '../secagg/util/errors.js';
import { DpConfigSchema, parseDpConfig, type DpConfig } from './config.js';
import { DpEventSchema, roundEvent, type DpEvent } from './events.js';
import { epsilonFromRdp } from './accountant/conversion.js';
import { DEFAULT_RDP_ORDERS, INTEGER_RDP_ORDERS } from './accountant/orders.js';
import { RDP_ACCOUNTANT, checkDelta, containsDiscreteMechanism, rdpCurve } from './accountant/rdp.js';

/** `format` field of every privacy report. */
export const REPORT_FORMAT = 'fedveil.privacy-report';
/** Current report version; bump on any change to the schema or its meaning. */
export const REPORT_VERSION = 1;

/** One round as the coordinator records it: what was run, on how many contributors. */
export interface RoundPrivacyEntry {
  /** Round number (non-negative, strictly increasing within a report). */
  round: number;
  /** Poisson sampling rate q of participants in this round, in (0, 1]. */
  samplingRate: number;
  /** Number of encodings in the decoded sum (survivors). */
  contributors: number;
  /** Length of the model update (before padding). */
  dim: number;
  /** The DP configuration used in this round (noise, clip norm C, scale γ, bits b, …). */
  config: DpConfig;
}

/** A round of the report: the entry plus the event accounted for it and the ε claimed. */
export interface ReportRound extends RoundPrivacyEntry {
  /** This round's privacy event (roundEvent of the entry). */
  event: DpEvent;
  /** ε of this round alone at the report's δ; null means unbounded (no DP). */
  epsilon: number | null;
  /** ε of all rounds up to and including this one; null means unbounded. */
  cumulativeEpsilon: number | null;
}

/** The privacy report of a federation (JSON; see spec/dp.md for the format and its version). */
export interface PrivacyReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  federationId: string;
  delta: number;
  accountant: { name: string; version: string };
  /** The composed event tree: composed([round events in round order]). */
  event: DpEvent;
  rounds: ReportRound[];
  /** Total ε claimed at δ (null = unbounded) and the RDP order that gave it. */
  epsilon: number | null;
  order: number | null;
}

const claimedEpsilon = z.number().min(0).finite().nullable();

const RoundPrivacyEntrySchema = z.object({
  round: z.number().int().min(0),
  samplingRate: z.number().gt(0).max(1),
  contributors: z.number().int().min(1),
  dim: z.number().int().min(1).max(2 ** 31),
  config: DpConfigSchema,
});

/** zod schema of {@link PrivacyReport} (strict: unknown fields are errors). */
export const PrivacyReportSchema: z.ZodType<PrivacyReport> = z
  .object({
    format: z.literal(REPORT_FORMAT),
    version: z.literal(REPORT_VERSION),
    federationId: z.string().min(1).max(256),
    delta: z.number().gt(0).lt(1),
    accountant: z.object({ name: z.string().min(1), version: z.string().min(1) }).strict(),
    event: DpEventSchema,
    rounds: z.array(
      RoundPrivacyEntrySchema.extend({ event: DpEventSchema, epsilon: claimedEpsilon, cumulativeEpsilon: claimedEpsilon }).strict(),
    ),
    epsilon: claimedEpsilon,
    order: z.number().positive().nullable(),
  })
  .strict();

/** The orders a set of round events is accounted on (integer orders if any is Skellam/DDG). */
export function reportOrders(events: readonly DpEvent[]): readonly number[] {
  return events.some(containsDiscreteMechanism) ? INTEGER_RDP_ORDERS : DEFAULT_RDP_ORDERS;
}

/** ε as a report stores it: Infinity becomes null. */
function stored(e: number): number | null {
  return Number.isFinite(e) ? e : null;
}

/** Per-round and cumulative ε of a sequence of round events (curves cached by event, so identical rounds cost once). */
export function accountRounds(events: readonly DpEvent[], delta: number): { perRound: number[]; cumulative: number[]; total: { epsilon: number; order: number } } {
  checkDelta(delta);
  const orders = reportOrders(events);
  const klInclusive = events.some(containsDiscreteMechanism);
  const cache = new Map<string, Float64Array>();
  const acc = new Float64Array(orders.length);
  const perRound: number[] = [];
  const cumulative: number[] = [];
  let total = { epsilon: 0, order: orders[0] as number };
  for (const e of events) {
    const key = JSON.stringify(e);
    let curve = cache.get(key);
    if (curve === undefined) {
      curve = rdpCurve(e, orders);
      cache.set(key, curve);
    }
    for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (curve[i] as number);
    perRound.push(epsilonFromRdp(orders, curve, delta, { klInclusive }).epsilon);
    total = epsilonFromRdp(orders, acc, delta, { klInclusive });
    cumulative.push(total.epsilon);
  }
  return { perRound, cumulative, total };
}

/**
 * Builds the privacy report of `rounds` (strictly increasing round numbers) at `delta`: each round's
 * event from its entry, the composed tree, and the ε claimed per round, cumulatively and in total.
 */
export function buildReport(opts: { federationId: string; delta: number; rounds: RoundPrivacyEntry[] }): PrivacyReport {
  check(opts.federationId.length > 0, 'dp/bad-report-input', 'federationId must not be empty');
  checkDelta(opts.delta);
  const rounds = opts.rounds.map((r) => ({ ...r, config: parseDpConfig(r.config) }));
  for (let i = 1; i < rounds.length; i++) {
    check((rounds[i] as RoundPrivacyEntry).round > (rounds[i - 1] as RoundPrivacyEntry).round, 'dp/bad-report-input', `round numbers must be strictly increasing (entry ${i})`);
  }
  const events = rounds.map((r) => roundEvent(r.config, r.samplingRate, r.contributors, r.dim));
  const { perRound, cumulative, total } = accountRounds(events, opts.delta);
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    federationId: opts.federationId,
    delta: opts.delta,
    accountant: { name: RDP_ACCOUNTANT.name, version: RDP_ACCOUNTANT.version },
    event: { kind: 'composed', events },
    rounds: rounds.map((r, i) => ({
      ...r,
      event: events[i] as DpEvent,
      epsilon: stored(perRound[i] as number),
      cumulativeEpsilon: stored(cumulative[i] as number),
    })),
    epsilon: rounds.length === 0 ? 0 : stored(total.epsilon),
    order: rounds.length === 0 || !Number.isFinite(total.epsilon) ? null : total.order,
  };
}
