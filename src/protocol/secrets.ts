import { hkdfSha256, KDF_SALT } from '../secagg/index.js';
import { utf8 } from '../secagg/util/bytes.js';
import { randomBytes, type RandomSource } from '../secagg/util/random.js';

/**
 * The two per-round secrets a client Shamir-shares: b_u (self-mask seed) and the seed of its
 * masking key s_u. Both are 32-byte little-endian strings whose last byte is zero, i.e. 248
 * random bits: always a canonical element of GF(2^255 − 19), so they share without reduction.
 */

/** Bytes of a shared secret (the Shamir secret length). */
export const SECRET_BYTES = 32;

/**
 * Bytes of a secret that carry its value: the last of the {@link SECRET_BYTES} is zero, so a
 * value rebuilt from shares that needs more is proof that some share was wrong.
 */
export const SECRET_VALUE_BYTES = SECRET_BYTES - 1;

/** A fresh 248-bit secret as 32 bytes (last byte 0). */
export function freshSecret(rng: RandomSource): Uint8Array {
  const out = new Uint8Array(SECRET_BYTES);
  out.set(randomBytes(rng, SECRET_VALUE_BYTES));
  return out;
}

const MASKING_SECRET_INFO = utf8('fedveil/v1/masking-secret');

/**
 * The X25519 secret key s_u derived from its shared seed: HKDF-SHA256(seed, KDF_SALT,
 * "fedveil/v1/masking-secret", 32). The server recomputes it from the reconstructed seed of a
 * dropped client and checks it against the advertised public key.
 */
export function maskingSecretFromSeed(seed: Uint8Array): Uint8Array {
  return hkdfSha256(seed, KDF_SALT, MASKING_SECRET_INFO, 32);
}
