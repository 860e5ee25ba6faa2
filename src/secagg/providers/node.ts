import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { FedveilError } from '../util/errors.js';
import { randomBytes, type RandomSource } from '../util/random.js';
import { checkBytes, checkKey32, isAllZero, type CryptoProvider, type KeyPair } from '../keys.js';

/*
 * node:crypto takes keys as KeyObjects, so raw 32-byte keys are wrapped in fixed DER headers
 * (RFC 8410): a PKCS#8 OneAsymmetricKey for secrets and a SubjectPublicKeyInfo for public keys.
 * The algorithm OIDs are 1.3.101.110 (X25519, `06 03 2b 65 6e`) and 1.3.101.112 (Ed25519,
 * `06 03 2b 65 70`). Exported public keys are the last 32 bytes of the SPKI DER.
 */
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

function privateKey(prefix: Buffer, raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'pkcs8' });
}

function publicKey(prefix: Buffer, raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'spki' });
}

function rawPublic(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

function lowOrder(): FedveilError {
  return new FedveilError('x25519/low-order', 'X25519 peer public key is a low-order point (shared secret is zero)');
}

/**
 * The fast provider on node:crypto (OpenSSL). Same interface and byte-identical results as
 * {@link nobleProvider}; used on the server's hot paths. Not available in browsers.
 */
export const nodeProvider: CryptoProvider = {
  name: 'node',
  x25519Keygen(rng: RandomSource): KeyPair {
    const secretKey = randomBytes(rng, 32);
    return { secretKey, publicKey: rawPublic(createPublicKey(privateKey(PKCS8_X25519, secretKey))) };
  },
  x25519PublicKey(secretKey: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'x25519/bad-key', 'X25519 secret key');
    return rawPublic(createPublicKey(privateKey(PKCS8_X25519, secretKey)));
  },
  x25519(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'x25519/bad-key', 'X25519 secret key');
    checkKey32(peerPublicKey, 'x25519/bad-key', 'X25519 peer public key');
    let shared: Buffer;
    try {
      shared = diffieHellman({
        privateKey: privateKey(PKCS8_X25519, secretKey),
        publicKey: publicKey(SPKI_X25519, peerPublicKey),
      });
    } catch {
      // OpenSSL fails the derivation when the result is all zero (RFC 7748 section 6.1 check).
      throw lowOrder();
    }
    if (isAllZero(shared)) throw lowOrder();
    return new Uint8Array(shared);
  },
  ed25519Keygen(rng: RandomSource): KeyPair {
    const secretKey = randomBytes(rng, 32);
    return { secretKey, publicKey: rawPublic(createPublicKey(privateKey(PKCS8_ED25519, secretKey))) };
  },
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'ed25519/bad-key', 'Ed25519 secret key (seed)');
    return rawPublic(createPublicKey(privateKey(PKCS8_ED25519, secretKey)));
  },
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'ed25519/bad-key', 'Ed25519 secret key (seed)');
    checkBytes(message, 'ed25519/bad-message', 'Ed25519 message');
    return new Uint8Array(nodeSign(null, message, privateKey(PKCS8_ED25519, secretKey)));
  },
  ed25519Verify(pk: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (!(pk instanceof Uint8Array) || pk.length !== 32) return false;
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    if (!(message instanceof Uint8Array)) return false;
    try {
      return nodeVerify(null, message, publicKey(SPKI_ED25519, pk), signature);
    } catch {
      return false;
    }
  },
};
