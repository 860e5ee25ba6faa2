import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { randomBytes, type RandomSource } from '../util/random.js';
import { checkBytes, checkKey32, isAllZero, lowOrderError, type CryptoProvider, type KeyPair, type X25519Agreement } from '../keys.js';

/*
 * node:crypto takes keys as KeyObjects, so raw 32-byte keys are imported as JSON Web Keys
 * (RFC 8037, kty "OKP", crv "X25519"/"Ed25519", base64url d and x). JWK import is ~10× faster
 * than DER import here, because OpenSSL 3's generic DER decoder dominates the cost of a DH. For a
 * private JWK, node:crypto builds the key from `d` alone (the public key is derived from it) and
 * only type-checks `x`, so we pass an all-zero placeholder `x`; should a runtime ever reject that,
 * the import falls back to the fixed RFC 8410 DER wrappers below (PKCS#8 for secrets, SPKI for
 * public keys; OIDs 1.3.101.110 X25519 = `06 03 2b 65 6e`, 1.3.101.112 Ed25519 = `06 03 2b 65 70`).
 * Either way the results are pinned against @noble/curves and the RFC vectors by the tests.
 */
type Curve = 'X25519' | 'Ed25519';
const PKCS8: Record<Curve, Buffer> = {
  X25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
  Ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
};
const SPKI: Record<Curve, Buffer> = {
  X25519: Buffer.from('302a300506032b656e032100', 'hex'),
  Ed25519: Buffer.from('302a300506032b6570032100', 'hex'),
};
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');

function b64url(raw: Uint8Array): string {
  return Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url');
}

function privateKey(crv: Curve, raw: Uint8Array): KeyObject {
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv, d: b64url(raw), x: PLACEHOLDER_X }, format: 'jwk' });
  } catch {
    return createPrivateKey({ key: Buffer.concat([PKCS8[crv], raw]), format: 'der', type: 'pkcs8' });
  }
}

function publicKey(crv: Curve, raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI[crv], raw]), format: 'der', type: 'spki' });
}

/*
 * A round verifies the same few hundred public keys over and over (every signed message, every
 * key list) and a KeyObject import costs about as much as the verification itself, so imported
 * public keys are memoised. A KeyObject is a pure function of its bytes: the cache changes no
 * result. It is bounded and drops its oldest entry when full. Secret keys are never cached.
 */
const PUBLIC_KEY_CACHE_SIZE = 4096;
const publicKeyCache = new Map<string, KeyObject>();

function publicKeyFast(crv: Curve, raw: Uint8Array): KeyObject {
  const x = b64url(raw);
  const id = `${crv}:${x}`;
  const cached = publicKeyCache.get(id);
  if (cached !== undefined) return cached;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'OKP', crv, x }, format: 'jwk' });
  } catch {
    key = publicKey(crv, raw);
  }
  if (publicKeyCache.size >= PUBLIC_KEY_CACHE_SIZE) publicKeyCache.delete(publicKeyCache.keys().next().value as string);
  publicKeyCache.set(id, key);
  return key;
}

function rawPublic(key: KeyObject): Uint8Array {
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x === 'string') {
    const raw = Buffer.from(x, 'base64url');
    if (raw.length === 32) return new Uint8Array(raw);
  }
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

/**
 * The fast provider on node:crypto (OpenSSL). Same interface and byte-identical results as
 * {@link nobleProvider}; used on the server's hot paths. Not available in browsers.
 */
export const nodeProvider: CryptoProvider = {
  name: 'node',
  x25519Keygen(rng: RandomSource): KeyPair {
    const secretKey = randomBytes(rng, 32);
    return { secretKey, publicKey: rawPublic(createPublicKey(privateKey('X25519', secretKey))) };
  },
  x25519PublicKey(secretKey: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'x25519/bad-key', 'X25519 secret key');
    return rawPublic(createPublicKey(privateKey('X25519', secretKey)));
  },
  x25519(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
    return nodeProvider.x25519Agreement(secretKey)(peerPublicKey);
  },
  x25519Agreement(secretKey: Uint8Array): X25519Agreement {
    checkKey32(secretKey, 'x25519/bad-key', 'X25519 secret key');
    const mine = privateKey('X25519', secretKey);
    return (peerPublicKey) => {
      checkKey32(peerPublicKey, 'x25519/bad-key', 'X25519 peer public key');
      let shared: Buffer;
      try {
        shared = diffieHellman({ privateKey: mine, publicKey: publicKeyFast('X25519', peerPublicKey) });
      } catch {
        // OpenSSL fails the derivation when the result is all zero (RFC 7748 section 6.1 check).
        throw lowOrderError();
      }
      if (isAllZero(shared)) throw lowOrderError();
      return new Uint8Array(shared);
    };
  },
  ed25519Keygen(rng: RandomSource): KeyPair {
    const secretKey = randomBytes(rng, 32);
    return { secretKey, publicKey: rawPublic(createPublicKey(privateKey('Ed25519', secretKey))) };
  },
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'ed25519/bad-key', 'Ed25519 secret key (seed)');
    return rawPublic(createPublicKey(privateKey('Ed25519', secretKey)));
  },
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
    checkKey32(secretKey, 'ed25519/bad-key', 'Ed25519 secret key (seed)');
    checkBytes(message, 'ed25519/bad-message', 'Ed25519 message');
    return new Uint8Array(nodeSign(null, message, privateKey('Ed25519', secretKey)));
  },
  ed25519Verify(pk: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (!(pk instanceof Uint8Array) || pk.length !== 32) return false;
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    if (!(message instanceof Uint8Array)) return false;
    try {
      return nodeVerify(null, message, publicKeyFast('Ed25519', pk), signature);
    } catch {
      return false;
    }
  },
};
