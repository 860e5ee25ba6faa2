import { participantEpsilon as ledgerReaderParticipantEpsilon, type RoundPrivacyEntry } from '../dp/index.js';
import type { RoundConfig } from '../protocol/config.js';
import { toHex } from '../secagg/index.js';
import { chargedEntries, type GenesisEntry, type LedgerEntry } from './ledger-entry.js';
import { privacyEntryOf } from './report.js';

/**
 * A participant's own ε against ledger readers (the privacy report's per-participant figure) at
 * the genesis δ with its c colluders, over the charged rounds of `entries` it contributed to and,
 * when `upcoming` is given, the round it is asked to join as if it were released with only the
 * fewest contributors the round allows (`quorum`, the least noise): the worst case of taking part.
 * No amplification by sampling (the ledger names every cohort). Infinity when a round had no DP.
 */
export function participantEpsilon(
  genesis: GenesisEntry,
  entries: readonly LedgerEntry[],
  self: string,
  upcoming?: { config: RoundConfig; quorum: number },
): { epsilon: number; rounds: number } {
  const rounds: RoundPrivacyEntry[] = chargedEntries(entries).map((e) => privacyEntryOf(genesis, e));
  if (upcoming !== undefined) {
    const { config, quorum } = upcoming;
    const others = config.participants.map((p) => toHex(p)).filter((k) => k !== self);
    const contributorIds = [self, ...others.slice(0, quorum - 1)];
    rounds.push({
      round: config.round,
      outcome: 'released',
      cohort: { kind: 'all', population: genesis.participants.length },
      contributors: contributorIds.length,
      contributorIds,
      dim: config.dim,
      config: config.dp,
    });
  }
  const own = ledgerReaderParticipantEpsilon(rounds, self, { delta: genesis.delta, colluders: genesis.colluders });
  return { epsilon: own.epsilon, rounds: own.rounds };
}
