import type { Phase } from './phases.js';

/**
 * In-memory forms of every protocol message. Byte fields are Uint8Array; their JSON forms (hex)
 * and zod schemas are in wire/schemas.ts. spec/protocol.md is the normative description.
 */

/** Header of a message a participant sends; it is what the signature binds (with the payload hash). */
export interface ClientHeader {
  /** Protocol version ({@link PROTOCOL_VERSION}). */
  version: number;
  federationId: string;
  round: number;
  /** The phase this message belongs to. */
  phase: Phase;
  /** Sender's index in the round's participant list. */
  sender: number;
}

/** Header of a message the server sends. Server messages are not signed: what they carry is. */
export interface ServerHeader {
  version: number;
  federationId: string;
  round: number;
  /** The phase the recipient is asked to perform (or, in `round-aborted`, the phase that failed). */
  phase: Phase;
}

/** An encrypted share pair: the Shamir shares of b_u and of the masking-key seed of u, sealed for one peer. */
export interface EncryptedShare {
  /** In `share-keys`: the recipient. In `share-bundle`: the sender. */
  peer: number;
  /** sealShare(shareKey(c_u, c_v), binding (federation, round, sender, recipient), y_b ‖ y_s). */
  ciphertext: Uint8Array;
}

/** Phase 0, client → server: fresh X25519 public keys c (share encryption) and s (masking). */
export interface AdvertiseKeysMessage {
  type: 'advertise-keys';
  header: ClientHeader;
  encryptionKey: Uint8Array;
  maskingKey: Uint8Array;
  signature: Uint8Array;
}

/** Phase 1, client → server: one sealed share pair per neighbour in U1. */
export interface ShareKeysMessage {
  type: 'share-keys';
  header: ClientHeader;
  shares: EncryptedShare[];
  signature: Uint8Array;
}

/**
 * Phase 2, client → server: the masked vector y_u. The signed JSON envelope carries its length,
 * bit width and SHA-256; `vector` (the bit-packed little-endian body) travels separately.
 */
export interface MaskedInputMessage {
  type: 'masked-input';
  header: ClientHeader;
  length: number;
  bits: number;
  vectorSha256: Uint8Array;
  signature: Uint8Array;
  /** packBits(y_u, bits): not part of the JSON envelope, bound by `vectorSha256`. */
  vector: Uint8Array;
}

/** Phase 3 (malicious mode), client → server: the client's signature over U3. */
export interface ConsistencyCheckMessage {
  type: 'consistency-check';
  header: ClientHeader;
  u3: number[];
  signature: Uint8Array;
}

/** One revealed Shamir share: the share the sender holds of `peer`'s secret. */
export interface RevealedShare {
  peer: number;
  /** 32-byte little-endian field element (the y of the sender's share; x = sender + 1). */
  share: Uint8Array;
}

/** Phase 4, client → server: b-shares of survivors (U3) and s-shares of the dropped (U2 ∖ U3). */
export interface UnmaskMessage {
  type: 'unmask';
  header: ClientHeader;
  selfMaskShares: RevealedShare[];
  maskKeyShares: RevealedShare[];
  signature: Uint8Array;
}

/** Server → client after phase 0: U1 and the signed advertisements of the recipient's neighbourhood. */
export interface KeyListMessage {
  type: 'key-list';
  header: ServerHeader;
  u1: number[];
  advertisements: AdvertiseKeysMessage[];
}

/** Server → client after phase 1: U2 and the share pairs addressed to the recipient. */
export interface ShareBundleMessage {
  type: 'share-bundle';
  header: ServerHeader;
  u2: number[];
  shares: EncryptedShare[];
}

/** Server → client after phase 2 in malicious mode: U3, to be signed. */
export interface ConsistencyRequestMessage {
  type: 'consistency-request';
  header: ServerHeader;
  u3: number[];
}

/** A participant's signature over U3 (its consistency-check message's signature). */
export interface ConsistencySignature {
  signer: number;
  signature: Uint8Array;
}

/**
 * Server → client, last phase: reveal b-shares for `u3`, s-shares for `dropped`. In malicious mode
 * `signatures` carries the consistency signatures over exactly this `u3`.
 */
export interface UnmaskRequestMessage {
  type: 'unmask-request';
  header: ServerHeader;
  u3: number[];
  dropped: number[];
  signatures: ConsistencySignature[];
}

/** Server → client: the round ended without an aggregate. */
export interface RoundAbortedMessage {
  type: 'round-aborted';
  header: ServerHeader;
  code: string;
  reason: string;
}

/** Any message a participant sends. */
export type ClientMessage =
  | AdvertiseKeysMessage
  | ShareKeysMessage
  | MaskedInputMessage
  | ConsistencyCheckMessage
  | UnmaskMessage;

/** Any message the server sends. */
export type ServerMessage =
  | KeyListMessage
  | ShareBundleMessage
  | ConsistencyRequestMessage
  | UnmaskRequestMessage
  | RoundAbortedMessage;

/** The phase each client message type belongs to. */
export const CLIENT_MESSAGE_PHASE: Readonly<Record<ClientMessage['type'], Phase>> = {
  'advertise-keys': 'advertise-keys',
  'share-keys': 'share-keys',
  'masked-input': 'masked-input',
  'consistency-check': 'consistency-check',
  unmask: 'unmask',
};

/** The phase each server request asks the recipient to perform. */
export const SERVER_MESSAGE_PHASE: Readonly<Record<Exclude<ServerMessage['type'], 'round-aborted'>, Phase>> = {
  'key-list': 'share-keys',
  'share-bundle': 'masked-input',
  'consistency-request': 'consistency-check',
  'unmask-request': 'unmask',
};
