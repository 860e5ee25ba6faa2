import { FedveilError, toHex, type CryptoProvider, type KeyPair } from '../secagg/index.js';
import type { FederationConfig } from './config.js';
import { chainLedgerEntry, type GenesisEntry, type LedgerEntry } from './ledger-entry.js';
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
}

/**
 * The coordinator's ledger at start: an empty ledger is opened with a signed genesis binding the
 * federation (spec/ledger.md §2.1); an existing one must open with the genesis of this very
 * federation — same privacy config, coordinator key and draw-seed commitment — or the coordinator
 * refuses to run on it (FedveilError 'coordinator/store-mismatch'): the terms participants signed
 * up for cannot change under them.
 */
export async function openLedger(o: OpenLedgerOptions): Promise<{ entries: LedgerEntry[]; genesis: GenesisEntry }> {
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
  if (genesis.configHash !== configHash(privacyConfig(o.config))) problems.push('the privacy-relevant config differs from the one the genesis binds');
  if (genesis.coordinatorPublicKey !== toHex(o.identity.publicKey)) problems.push('the genesis names another coordinator key');
  if (genesis.cohort.seedCommitment !== drawSeedCommitment(o.drawSeed)) problems.push('the cohort draw seed is not the one the genesis commits to');
  if (problems.length > 0) throw new FedveilError('coordinator/store-mismatch', `the stored ledger's genesis does not match this federation: ${problems.join('; ')}`);
  return { entries, genesis };
}
