import { participantAccounts, type DpConfig, type ParticipantAccount, type RoundPrivacyEntry } from '../dp/index.js';
import { canonicalJson } from './canonical-json.js';
import { quorumOf } from '../protocol/config.js';
import type { FederationConfig } from './config.js';
import { roundGraph } from './federation-plan.js';
import { ledgerOnce, type LedgerOnce } from './ledger-memo.js';
import { chargedEntries, type GenesisEntry, type LedgerEntry } from './ledger-entry.js';
import { privacyEntryOf } from './report.js';

/**
 * A round a participant is asked to join (or, in an asynchronous federation, the next group it
 * would join): its number, dimension, DP configuration, the other members it names (hex; in a
 * group not yet formed, placeholders: only their count matters) and its quorum.
 */
export interface UpcomingRound {
  round: number;
  dim: number;
  dp: DpConfig;
  others: readonly string[];
  quorum: number;
}

/**
 * A participant's own ε against ledger readers (the privacy report's per-participant figure) at
 * the genesis δ with its c colluders, over the charged rounds of `entries` it contributed to and,
 * when `upcoming` is given, the round it is asked to join as if it were released with only the
 * fewest contributors the round allows (`quorum`, the least noise): the worst case of taking part.
 * No amplification by sampling (the ledger names every cohort). Infinity when a round had no DP.
 * `once` shares the part that depends on the ledger alone (the checked rounds, their events and
 * who contributed to which) between the participants of one process checking the same ledger.
 */
export function participantEpsilon(
  genesis: GenesisEntry,
  entries: readonly LedgerEntry[],
  self: string,
  upcoming?: UpcomingRound,
  once: LedgerOnce = ledgerOnce(null),
): { epsilon: number; rounds: number } {
  let own: ParticipantAccount;
  if (upcoming === undefined) {
    own = once('participant-accounts', () => ledgerAccounts(genesis, entries))(self);
  } else {
    const u = upcoming;
    // Me and up to quorum − 1 of the others: only the count enters the account, so the round is
    // entered with placeholder ids and me counted in it, and the same accounts serve every member.
    const contributors = 1 + Math.max(0, Math.min(u.quorum - 1, u.others.filter((k) => k !== self).length));
    const key = `participant-accounts/${u.round}/${u.dim}/${contributors}/${canonicalJson(u.dp)}`;
    const accounts = once(key, () =>
      ledgerAccounts(genesis, entries, {
        round: u.round,
        outcome: 'released',
        cohort: { kind: 'all', population: genesis.participants.length },
        contributors,
        contributorIds: placeholderIds(contributors),
        dim: u.dim,
        config: u.dp,
      }),
    );
    own = accounts(self, [u.round]);
  }
  return { epsilon: own.epsilon, rounds: own.rounds };
}

/** The ledger-reader accounts of the charged rounds of `entries`, and of `upcoming` after them. */
function ledgerAccounts(genesis: GenesisEntry, entries: readonly LedgerEntry[], upcoming?: RoundPrivacyEntry): ReturnType<typeof participantAccounts> {
  const rounds: RoundPrivacyEntry[] = chargedEntries(entries).map((e) => privacyEntryOf(genesis, e));
  if (upcoming !== undefined) rounds.push(upcoming);
  return participantAccounts(rounds, { delta: genesis.delta, colluders: genesis.colluders });
}

/** `n` distinct 64-hex ids standing for the contributors of a round not yet formed. */
function placeholderIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => i.toString(16).padStart(64, '0'));
}

/**
 * My ε if I joined the next group of an asynchronous federation of `genesis`: over the charged
 * rounds of `entries` I contributed to, plus a group of K = `cohort.size` members under the
 * mechanism now in force (`dp`: the genesis's or the latest amendment's) released with its quorum
 * (the quorum a round of K members has: {@link quorumOf} with the threshold the federation's
 * neighbour graph gives K). The same figure the check before the group will compute, so a
 * participant that announces only when this is within its limit is not refused for its budget
 * once the group forms (unless an amendment lowered the noise in between). `once` as
 * {@link participantEpsilon}'s.
 */
export function nextGroupEpsilon(
  genesis: GenesisEntry,
  fedConfig: FederationConfig,
  entries: readonly LedgerEntry[],
  self: string,
  o: { dp: DpConfig; dim: number },
  once: LedgerOnce = ledgerOnce(null),
): { epsilon: number; rounds: number; quorum: number } {
  const k = 'size' in fedConfig.cohort ? fedConfig.cohort.size : fedConfig.participants.length;
  const quorum = quorumOf({ threshold: roundGraph(fedConfig, k).threshold, dp: o.dp, mode: fedConfig.mode, n: k, colluders: fedConfig.colluders });
  const charged = chargedEntries(entries);
  const round = charged.length === 0 ? 0 : Math.max(...charged.map((e) => e.round)) + 1;
  // Placeholder keys for the other members (never mine): the account counts them, it never names them.
  const others = placeholderIds(k)
    .filter((key) => key !== self)
    .slice(0, k - 1);
  const { epsilon, rounds } = participantEpsilon(genesis, entries, self, { round, dim: o.dim, dp: o.dp, others, quorum }, once);
  return { epsilon, rounds, quorum };
}
