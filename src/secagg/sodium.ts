import { createRequire } from 'node:module';

/**
 * The part of sodium-native (libsodium's prebuilt addon) that fedveil uses. Every function writes
 * into a caller-provided buffer, so nothing is allocated per call.
 */
export interface Sodium {
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
  crypto_stream_chacha20_ietf_xor_ic(c: Uint8Array, m: Uint8Array, n: Uint8Array, ic: number, k: Uint8Array): void;
  sodium_memzero(b: Uint8Array): void;
}

function load(): Sodium | undefined {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium;
  } catch {
    return undefined;
  }
}

/**
 * libsodium, or undefined where its addon cannot load (a platform without a prebuilt binary).
 * Callers fall back to node:crypto, which gives the same results more slowly.
 */
export const sodium: Sodium | undefined = load();
