import { createHash } from 'node:crypto';
import type { CryptoProvider, KeyPair } from '../../secagg/index.js';
import { randomBytes, type RandomSource } from '../../secagg/util/random.js';
import { bytesEqual } from '../../secagg/util/bytes.js';

/*
 * A hash-based stand-in for X25519 and Ed25519 with the same algebraic contract and none of the
 * security, for property tests that run a thousand rounds and exercise the protocol's logic (set
 * bookkeeping, thresholds, refusals, mask cancellation), not the curves:
 *   public(sk)        = SHA-256(tag ‖ sk)
 *   x25519(a, B)      = SHA-256("dh" ‖ min(A, B) ‖ max(A, B)) with A = public(a) — symmetric, as DH.
 *   sign(sk, m)       = SHA-256("sig1" ‖ pk ‖ m) ‖ SHA-256("sig2" ‖ pk ‖ m) with pk = public(sk).
 * Anyone who knows a public key can "sign" for it and compute a "shared secret": never use this
 * outside tests. KDF, PRG, Shamir and the share AEAD stay the real ones.
 */

function h(...parts: (string | Uint8Array)[]): Uint8Array {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return new Uint8Array(hash.digest());
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

function keypair(tag: string, rng: RandomSource): KeyPair {
  const secretKey = randomBytes(rng, 32);
  return { secretKey, publicKey: h(tag, secretKey) };
}

function signature(pk: Uint8Array, m: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  out.set(h('sig1', pk, m));
  out.set(h('sig2', pk, m), 32);
  return out;
}

/**
 * INSECURE, fast {@link CryptoProvider} for property tests of the protocol logic only (about 100×
 * cheaper than X25519/Ed25519). It keeps the contracts the protocol relies on — DH symmetry,
 * signatures that verify only for the signed bytes and key — without any hardness.
 */
export const structuralTestProvider: CryptoProvider = {
  // The provider interface names its two real implementations; this one reports itself as 'node'
  // only because it runs on node:crypto's SHA-256. Its exported name says what it is.
  name: 'node',
  x25519Keygen: (rng) => keypair('x25519', rng),
  x25519PublicKey: (sk) => h('x25519', sk),
  x25519(sk, peer) {
    const mine = h('x25519', sk);
    return compare(mine, peer) <= 0 ? h('dh', mine, peer) : h('dh', peer, mine);
  },
  x25519Agreement: (sk) => (peer) => structuralTestProvider.x25519(sk, peer),
  ed25519Keygen: (rng) => keypair('ed25519', rng),
  ed25519PublicKey: (sk) => h('ed25519', sk),
  ed25519Sign: (sk, m) => signature(h('ed25519', sk), m),
  ed25519Verify(pk, m, sig) {
    if (!(pk instanceof Uint8Array) || !(sig instanceof Uint8Array) || !(m instanceof Uint8Array)) return false;
    return sig.length === 64 && bytesEqual(signature(pk, m), sig);
  },
};
