import { FedveilError } from '../secagg/util/errors.js';
import type { DpConfig } from '../dp/index.js';
import type { GraphSpec } from './config.js';
import type { ClientMessage, ConsistencySignature, ServerMessage } from './messages.js';
import type { Phase, RoundMode } from './phases.js';

/**
 * What the state machines return. They never throw on a message: a message that cannot be used
 * comes back as a `rejected` result and leaves the machine exactly as it was.
 */

/** A message that was not used: the machine's state did not change. */
export interface Rejected {
  kind: 'rejected';
  /** Stable FedveilError code, e.g. `protocol/wrong-round`. */
  code: string;
  message: string;
}

/** A message the server addresses to one participant. */
export interface Outgoing {
  to: number;
  message: ServerMessage;
}

/** The server accepted a message (or a deadline): messages to deliver, and the outcome once the round ended. */
export interface ServerAccepted {
  kind: 'accepted';
  outbox: Outgoing[];
  outcome?: RoundOutcome;
}

/** Result of {@link ServerRound.receive} and {@link ServerRound.deadline}. */
export type ServerStep = ServerAccepted | Rejected;

/** The client answers with `message`. */
export interface ClientSend {
  kind: 'send';
  message: ClientMessage;
}

/**
 * The client refuses to go on: the server sent a well-formed message for the current phase that
 * breaks a protocol rule (bad signature, inconsistent lists, a request for both shares of a peer…).
 * The client has aborted the round and reveals nothing more.
 */
export interface ClientRefused {
  kind: 'refused';
  code: string;
  message: string;
}

/** The server announced that the round aborted; the client stopped. */
export interface ClientAborted {
  kind: 'aborted';
  code: string;
  reason: string;
}

/** Result of {@link ClientRound.start} and {@link ClientRound.receive}. */
export type ClientStep = ClientSend | ClientRefused | ClientAborted | Rejected;

/** Public parameters of the round, recorded in the outcome for the ledger. */
export interface RoundParameters {
  federationId: string;
  round: number;
  n: number;
  threshold: number;
  minSurvivors: number;
  /** Neighbourhood size k including self (n for the complete graph). */
  neighbourhoodSize: number;
  graph: GraphSpec;
  mode: RoundMode;
  dim: number;
  extraCoordinates: number;
  vectorLength: number;
  bits: number;
  dp: DpConfig;
}

/** Who stopped at each phase: members of the previous set that did not submit in this one. */
export type DropoutsByPhase = Record<Phase, number[]>;

/**
 * A revealed share that robust reconstruction found off its secret's polynomial and excluded
 * (spec/secagg.md §5.1): its holder sent a well-formed, signed, wrong share.
 */
export interface WrongShare {
  /** Who revealed the share. */
  holder: number;
  /** Whose secret it is a share of. */
  owner: number;
  /** Which of the owner's secrets: b_owner (`self-mask`) or its masking-key seed (`mask-key`). */
  secret: 'self-mask' | 'mask-key';
}

/** The round produced an aggregate. */
export interface CompletedOutcome {
  status: 'completed';
  /** The DP-decoded mean update (dp.decodeSum over the |U3| contributors), length `dim`. */
  aggregate: Float32Array;
  /** The unmasked modular sum of the contributors' encodings (length encodedLength). */
  sum: Uint32Array;
  /** Sums mod 2^bits of the extra coordinates (length extraCoordinates). */
  extraSums: Uint32Array;
  /** Advertised keys. */
  u1: number[];
  /** Sent encrypted shares. */
  u2: number[];
  /** Sent a masked input: the contributors. */
  u3: number[];
  /** Sent unmasking shares (U4 ⊆ U3; in malicious mode also ⊆ the consistency signers). */
  u4: number[];
  dropouts: DropoutsByPhase;
  /** Malicious mode: each signer's signature over U3 (sorted by signer). Empty in semi-honest mode. */
  consistencySignatures: ConsistencySignature[];
  /** Revealed shares excluded as wrong (sorted by holder, then owner); the sum does not depend on them. */
  wrongShares: WrongShare[];
  parameters: RoundParameters;
}

/** The round ended without an aggregate; nothing that was masked was revealed. */
export interface AbortedOutcome {
  status: 'aborted';
  /** The phase that could not complete. */
  phase: Phase;
  /** Stable code, e.g. `protocol/quorum-not-met`. */
  code: string;
  reason: string;
  /**
   * Unmask aborts caused by revealed shares (`protocol/inconsistent-shares`,
   * `protocol/reconstruction-mismatch`): the holders of the secret that could not be rebuilt, any
   * of whom may have sent a wrong share. Absent for other aborts.
   */
  suspects?: number[];
}

/** Final outcome of a round, for the ledger. */
export type RoundOutcome = CompletedOutcome | AbortedOutcome;

/** Converts an error thrown by a handler into a (code, message) pair; foreign errors get `protocol/internal-error`. */
export function describeError(e: unknown): { code: string; message: string } {
  if (e instanceof FedveilError) return { code: e.code, message: e.message };
  return { code: 'protocol/internal-error', message: e instanceof Error ? e.message : String(e) };
}

/** A {@link Rejected} result from an error. */
export function rejection(e: unknown): Rejected {
  return { kind: 'rejected', ...describeError(e) };
}
