import { accountRounds, roundEvent, type DpConfig } from '../dp/index.js';
import type { ChargedEntry } from './ledger-entry.js';

/** One round a participant's data went into, as the ledger records it. */
export interface ContributedRound {
  mechanism: DpConfig;
  /** |U3| of the round (the noise in the sum grows with it). */
  contributors: number;
  dim: number;
}

/**
 * A participant's own ε at `delta` over the rounds it contributed to: each round's event with no
 * amplification by sampling (the ledger names every cohort, so whoever reads it knows the
 * participant was drawn), composed with the RDP accountant. Infinity when a round had no DP.
 *
 * This is the one place `fedveil client` accounts its budget; swap it for the per-participant
 * accountant of src/dp when that lands.
 */
export function participantEpsilon(rounds: readonly ContributedRound[], delta: number): number {
  if (rounds.length === 0) return 0;
  return accountRounds(rounds.map((r) => roundEvent(r.mechanism, 1, r.contributors, r.dim)), delta).total.epsilon;
}

/** The charged rounds of a ledger that `publicKey` contributed to (it is in U3). */
export function contributedRounds(entries: readonly ChargedEntry[], publicKey: string): ContributedRound[] {
  return entries
    .filter((e) => e.contributors.some((c) => c.publicKey === publicKey))
    .map((e) => ({ mechanism: e.mechanism, contributors: e.contributors.length, dim: e.dim }));
}
