import { planRound, toWireConfig, type RoundConfig } from '../protocol/config.js';
import { sameClipNorm } from '../dp/index.js';
import { adaptiveClipRule, nextRoundClipNorm } from './adaptive-clip.js';
import { roundDim } from './federated-evaluation.js';
import { defaultProvider, toHex, type CryptoProvider } from '../secagg/index.js';
import { canonicalJson } from './canonical-json.js';
import { currentTerms, type FederationTerms } from './ledger-amendment.js';
import { LedgerEntrySchema, type GenesisEntry, type LedgerEntry } from './ledger-entry.js';
import { genesisFederationConfig } from './ledger-genesis.js';
import type { FederationConfig } from './config.js';
import { checkReceipts, type Receipt } from './ledger-head.js';
import { drawProblems, ledgerGenesis, verifyLedger } from './ledger-verify.js';
import { ledgerOnce, type LedgerMemo, type LedgerOnce } from './ledger-memo.js';
import type { RoundPlanMemo } from '../protocol/plan-memo.js';
import { nextGroupEpsilon, participantEpsilon } from './participant-budget.js';
import type { FederatedStandardizationSpec, FixedStandardization } from './data-schema.js';
import { statisticsSpec } from './federated-statistics.js';
import { statisticsEntryOf } from './statistics-entry.js';
import { roundBinding, unboundWireConfig, type BoundDraw, type LedgerHeadRef } from './round-binding.js';

/** What the coordinator announced for the round a participant is asked to join. */
export interface RoundAnnouncement {
  /** The decoded round config, with its binding. */
  config: RoundConfig;
  /** The cohort draw the coordinator says it made (null: not announced). */
  draw: BoundDraw | null;
  /** The ledger head the coordinator says the round extends (null: not announced). */
  ledgerHead: LedgerHeadRef | null;
  /** The clip norm C_t the coordinator says the round clips to (adaptive clipping; null or absent: none stated). */
  clipNorm?: number | null;
}

/** Everything a participant checks before it contributes, and its limits. */
export interface LedgerCheckInput {
  /** The coordinator's ledger, as fetched (one parsed JSON value per line). */
  entries: readonly unknown[];
  /** My public key (hex). */
  self: string;
  /** The coordinator key I pinned on first contact or was given. */
  coordinatorKey: string;
  /** Receipts I hold for this federation. */
  receipts: readonly Receipt[];
  round: RoundAnnouncement;
  /** Refuse when taking part would take my own ε past this. */
  maxEpsilon?: number;
  /** Refuse a federation whose genesis δ is above this. */
  maxDelta?: number;
  /** Entries verified before (their signatures are not checked again). */
  verifiedPrefix?: number;
  provider?: CryptoProvider;
  /** Results of the ledger-only checks, shared with other participants checking the same `entries`. */
  memo?: LedgerMemo;
  /** Round plans shared with other participants of this process (the round's quorum is read from its plan). */
  roundPlans?: RoundPlanMemo;
}

/**
 * A federation with federated standardisation, as its verified ledger stands: its settings, and
 * the standardisation its statistics entry records (null while that round has not released: the
 * announced round is then the statistics round).
 */
export interface LedgerStatistics {
  spec: FederatedStandardizationSpec;
  standardize: FixedStandardization | null;
}

/** The verdict: go ahead (with my ε if I take part), or refuse with a code. */
export type LedgerCheck =
  | {
      ok: true;
      genesis: GenesisEntry;
      head: LedgerHeadRef;
      entries: LedgerEntry[];
      terms: FederationTerms;
      epsilonIfContributing: number;
      /** Null when the federation does not estimate its standardisation. */
      statistics: LedgerStatistics | null;
    }
  | { ok: false; code: string; message: string };

const refuse = (code: string, message: string): { ok: false; code: string; message: string } => ({ ok: false, code, message });

/**
 * Decides whether a participant may contribute to the announced round. Refusal codes:
 * `client/ledger-invalid` (no genesis, or any discrepancy of {@link verifyLedger} under the pinned
 * key), `client/coordinator-key-changed` (the genesis names another coordinator key),
 * `client/ledger-behind-receipt` / `client/ledger-fork` / `client/receipt-invalid` (the ledger
 * lacks or contradicts a receipt I hold), `client/not-allowed` (I am not in the genesis),
 * `client/delta-above-limit`, `client/round-off-genesis` (the round's DP config, mode, dim, c,
 * cohort or draw disagree with the genesis, or its DP config with the mechanism of the latest
 * amendment, if any), `client/ledger-head-mismatch` (the announced head is
 * not the ledger's head), `client/clip-mismatch` (with adaptive clipping, the stated clip norm is
 * not the one the genesis's rule gives from the fractions the verified ledger records; with fixed
 * clipping, a clip norm is stated at all), `client/binding-mismatch` (the round's binding is not the one I
 * recompute from the verified ledger) and `client/epsilon-budget` (my ε, over every charged
 * round under whichever terms it ran, would pass `maxEpsilon`: an amendment that raises the
 * federation's target does not raise mine).
 */
export function checkLedgerBeforeRound(input: LedgerCheckInput): LedgerCheck {
  const member = trustedMember(input);
  if (!member.ok) return member;
  const { once, genesis, allowed, fedConfig, entries, terms } = member;
  const { config, draw } = input.round;
  const off: string[] = [];
  if (config.federationId !== genesis.federationId) off.push('another federation');
  if (canonicalJson(config.dp) !== canonicalJson(terms.mechanism)) off.push('its DP configuration is not the mechanism of the genesis or of its latest amendment');
  if (config.mode !== fedConfig.mode || config.dim !== roundDim(fedConfig)) off.push('mode or dim differs from the genesis');
  if ((config.colluders ?? 0) !== genesis.colluders) off.push(`c = ${config.colluders ?? 0}, the genesis says ${genesis.colluders}`);
  const members = config.participants.map((p) => toHex(p));
  if (members.some((m) => !allowed.has(m))) off.push('the cohort names a participant the genesis does not allow');
  if (draw === null) off.push('the coordinator did not announce its cohort draw');
  else off.push(...drawProblems(draw, members, genesis));
  if (off.length > 0) return refuse('client/round-off-genesis', `round ${config.round}: ${off.join('; ')}`);

  const last = entries.at(-1) as LedgerEntry;
  const head = { seq: last.seq, hash: last.hash };
  const announced = input.round.ledgerHead;
  if (announced !== null && (announced.seq !== head.seq || announced.hash !== head.hash)) {
    return refuse('client/ledger-head-mismatch', `the coordinator announced ledger head ${announced.seq}/${announced.hash}, its ledger ends at ${head.seq}/${head.hash}`);
  }
  const clipRule = adaptiveClipRule(fedConfig);
  const clipNorm = input.round.clipNorm ?? null;
  if (clipRule === null && clipNorm !== null) {
    return refuse('client/clip-mismatch', `round ${config.round}: the coordinator states clip norm ${clipNorm}, the genesis clips every round at its fixed dp.clipNorm`);
  }
  if (clipRule !== null) {
    const expectedClip = once('clip-norm', () => nextRoundClipNorm(clipRule, entries));
    if (clipNorm === null || !sameClipNorm(clipNorm, expectedClip)) {
      return refuse('client/clip-mismatch', `round ${config.round}: the coordinator states clip norm ${clipNorm ?? '(none)'}, the genesis's adaptive rule and the fractions in the ledger I verified give ${expectedClip}`);
    }
  }
  const expected = toHex(roundBinding({ roundConfig: unboundWireConfig(toWireConfig(config)), draw: draw as BoundDraw, genesisHash: genesis.hash, ledgerHead: head, clipNorm }));
  const got = config.binding === undefined ? null : toHex(config.binding);
  if (got !== expected) {
    return refuse('client/binding-mismatch', `round ${config.round}: the round's binding ${got ?? '(none)'} is not ${expected}, the binding of its config and draw to the ledger I verified`);
  }
  // The fewest contributors the round can release with carry the least noise: the worst case.
  const { epsilon, rounds } = participantEpsilon(genesis, entries, input.self, {
    round: config.round,
    dim: config.dim,
    dp: config.dp,
    others: members,
    quorum: (input.roundPlans?.plan(config) ?? planRound(config)).minSurvivors,
  }, once);
  if (input.maxEpsilon !== undefined && !(epsilon <= input.maxEpsilon)) {
    return refuse(
      'client/epsilon-budget',
      `taking part in round ${config.round} would bring my ε to ${epsilon} at δ ${genesis.delta} (${rounds - 1} rounds so far), above my limit ${input.maxEpsilon}`,
    );
  }
  const spec = statisticsSpec(fedConfig);
  const statistics = spec === null ? null : { spec, standardize: statisticsEntryOf(entries)?.statistics.standardize ?? null };
  return { ok: true, genesis, head, entries, terms, epsilonIfContributing: epsilon, statistics };
}

/** Everything a participant of an asynchronous federation checks before it announces an update ready. */
export type ReadyCheckInput = Omit<LedgerCheckInput, 'round' | 'roundPlans'>;

/** The verdict before announcing: go ahead (with my ε if I join the next group), or refuse with a code. */
export type ReadyCheck =
  | { ok: true; genesis: GenesisEntry; entries: LedgerEntry[]; epsilonIfContributing: number; quorum: number }
  | { ok: false; code: string; message: string };

/**
 * Decides whether a participant of an asynchronous federation may announce an update ready
 * (spec/ledger.md §2.5): the checks of {@link checkLedgerBeforeRound} that do not need the group's
 * config (`client/ledger-invalid`, `client/coordinator-key-changed`, the receipt codes,
 * `client/not-allowed`, `client/delta-above-limit`), and `client/epsilon-budget` when joining the
 * next group, a group of K members released with its quorum under the mechanism now in force,
 * would take my ε past `maxEpsilon`. A participant that announces only on `ok` never fills a
 * group's place with an update it would then refuse to contribute.
 */
export function checkLedgerBeforeReady(input: ReadyCheckInput): ReadyCheck {
  const member = trustedMember(input);
  if (!member.ok) return member;
  const { once, genesis, fedConfig, entries, terms } = member;
  const { epsilon, rounds, quorum } = nextGroupEpsilon(genesis, fedConfig, entries, input.self, { dp: terms.mechanism, dim: roundDim(fedConfig) }, once);
  if (input.maxEpsilon !== undefined && !(epsilon <= input.maxEpsilon)) {
    return refuse(
      'client/epsilon-budget',
      `joining the next group (released with as few as ${quorum} contributors) would bring my ε to ${epsilon} at δ ${genesis.delta} (${rounds - 1} groups so far), above my limit ${input.maxEpsilon}: not announcing an update`,
    );
  }
  return { ok: true, genesis, entries, epsilonIfContributing: epsilon, quorum };
}

/** What a participant may read about its own privacy from a ledger it verified. */
export type OwnPrivacy =
  | { ok: true; genesis: GenesisEntry; epsilon: number; rounds: number; entries: number }
  | { ok: false; code: string; message: string };

/**
 * My own ε so far (no amplification, at the genesis δ and c) from the coordinator's ledger, after
 * the checks that do not depend on a round: the genesis names the pinned key, every receipt I hold
 * is in the ledger, and the ledger verifies. Refusal codes as {@link checkLedgerBeforeRound}'s
 * (`client/ledger-invalid`, `client/coordinator-key-changed`, `client/ledger-behind-receipt`,
 * `client/ledger-fork`, `client/receipt-invalid`). What a participant is shown before it agrees.
 */
export function verifiedOwnPrivacy(input: Pick<LedgerCheckInput, 'entries' | 'self' | 'coordinatorKey' | 'receipts' | 'provider'>): OwnPrivacy {
  const trusted = trustedGenesis(input, 0, ledgerOnce(null));
  if (!trusted.ok) return trusted;
  const entries = input.entries.map((e) => LedgerEntrySchema.parse(e));
  const { epsilon, rounds } = participantEpsilon(trusted.genesis, entries, input.self);
  return { ok: true, genesis: trusted.genesis, epsilon, rounds, entries: entries.length };
}

/**
 * The checks before a round and before announcing ready share: the ledger verifies under the key
 * and receipts (`trustedGenesis`), the genesis lists me, its δ is within my limit; and what both
 * then read from the ledger (memoised per ledger where the process's participants share one).
 */
function trustedMember(input: ReadyCheckInput):
  | {
      ok: true;
      once: LedgerOnce;
      genesis: GenesisEntry;
      allowed: Set<string>;
      fedConfig: FederationConfig;
      entries: LedgerEntry[];
      terms: FederationTerms;
    }
  | { ok: false; code: string; message: string } {
  // A memo of other entries than these would answer for another ledger: used only for its own.
  const once = ledgerOnce(input.memo?.entries === input.entries ? input.memo : null);
  const trusted = trustedGenesis(input, input.verifiedPrefix ?? 0, once);
  if (!trusted.ok) return trusted;
  const { genesis } = trusted;
  const allowed = once('allowed', () => new Set(genesis.participants));
  if (!allowed.has(input.self)) return refuse('client/not-allowed', 'the genesis does not list me as a participant');
  if (input.maxDelta !== undefined && genesis.delta > input.maxDelta) {
    return refuse('client/delta-above-limit', `the federation's δ ${genesis.delta} is above my limit ${input.maxDelta}`);
  }
  const fedConfig = once('genesis-config', () => genesisFederationConfig(genesis));
  const entries = once('parsed', () => input.entries.map((e) => LedgerEntrySchema.parse(e)));
  const terms = once('terms', () => currentTerms(genesis, entries));
  return { ok: true, once, genesis, allowed, fedConfig, entries, terms };
}

/**
 * The checks that do not depend on a round: the ledger opens with a genesis naming the pinned
 * coordinator key, every receipt I hold is in it, and it verifies (from `verifiedPrefix` on, the
 * entries before were verified already). `once` shares ledger-only results between participants.
 */
function trustedGenesis(
  input: Pick<LedgerCheckInput, 'entries' | 'coordinatorKey' | 'receipts' | 'provider'>,
  verifiedPrefix: number,
  once: LedgerOnce,
): { ok: true; genesis: GenesisEntry } | { ok: false; code: string; message: string } {
  const provider = input.provider ?? defaultProvider;
  const genesis = once('genesis', () => ledgerGenesis(input.entries));
  if (genesis === null) return refuse('client/ledger-invalid', 'the coordinator\'s ledger does not open with a genesis entry');
  if (genesis.coordinatorPublicKey !== input.coordinatorKey) {
    return refuse('client/coordinator-key-changed', `the ledger's genesis names coordinator key ${genesis.coordinatorPublicKey}, not the pinned ${input.coordinatorKey}: another coordinator, or the federation was restarted`);
  }
  for (const d of checkReceipts(input.entries, input.receipts, input.coordinatorKey, provider)) {
    if (d.code === 'receipt/ledger-truncated') return refuse('client/ledger-behind-receipt', `the ledger is behind a receipt I hold: ${d.message}`);
    if (d.code === 'receipt/ledger-fork') return refuse('client/ledger-fork', `the ledger forks from a receipt I hold: ${d.message}`);
    return refuse('client/receipt-invalid', d.message);
  }
  const problems = once(`verify/${input.coordinatorKey}/${verifiedPrefix}`, () => verifyLedger(input.entries, input.coordinatorKey, null, { provider, verifiedPrefix }));
  if (problems.length > 0) {
    return refuse('client/ledger-invalid', `the ledger does not verify: ${problems.slice(0, 3).map((p) => `${p.code} ${p.message}`).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`);
  }
  return { ok: true, genesis };
}
