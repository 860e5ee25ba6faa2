import { sodium, type Sodium } from '../sodium.js';
import { randomBytes, type RandomSource } from '../util/random.js';
import { checkBytes, checkKey32, isAllZero, lowOrderError, type CryptoProvider, type KeyPair, type X25519Agreement } from '../keys.js';

/*
 * libsodium through sodium-native's prebuilt binaries. Measured here: Ed25519 verify 63 µs vs
 * OpenSSL's 150 µs through node:crypto, X25519 39 µs vs about 56, sign 23 µs vs about 80; a
 * malicious-mode round verifies every neighbour's signed keys, so verification dominates the
 * share-keys phase. Where the addon cannot load (a platform without a prebuild),
 * {@link sodiumProvider} is undefined and the node:crypto provider is used instead.
 */

function x25519Public(s: Sodium, secretKey: Uint8Array): Uint8Array {
  const pk = new Uint8Array(32);
  s.crypto_scalarmult_base(pk, secretKey);
  return pk;
}

function ed25519Expanded<T>(s: Sodium, seed: Uint8Array, use: (pk: Uint8Array, sk: Uint8Array) => T): T {
  const pk = new Uint8Array(32);
  const sk = new Uint8Array(64);
  try {
    s.crypto_sign_seed_keypair(pk, sk, seed);
    return use(pk, sk);
  } finally {
    s.sodium_memzero(sk);
  }
}

function createSodiumProvider(s: Sodium): CryptoProvider {
  const provider: CryptoProvider = {
    name: 'sodium',
    x25519Keygen(rng: RandomSource): KeyPair {
      const secretKey = randomBytes(rng, 32);
      return { secretKey, publicKey: x25519Public(s, secretKey) };
    },
    x25519PublicKey(secretKey: Uint8Array): Uint8Array {
      checkKey32(secretKey, 'x25519/bad-key', 'X25519 secret key');
      return x25519Public(s, secretKey);
    },
    x25519(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
      return provider.x25519Agreement(secretKey)(peerPublicKey);
    },
    x25519Agreement(secretKey: Uint8Array): X25519Agreement {
      checkKey32(secretKey, 'x25519/bad-key', 'X25519 secret key');
      return (peerPublicKey) => {
        checkKey32(peerPublicKey, 'x25519/bad-key', 'X25519 peer public key');
        const shared = new Uint8Array(32);
        try {
          // libsodium refuses known low-order points and an all-zero result (RFC 7748 section 6.1).
          s.crypto_scalarmult(shared, secretKey, peerPublicKey);
        } catch {
          throw lowOrderError();
        }
        if (isAllZero(shared)) throw lowOrderError();
        return shared;
      };
    },
    ed25519Keygen(rng: RandomSource): KeyPair {
      const secretKey = randomBytes(rng, 32);
      return { secretKey, publicKey: ed25519Expanded(s, secretKey, (pk) => pk) };
    },
    ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
      checkKey32(secretKey, 'ed25519/bad-key', 'Ed25519 secret key (seed)');
      return ed25519Expanded(s, secretKey, (pk) => pk);
    },
    ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
      checkKey32(secretKey, 'ed25519/bad-key', 'Ed25519 secret key (seed)');
      checkBytes(message, 'ed25519/bad-message', 'Ed25519 message');
      return ed25519Expanded(s, secretKey, (_pk, sk) => {
        const sig = new Uint8Array(64);
        s.crypto_sign_detached(sig, message, sk);
        return sig;
      });
    },
    ed25519Verify(pk: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
      if (!(pk instanceof Uint8Array) || pk.length !== 32) return false;
      if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
      if (!(message instanceof Uint8Array)) return false;
      try {
        return s.crypto_sign_verify_detached(signature, message, pk);
      } catch {
        return false;
      }
    },
  };
  return provider;
}

/**
 * The provider on libsodium (sodium-native), or undefined where its addon cannot load. Same
 * interface and byte-identical results as {@link nobleProvider} and {@link nodeProvider}. Like
 * noble, and unlike OpenSSL, its Ed25519 verification rejects small-order public keys, for which a
 * crafted signature verifies for every message (no honestly generated key has small order).
 */
export const sodiumProvider: CryptoProvider | undefined = sodium ? createSodiumProvider(sodium) : undefined;
