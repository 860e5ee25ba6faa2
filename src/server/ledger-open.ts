import { FedveilError, toHex, type CryptoProvider, type KeyPair } from '../secagg/index.js';
import { canonicalJson } from './canonical-json.js';
import type { FederationConfig } from './config.js';
import { roundDim } from './federated-evaluation.js';
import { maxCohortSize } from './federation-plan.js';
import { amendedMechanism, amendmentFacts, amendmentRecord, currentTerms, describeChange, plannedEpsilon, withTerms, type FederationTerms } from './ledger-amendment.js';
import { chainLedgerEntry, type AmendmentEntry, type GenesisEntry, type LedgerEntry } from './ledger-entry.js';
import { configHash, drawSeedCommitment, genesisRecord, privacyConfig } from './ledger-genesis.js';
import type { CoordinatorStore, StoredModel } from './store.js';

/** Options of {@link openLedger}. */
export interface OpenLedgerOptions {
  store: CoordinatorStore;
  config: FederationConfig;
  identity: KeyPair;
  provider: CryptoProvider;
  drawSeed: Uint8Array;
  /** The published model (the genesis records it when it opens the ledger). */
  model: StoredModel;
  timestamp: string;
  /**
   * The operator's explicit consent to amend the federation's rounds and/or ε target when the
   * config changes them (`fedveil serve --amend`), with an optional reason recorded with it.
   */
  amend?: { reason?: string } | null;
}

/**
 * The coordinator's ledger at start: an empty ledger is opened with a signed genesis binding the
 * federation (spec/ledger.md §2.1); an existing one must open with the genesis of this very
 * federation — same privacy config, coordinator key and draw-seed commitment — or the coordinator
 * refuses to run on it (FedveilError 'coordinator/store-mismatch'): the terms participants signed
 * up for cannot change under them. The one exception: a config that changes only `rounds` and/or
 * `dp.targetEpsilon` is an amendment (spec/ledger.md §2.4). Without `amend` it is refused
 * ('coordinator/amendment-required', stating what the federation would spend against its target);
 * with it, the remaining rounds are recalibrated to stay within the target and a signed
 * `amendment` entry records the change ('coordinator/amendment-below-spent' when the target is
 * not above what was spent, 'coordinator/amendment-invalid' when no round would be left).
 */
export async function openLedger(o: OpenLedgerOptions): Promise<{ entries: LedgerEntry[]; genesis: GenesisEntry; terms: FederationTerms; amendment: AmendmentEntry | null }> {
  let entries = await o.store.ledger();
  if (entries.length === 0) {
    const genesis = chainLedgerEntry(
      null,
      genesisRecord(o.config, {
        coordinatorPublicKey: toHex(o.identity.publicKey),
        drawSeedCommitment: drawSeedCommitment(o.drawSeed),
        timestamp: o.timestamp,
        model: { version: o.model.version, hash: o.model.hash },
      }),
      o.provider,
      o.identity.secretKey,
    );
    await o.store.appendGenesis(genesis);
    entries = [genesis];
  }
  const genesis = entries[0] as LedgerEntry;
  if (genesis.kind !== 'genesis') throw new FedveilError('coordinator/store-mismatch', 'the stored ledger does not open with a genesis entry');
  const problems: string[] = [];
  if (genesis.coordinatorPublicKey !== toHex(o.identity.publicKey)) problems.push('the genesis names another coordinator key');
  if (genesis.cohort.seedCommitment !== drawSeedCommitment(o.drawSeed)) problems.push('the cohort draw seed is not the one the genesis commits to');
  if (problems.length > 0) throw new FedveilError('coordinator/store-mismatch', `the stored ledger's genesis does not match this federation: ${problems.join('; ')}`);
  let terms = currentTerms(genesis, entries);
  let amendment: AmendmentEntry | null = null;
  const privacy = privacyConfig(o.config);
  if (configHash(privacy) !== terms.configHash) {
    const bound = withTerms(genesis.config, terms);
    if (configHash(withTerms(privacy, terms)) !== terms.configHash) {
      throw new FedveilError(
        'coordinator/store-mismatch',
        `the privacy-relevant config differs from the one the ledger binds (${changedFields(bound, privacy).join(', ')}): only rounds and dp.targetEpsilon may change on a running federation, with --amend`,
      );
    }
    amendment = await amend(o, genesis, entries, terms);
    entries = [...entries, amendment];
    terms = currentTerms(genesis, entries);
  }
  return { entries, genesis, terms, amendment };
}

/** Plans the amendment the config asks for, refuses it without consent, or appends it. */
async function amend(o: OpenLedgerOptions, genesis: GenesisEntry, entries: LedgerEntry[], terms: FederationTerms): Promise<AmendmentEntry> {
  const amended = { rounds: o.config.rounds, epsilonBudget: o.config.dp.targetEpsilon ?? null };
  const accountant = o.config.dp.accountant ?? 'rdp';
  const facts = amendmentFacts(genesis, entries, amended, accountant);
  // The dimension the mechanism is calibrated for is the round's (model + evaluation coordinates), as at genesis.
  const plan = { accountant, dim: roundDim(o.config) };
  const mechanism = amendedMechanism(genesis, terms.mechanism, facts, amended, { ...plan, maxCohort: maxCohortSize(o.config) });
  const change = `${describeChange('rounds', terms.rounds, amended.rounds)}, ${describeChange('ε target', terms.epsilonBudget, amended.epsilonBudget)}`;
  if (o.amend === undefined || o.amend === null) {
    const naive = plannedEpsilon(genesis, facts, amended, terms.mechanism, plan);
    const target = amended.epsilonBudget === null ? 'no ε target' : `the target ${amended.epsilonBudget}`;
    const fix =
      terms.mechanism.mechanism === 'none' || amended.epsilonBudget === null
        ? 'the noise stays as it is'
        : `the remaining rounds' noise multiplier is recalibrated from ${terms.mechanism.noiseMultiplier} to ${mechanism.noiseMultiplier} so the total stays within ${amended.epsilonBudget}`;
    throw new FedveilError(
      'coordinator/amendment-required',
      `this config amends the running federation: ${change}. The ${facts.releasedRounds} rounds released so far spent ε ${facts.spent} at δ ${genesis.delta}; ` +
        `running the remaining ${amended.rounds - facts.releasedRounds} rounds with the current noise would spend ε ${naive} in total, against ${target}. ` +
        `Start again with --amend to record the change in the ledger as a signed amendment (${fix}), or restore the previous config`,
    );
  }
  const last = entries.at(-1) as LedgerEntry;
  const entry = chainLedgerEntry(
    last,
    amendmentRecord({ genesis, facts, amended, mechanism, fromRound: await o.store.nextRoundId(), timestamp: o.timestamp, reason: o.amend.reason ?? null }),
    o.provider,
    o.identity.secretKey,
  );
  await o.store.appendAmendment(entry);
  return entry as AmendmentEntry;
}

/** The fields (dp.* one level down) in which two privacy configs differ. */
function changedFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const x = a[k];
    const y = b[k];
    if (canonicalJson(x) === canonicalJson(y)) continue;
    if (k === 'dp' && typeof x === 'object' && x !== null && typeof y === 'object' && y !== null) out.push(...changedFields(x as Record<string, unknown>, y as Record<string, unknown>).map((f) => `dp.${f}`));
    else out.push(k);
  }
  return out;
}
