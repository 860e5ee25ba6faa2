import type { CryptoProvider } from '../../secagg/index.js';
import type { RandomSource } from '../../secagg/util/random.js';
import type { RoundPlan } from '../config.js';
import type { ClientHeader } from '../messages.js';
import { PROTOCOL_VERSION, type Phase } from '../phases.js';

/** What every client phase module needs: the round, who I am, my secrets' sources. */
export interface ClientContext {
  readonly plan: RoundPlan;
  /** My index in the participant list. */
  readonly index: number;
  /** My long-term Ed25519 secret key (32-byte seed). */
  readonly identitySecretKey: Uint8Array;
  readonly provider: CryptoProvider;
  readonly rng: RandomSource;
  /** My model update, read when the masked-input phase begins. */
  readonly input: () => Float32Array;
  /** My extra coordinates (each in [0, 2^bits)). */
  readonly extra: Uint32Array;
  /** Called with my DP encoding before it is masked (for audits and tests; it never leaves the client). */
  readonly observeEncoding?: (encoding: Uint32Array) => void;
}

/** The header of my message in `phase`. */
export function clientHeader(ctx: ClientContext, phase: Phase): ClientHeader {
  return {
    version: PROTOCOL_VERSION,
    federationId: ctx.plan.config.federationId,
    round: ctx.plan.config.round,
    phase,
    sender: ctx.index,
  };
}

/** My fresh per-round keys: c (share encryption) and s (masking, derived from a shared seed). */
export interface RoundKeys {
  encryptionSecret: Uint8Array;
  encryptionKey: Uint8Array;
  /** Seed of s_u: Shamir-shared so the server can rebuild s_u if I drop after sharing. */
  maskingSeed: Uint8Array;
  maskingSecret: Uint8Array;
  maskingKey: Uint8Array;
}

/** A peer's advertised public keys, from its signed advertise-keys message. */
export interface PeerKeys {
  encryptionKey: Uint8Array;
  maskingKey: Uint8Array;
}

/** My state after share-keys. */
export interface SharedState {
  keys: RoundKeys;
  u1: number[];
  /** My neighbourhood in U1 (including me): who holds shares of my secrets. */
  holders: number[];
  /** Public keys of the holders (including mine). */
  peers: Map<number, PeerKeys>;
  /** Secretbox keys shared with each other holder (derived once, used to seal and to open). */
  shareKeys: Map<number, Uint8Array>;
  /** b_u, my self-mask seed. */
  selfSeed: Uint8Array;
  /** My own share of b_u and of my masking seed (y values at x = index + 1). */
  ownShares: { self: Uint8Array; mask: Uint8Array };
}

/** My state after masked-input. */
export interface MaskedState extends SharedState {
  u2: number[];
  /** Shares I hold, by owner (me included): y of b_v ("self") and of v's masking seed ("mask"). */
  held: Map<number, { self: Uint8Array; mask: Uint8Array }>;
}

/** My state after the consistency check (malicious mode). */
export interface CheckedState extends MaskedState {
  /** The U3 I signed. */
  signedU3: number[];
}
