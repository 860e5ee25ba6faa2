import type { PhaseName } from './config.js';
import type { LedgerEntry } from './ledger-entry.js';

/** One version of the global model: flattened float32 weights, little-endian. */
export interface StoredModel {
  version: number;
  /** SHA-256 (hex) of `weights`. */
  hash: string;
  /** Float32 little-endian bytes of the flattened weights. */
  weights: Uint8Array;
  /**
   * The server optimiser's state right after producing this version (momentum / moment
   * estimates), serialised; committed with the model so a restart resumes it exactly. Null when
   * the optimiser is stateless or unknown.
   */
  optimizerState?: Uint8Array | null;
}

/**
 * The weights of `model` as Float32: a view of its bytes when they are 4-byte aligned (a copy
 * otherwise). Read it, never write it: a stored model is shared (the published version, and the
 * round that builds the next one from it), and at d = 10⁶ a copy is 4 MB at the round's memory peak.
 */
export function storedWeights(model: StoredModel): Float32Array {
  const w = model.weights;
  return w.byteOffset % 4 === 0 ? new Float32Array(w.buffer, w.byteOffset, w.byteLength / 4) : new Float32Array(w.slice().buffer);
}

/** How a round ended, or that it is still running. */
export type RoundStatus = 'running' | 'completed' | 'aborted';

/** Durable progress of one round. */
export interface RoundRecord {
  round: number;
  status: RoundStatus;
  startedAt: string;
  endedAt: string | null;
  /** Cohort members (participant public keys, hex) in draw order. */
  cohort: string[];
  /** The recorded cohort draw (method, sampling rate, seed commitment, population). */
  draw: Record<string, unknown>;
  /** The last phase the round entered. */
  phase: PhaseName | null;
  abortReason: string | null;
}

/**
 * Everything a coordinator must not lose in a crash: the global model by version, round progress,
 * the privacy ledger and used request nonces. Small on purpose so that a Postgres implementation
 * (for coordinators that scale out) can follow; every method is asynchronous for that reason.
 *
 * Ordering rule implementations MUST keep: {@link CoordinatorStore.completeRound} commits the
 * ledger entry, the round's completion and the new model version in ONE transaction, and the
 * coordinator serves the new model only after that promise resolves. A crash therefore either
 * loses the whole round (nothing released, no ε spent) or keeps all of it (ε recorded).
 */
export interface CoordinatorStore {
  /** A small string setting (federation id, draw seed, …), or undefined. */
  getMeta(key: string): Promise<string | undefined>;
  /** Sets `key` only when it has no value yet; returns the value now stored. */
  initMeta(key: string, value: string): Promise<string>;
  /** The newest model version, or null before the initial model is stored. */
  latestModel(): Promise<StoredModel | null>;
  /** A given model version, or null. */
  getModel(version: number): Promise<StoredModel | null>;
  /** Stores version 0 unless a model already exists; returns the latest model either way. */
  initModel(weights: Uint8Array): Promise<StoredModel>;
  /** The id the next round must use: one more than every round ever begun. */
  nextRoundId(): Promise<number>;
  /** Durably records a round as running before it accepts any submission. Round ids never repeat. */
  beginRound(record: Pick<RoundRecord, 'round' | 'startedAt' | 'cohort' | 'draw'>): Promise<void>;
  /** Records the phase a running round entered. */
  setRoundPhase(round: number, phase: PhaseName): Promise<void>;
  /** Marks a running round aborted (nothing released). No effect on a round that is not running. */
  abortRound(round: number, reason: string, endedAt: string): Promise<void>;
  /** Marks every running round aborted (used at startup after a crash); returns their ids. */
  abortRunningRounds(reason: string, endedAt: string): Promise<number[]>;
  /**
   * In one transaction: appends `entry` to the ledger (its seq and prevHash must extend the
   * stored chain), marks the round completed, and stores `model` as the next version (null for a
   * statistics round, which releases no model). Rejects with FedveilError 'store/…' and changes
   * nothing when the round is not running, the chain would break or the model version is not the next one.
   */
  completeRound(round: number, entry: LedgerEntry, model: StoredModel | null, endedAt: string): Promise<void>;
  /**
   * Appends the genesis entry (seq 0) to an empty ledger. Rejects with FedveilError
   * 'store/ledger-chain' when the ledger is not empty or the entry is not a genesis at seq 0.
   */
  appendGenesis(entry: LedgerEntry): Promise<void>;
  /**
   * Appends an `amendment` entry (it extends the stored chain) between rounds. Rejects with
   * FedveilError 'store/ledger-chain' when it is not an amendment or does not extend the chain.
   */
  appendAmendment(entry: LedgerEntry): Promise<void>;
  /**
   * In one transaction: appends the `aborted-after-unmask` entry of a running round (it extends
   * the stored chain) and marks the round aborted with `reason`. Same refusals as completeRound.
   */
  chargeAbortedRound(round: number, entry: LedgerEntry, reason: string, endedAt: string): Promise<void>;
  /** All ledger entries in chain order. */
  ledger(): Promise<LedgerEntry[]>;
  /** All rounds in id order. */
  rounds(): Promise<RoundRecord[]>;
  /** Records a request nonce of `sender`; false when it was used before (a replay). */
  useNonce(sender: string, nonce: string, round: number): Promise<boolean>;
  /** Forgets nonces of rounds before `round` (signatures bind the round, so they cannot be replayed). */
  pruneNonces(beforeRound: number): Promise<void>;
  close(): Promise<void>;
}
