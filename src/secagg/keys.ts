import type { RandomSource } from './util/random.js';
import { check, FedveilError } from './util/errors.js';

/** X25519 agreements under one bound secret key: peer public key → raw shared secret. */
export type X25519Agreement = (peerPublicKey: Uint8Array) => Uint8Array;

/** A raw 32-byte secret key and its raw 32-byte public key (X25519 or Ed25519). */
export interface KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/**
 * The asymmetric primitives secure aggregation needs, behind one interface so that the portable
 * implementation ({@link nobleProvider}), the one on node:crypto ({@link nodeProvider}) and the
 * fastest, on libsodium ({@link sodiumProvider}), are interchangeable. They produce byte-identical
 * outputs for identical inputs (tests prove it). All keys are raw 32-byte strings as in RFC 7748 /
 * RFC 8032.
 */
export interface CryptoProvider {
  /** Which implementation this is. */
  readonly name: 'noble' | 'node' | 'sodium';
  /** A fresh X25519 key pair whose 32-byte secret is drawn from `rng`. */
  x25519Keygen(rng: RandomSource): KeyPair;
  /** The X25519 public key (u-coordinate, 32 bytes) of a 32-byte secret (clamped per RFC 7748). */
  x25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /** Raw X25519 shared secret; throws FedveilError `x25519/low-order` on an all-zero result. */
  x25519(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array;
  /**
   * `secretKey` bound for agreements with many peers: `agree(peer)` returns exactly
   * `x25519(secretKey, peer)`. A participant agrees with every neighbour under one secret; binding
   * lets the node provider import that secret once instead of per peer (an X25519 secret-key
   * import recomputes the public key, as costly as the agreement). Drop the function when done.
   */
  x25519Agreement(secretKey: Uint8Array): X25519Agreement;
  /** A fresh Ed25519 key pair; `secretKey` is the 32-byte RFC 8032 seed drawn from `rng`. */
  ed25519Keygen(rng: RandomSource): KeyPair;
  /** The Ed25519 public key of a 32-byte seed. */
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /** A deterministic RFC 8032 Ed25519 signature (64 bytes). */
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /**
   * RFC 8032 verification with canonical encodings required (no ZIP-215 leniency). Returns false,
   * never throws, for a malformed signature or key.
   */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** Throws `<prefix>/bad-key` unless `key` is a 32-byte Uint8Array. */
export function checkKey32(key: unknown, code: string, what: string): asserts key is Uint8Array {
  check(
    key instanceof Uint8Array && key.length === 32,
    code,
    () => `${what} must be a 32-byte Uint8Array, got ${key instanceof Uint8Array ? `${key.length} bytes` : typeof key}`,
  );
}

/** Throws `<code>` unless `m` is a Uint8Array. */
export function checkBytes(m: unknown, code: string, what: string): asserts m is Uint8Array {
  check(m instanceof Uint8Array, code, () => `${what} must be a Uint8Array, got ${typeof m}`);
}

/** The error every provider throws when an X25519 agreement yields the all-zero secret. */
export function lowOrderError(): FedveilError {
  return new FedveilError('x25519/low-order', 'X25519 peer public key is a low-order point (shared secret is zero)');
}

/** Any fixed secret serves {@link lowOrderCheck}; this one has no meaning. */
const LOW_ORDER_PROBE = new Uint8Array(32).fill(1);

/**
 * A check, for a party that holds no secret of its own to agree with (the server at
 * advertise-keys), that an X25519 public key is not a low-order point: it agrees a fixed probe
 * secret with the key and lets the provider refuse an all-zero result with {@link lowOrderError}.
 * That result is all zero exactly for low-order keys: a clamped secret is a multiple of the
 * cofactor 8 and smaller than 8 times the prime order of the curve's and of the twist's large
 * subgroup, so it sends a point to the identity only when the point's order divides 8.
 * Bound once (one secret-key import on the node provider), applied to many keys.
 */
export function lowOrderCheck(provider: CryptoProvider): (publicKey: Uint8Array) => void {
  const agree = provider.x25519Agreement(LOW_ORDER_PROBE);
  return (publicKey) => {
    agree(publicKey);
  };
}

/** True when all 32 bytes are zero, in time independent of the content. */
export function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i] as number;
  return acc === 0;
}
