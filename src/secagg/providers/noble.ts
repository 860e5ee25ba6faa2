import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { randomBytes, type RandomSource } from '../util/random.js';
import { checkBytes, checkKey32, isAllZero, lowOrderError, type CryptoProvider, type KeyPair, type X25519Agreement } from '../keys.js';

/**
 * The portable provider on `@noble/curves` (runs unchanged in a browser). Ed25519 verification
 * uses `zip215: false`, i.e. strict RFC 8032 / OpenSSL semantics, so it agrees with
 * {@link nodeProvider} on which signatures are valid.
 */
export const nobleProvider: CryptoProvider = {
  name: 'noble',
  x25519Keygen(rng: RandomSource): KeyPair {
    const secretKey = randomBytes(rng, 32);
    return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
  },
  x25519PublicKey(secretKey: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'x25519/bad-key', 'X25519 secret key');
    return x25519.getPublicKey(secretKey);
  },
  x25519(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'x25519/bad-key', 'X25519 secret key');
    checkKey32(peerPublicKey, 'x25519/bad-key', 'X25519 peer public key');
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(secretKey, peerPublicKey);
    } catch {
      // noble refuses an all-zero output itself; report it under our stable code.
      throw lowOrderError();
    }
    if (isAllZero(shared)) throw lowOrderError();
    return shared;
  },
  x25519Agreement(secretKey: Uint8Array): X25519Agreement {
    checkKey32(secretKey, 'x25519/bad-key', 'X25519 secret key');
    return (peerPublicKey) => nobleProvider.x25519(secretKey, peerPublicKey);
  },
  ed25519Keygen(rng: RandomSource): KeyPair {
    const secretKey = randomBytes(rng, 32);
    return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
  },
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'ed25519/bad-key', 'Ed25519 secret key (seed)');
    return ed25519.getPublicKey(secretKey);
  },
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'ed25519/bad-key', 'Ed25519 secret key (seed)');
    checkBytes(message, 'ed25519/bad-message', 'Ed25519 message');
    return ed25519.sign(message, secretKey);
  },
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    if (!(message instanceof Uint8Array)) return false;
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};
