import { calibrateConfigNoise, checkModulusHeadroom, parseDpConfig, type DpConfig, type DpEvent } from '../dp/index.js';
import { epsilonWithRounds, spentEpsilon } from './budget-guard.js';
import { FedveilError } from '../secagg/index.js';
import { canonicalJson } from './canonical-json.js';
import { chargedEntries, entryEvent, type AmendmentBody, type GenesisEntry, type LedgerEntry, type LedgerRecord } from './ledger-entry.js';
import { configHash } from './ledger-genesis.js';

/** What a federation has agreed to at a point of its ledger: the genesis's terms, as the latest amendment changed them. */
export interface FederationTerms {
  rounds: number;
  /** The ε target (null: the federation has none). */
  epsilonBudget: number | null;
  /** The DP configuration rounds encode with. */
  mechanism: DpConfig;
  /** Hash of the privacy config with these terms. */
  configHash: string;
}

/** The two terms an amendment may change. */
export type AmendableTerms = Pick<FederationTerms, 'rounds' | 'epsilonBudget'>;

/** The terms in force after `entries` (a ledger, or a prefix of one, that opens with `genesis`). */
export function currentTerms(genesis: GenesisEntry, entries: readonly LedgerEntry[]): FederationTerms {
  const rounds = genesis.config['rounds'];
  let terms: FederationTerms = {
    rounds: typeof rounds === 'number' ? rounds : 0,
    epsilonBudget: genesis.epsilonBudget,
    mechanism: genesis.mechanism,
    configHash: genesis.configHash,
  };
  for (const e of entries) {
    if (e.kind === 'amendment') terms = { rounds: e.amended.rounds, epsilonBudget: e.amended.epsilonBudget, mechanism: e.mechanism, configHash: e.configHash };
  }
  return terms;
}

/** A privacy config (genesis form) with `terms` in place of its rounds and ε target. */
export function withTerms(privacy: Record<string, unknown>, terms: AmendableTerms): Record<string, unknown> {
  const out = structuredClone(privacy);
  out['rounds'] = terms.rounds;
  const dp = out['dp'];
  if (terms.epsilonBudget !== null && typeof dp === 'object' && dp !== null) (dp as Record<string, unknown>)['targetEpsilon'] = terms.epsilonBudget;
  return out;
}

/** The facts an amendment records about the ledger before it, recomputed from that ledger and the amended terms. */
export interface AmendmentFacts {
  releasedRounds: number;
  previous: AmendableTerms;
  /** ε of a participant in every charged round so far (Infinity when unbounded). */
  spent: number;
  /** The composed event of every charged round so far (null: none yet). */
  spentEvent: DpEvent | null;
  configHash: string;
}

/** What the ledger before an amendment says it must record (see {@link AmendmentFacts}). */
export function amendmentFacts(genesis: GenesisEntry, before: readonly LedgerEntry[], amended: AmendableTerms, accountant: 'rdp' | 'pld'): AmendmentFacts {
  const terms = currentTerms(genesis, before);
  const charged = chargedEntries(before);
  const events = charged.map((e) => entryEvent(e, genesis.colluders));
  const spentEvent: DpEvent | null = events.length === 0 ? null : { kind: 'composed', events };
  return {
    releasedRounds: before.filter((e) => e.kind === 'round').length,
    previous: { rounds: terms.rounds, epsilonBudget: terms.epsilonBudget },
    spent: spentEpsilon(events, genesis.delta, accountant),
    spentEvent,
    configHash: configHash(withTerms(genesis.config, amended)),
  };
}

/**
 * The mechanism of the rounds after an amendment: unchanged without an ε target; with one, the
 * noise multiplier that makes the rounds already charged (`facts.spentEvent`) and the remaining
 * `amended.rounds − releasedRounds` rounds, each with the fewest contributors the mechanism
 * releases with and the genesis's c colluders, spend at most the target together. Throws
 * FedveilError 'coordinator/amendment-invalid' when no round is left to run,
 * 'coordinator/amendment-below-spent' when the target is not above what was spent, and
 * 'dp/modulus-overflow' when the larger noise could wrap the modulus.
 */
export function amendedMechanism(genesis: GenesisEntry, previous: DpConfig, facts: AmendmentFacts, amended: AmendableTerms, o: { accountant: 'rdp' | 'pld'; dim: number; maxCohort: number }): DpConfig {
  const remaining = amended.rounds - facts.releasedRounds;
  if (remaining < 1) {
    throw new FedveilError('coordinator/amendment-invalid', `rounds ${amended.rounds} leaves no round to run: ${facts.releasedRounds} rounds were released already`);
  }
  if (amended.epsilonBudget === null || previous.mechanism === 'none') return previous;
  if (!(facts.spent < amended.epsilonBudget)) {
    throw new FedveilError(
      'coordinator/amendment-below-spent',
      `the ε target ${amended.epsilonBudget} is not above the ε ${facts.spent} already spent (at δ ${genesis.delta}, ${facts.releasedRounds} rounds released): a target cannot be lowered below what was spent`,
    );
  }
  const z = calibrateConfigNoise({
    config: { ...previous, noiseMultiplier: 1 },
    epsilon: amended.epsilonBudget,
    delta: genesis.delta,
    rounds: remaining,
    contributors: previous.minContributors,
    colluders: genesis.colluders,
    dim: o.dim,
    accountant: o.accountant,
    ...(facts.spentEvent === null ? {} : { spent: facts.spentEvent }),
  });
  const mechanism = parseDpConfig({ ...previous, noiseMultiplier: z });
  checkModulusHeadroom(mechanism, o.dim, o.maxCohort);
  return mechanism;
}

/**
 * ε of a participant in every round so far and in each of the remaining rounds of `amended`
 * were they run with `mechanism` on its fewest contributors: what the federation would spend.
 */
export function plannedEpsilon(genesis: GenesisEntry, facts: AmendmentFacts, amended: AmendableTerms, mechanism: DpConfig, o: { accountant: 'rdp' | 'pld'; dim: number }): number {
  const remaining = Math.max(0, amended.rounds - facts.releasedRounds);
  return epsilonWithRounds(facts.spentEvent, mechanism, remaining, { colluders: genesis.colluders, dim: o.dim, delta: genesis.delta, accountant: o.accountant });
}

/** The amendment record (before it is chained and signed) that moves a federation to `amended` from round `fromRound` on. */
export function amendmentRecord(o: {
  genesis: GenesisEntry;
  facts: AmendmentFacts;
  amended: AmendableTerms;
  mechanism: DpConfig;
  fromRound: number;
  timestamp: string;
  reason: string | null;
}): LedgerRecord {
  const body: Omit<AmendmentBody, 'seq' | 'prevHash' | 'version'> = {
    kind: 'amendment',
    federationId: o.genesis.federationId,
    protocolVersion: o.genesis.protocolVersion,
    timestamp: o.timestamp,
    fromRound: o.fromRound,
    releasedRounds: o.facts.releasedRounds,
    previous: o.facts.previous,
    amended: o.amended,
    epsilonSpent: Number.isFinite(o.facts.spent) ? o.facts.spent : null,
    mechanism: o.mechanism,
    configHash: o.facts.configHash,
    reason: o.reason,
  };
  return body;
}

/** `a → b` for a term, or `a (unchanged)`. */
export function describeChange(name: string, from: number | null, to: number | null): string {
  const show = (v: number | null) => (v === null ? 'none' : String(v));
  return from === to ? `${name} ${show(from)} (unchanged)` : `${name} ${show(from)} → ${show(to)}`;
}

/** True when two DP configurations are the same. */
export function sameMechanism(a: DpConfig, b: DpConfig): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
