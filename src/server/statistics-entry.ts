import { sha256 } from '@noble/hashes/sha2.js';
import type { CompletedOutcome } from '../protocol/results.js';
import { toHex } from '../secagg/index.js';
import type { FederatedStandardizationSpec } from './data-schema.js';
import { releasedMoments, sameStandardization, standardizationOf } from './federated-statistics.js';
import type { LedgerEntry, LedgerRecord, StatisticsEntry } from './ledger-entry.js';
import { chargedRoundFields, type RoundContext } from './round-record.js';

/*
 * The ledger's `statistics` entry (spec/ledger.md §2.6): what the coordinator records when the
 * statistics round of src/server/federated-statistics.ts released, and what a verifier checks.
 */

/**
 * The ledger record of a completed statistics round: the round's charged fields, the unchanged
 * model, the hash of the unmasked sum, the released moments decoded from the round's mean
 * `aggregate`, and the standardisation that follows from them.
 */
export function statisticsRecord(
  a: RoundContext,
  outcome: Pick<CompletedOutcome, 'u3' | 'dropouts' | 'aggregate' | 'sum'>,
  spec: FederatedStandardizationSpec,
  model: { version: number; hash: string },
  timestamp: string,
): Extract<LedgerRecord, { kind: 'statistics' }> {
  const released = releasedMoments(outcome.aggregate, spec.lower.length, a.dp.clipNorm);
  const sum = outcome.sum;
  return {
    kind: 'statistics',
    ...chargedRoundFields(a, outcome.u3, outcome.dropouts, timestamp),
    modelVersion: model.version,
    modelHash: model.hash,
    aggregateHash: toHex(sha256(new Uint8Array(sum.buffer, sum.byteOffset, sum.byteLength))),
    statistics: { released, standardize: standardizationOf(released, spec) },
  };
}

/** The statistics entry of a ledger (at most one), or null. */
export function statisticsEntryOf(entries: readonly LedgerEntry[]): StatisticsEntry | null {
  return entries.find((e): e is StatisticsEntry => e.kind === 'statistics') ?? null;
}

/**
 * How a statistics entry disagrees with the federation's federated standardisation `spec` (empty
 * when it agrees): no such standardisation, released moments of the wrong length, or a recorded
 * standardisation that is not the one its released moments give.
 */
export function statisticsProblems(e: StatisticsEntry, spec: FederatedStandardizationSpec | null): string[] {
  if (spec === null) return ["the genesis's data schema has no federated standardisation, so it runs no statistics round"];
  const f = spec.lower.length;
  const { released, standardize } = e.statistics;
  if (released.mean.length !== f || released.meanSquare.length !== f) {
    return [`the released moments have ${released.mean.length} means and ${released.meanSquare.length} means of squares, the schema ${f} features`];
  }
  const expected = standardizationOf(released, spec);
  return sameStandardization(expected, standardize)
    ? []
    : [`the recorded standardisation (mean ${JSON.stringify(standardize.mean)}, std ${JSON.stringify(standardize.std)}) is not the one its released moments give (mean ${JSON.stringify(expected.mean)}, std ${JSON.stringify(expected.std)})`];
}
