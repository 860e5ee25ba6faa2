import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultProvider,
  nobleProvider,
  nodeProvider,
  sodiumProvider,
  seededRandom,
  toHex,
  fromHex,
  lowOrderCheck,
  utf8,
  type CryptoProvider,
} from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

if (sodiumProvider === undefined) throw new Error('the sodium-native addon did not load on this machine');
const sodium: CryptoProvider = sodiumProvider;
const fastProviders: CryptoProvider[] = [nodeProvider, sodium];

describe('provider choice', () => {
  it('the default provider is libsodium where its addon loads', () => {
    expect(defaultProvider).toBe(sodium);
    expect(defaultProvider.name).toBe('sodium');
  });
});

describe.each(fastProviders)('$name and noble providers agree byte for byte', (fast) => {
  it('X25519 public keys and shared secrets, both directions', () => {
    fc.assert(
      fc.property(key32, key32, (a, b) => {
        const pubA = nobleProvider.x25519PublicKey(a);
        expect(toHex(fast.x25519PublicKey(a))).toBe(toHex(pubA));
        const pubB = fast.x25519PublicKey(b);
        const s1 = nobleProvider.x25519(a, pubB);
        expect(toHex(fast.x25519(b, pubA))).toBe(toHex(s1));
        expect(toHex(fast.x25519(a, pubB))).toBe(toHex(s1));
      }),
      { numRuns: 40 },
    );
  });

  it('a bound agreement gives x25519 per peer, for several peers in turn', () => {
    fc.assert(
      fc.property(key32, fc.array(key32, { minLength: 1, maxLength: 5 }), (mine, peers) => {
        const boundFast = fast.x25519Agreement(mine);
        const boundNoble = nobleProvider.x25519Agreement(mine);
        for (const peer of peers) {
          const pub = nobleProvider.x25519PublicKey(peer);
          const want = toHex(nobleProvider.x25519(mine, pub));
          expect(toHex(boundFast(pub))).toBe(want);
          expect(toHex(boundNoble(pub))).toBe(want);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('Ed25519 public keys, deterministic signatures and verification', () => {
    fc.assert(
      fc.property(key32, fc.uint8Array({ maxLength: 200 }), (seed, msg) => {
        const pk = nobleProvider.ed25519PublicKey(seed);
        expect(toHex(fast.ed25519PublicKey(seed))).toBe(toHex(pk));
        const sig = fast.ed25519Sign(seed, msg);
        expect(toHex(nobleProvider.ed25519Sign(seed, msg))).toBe(toHex(sig));
        expect(nobleProvider.ed25519Verify(pk, msg, sig)).toBe(true);
        expect(fast.ed25519Verify(pk, msg, sig)).toBe(true);
        const tampered = msg.length > 0 ? Uint8Array.from(msg, (v, i) => (i === 0 ? v ^ 1 : v)) : new Uint8Array([0]);
        expect(nobleProvider.ed25519Verify(pk, tampered, sig)).toBe(false);
        expect(fast.ed25519Verify(pk, tampered, sig)).toBe(false);
      }),
      { numRuns: 40 },
    );
  });

  it('keygen draws the secret from the injected source, identically', () => {
    const a = nobleProvider.x25519Keygen(seededRandom('k'));
    const b = fast.x25519Keygen(seededRandom('k'));
    expect(toHex(a.secretKey)).toBe(toHex(b.secretKey));
    expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
    const c = nobleProvider.ed25519Keygen(seededRandom('e'));
    const d = fast.ed25519Keygen(seededRandom('e'));
    expect(toHex(c.publicKey)).toBe(toHex(d.publicKey));
    expect(toHex(c.secretKey)).toBe(toHex(d.secretKey));
  });

  it('does not keep a reference to the caller\'s key buffer', () => {
    const seed = seededRandom('alias').fill(new Uint8Array(32));
    const msg = utf8('message');
    const sig = fast.ed25519Sign(seed, msg);
    const pk = fast.ed25519PublicKey(seed);
    seed.fill(0);
    expect(fast.ed25519Verify(pk, msg, sig)).toBe(true);
  });
});

describe('Ed25519 small-order public keys: where the providers differ', () => {
  it('noble and libsodium reject a signature that holds for every message; OpenSSL accepts it', () => {
    // R = the identity point, S = 0, A = the identity: S·B = R + h·A holds for every message. With
    // A of order 2 (y = −1) it holds for every message whose h is even. Only crafted keys do this.
    const identity = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0));
    const order2 = fromHex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    const sig = new Uint8Array(64);
    sig.set(identity, 0);
    for (const msg of [utf8('any message at all'), utf8('another one')]) {
      for (const a of [identity, order2]) {
        expect(nobleProvider.ed25519Verify(a, msg, sig)).toBe(false);
        expect(sodium.ed25519Verify(a, msg, sig)).toBe(false);
      }
      expect(nodeProvider.ed25519Verify(identity, msg, sig)).toBe(true);
    }
  });
});

describe.each<CryptoProvider>([nobleProvider, nodeProvider, sodium])('$name provider rejects bad input', (p) => {
  const good = p.x25519Keygen(seededRandom(1));
  const edKey = p.ed25519Keygen(seededRandom(2));
  const msg = new Uint8Array([1, 2, 3]);
  const sig = p.ed25519Sign(edKey.secretKey, msg);

  it('low-order X25519 peer keys (u = 0, u = 1, an order-8 point)', () => {
    for (const u of [
      new Uint8Array(32),
      Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0)),
      Uint8Array.from(Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex')),
    ]) {
      expectCode(() => p.x25519(good.secretKey, u), 'x25519/low-order');
      expectCode(() => p.x25519Agreement(good.secretKey)(u), 'x25519/low-order');
    }
  });

  it('lowOrderCheck refuses low-order keys, non-canonical encodings included, and passes every public key', () => {
    const check = lowOrderCheck(p);
    for (const hex of [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0100000000000000000000000000000000000000000000000000000000000000',
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ]) {
      expectCode(() => check(fromHex(hex)), 'x25519/low-order');
    }
    fc.assert(
      fc.property(key32, (sk) => {
        check(p.x25519PublicKey(sk));
      }),
      { numRuns: 50 },
    );
    expectCode(() => check(new Uint8Array(31)), 'x25519/bad-key');
  });

  it('keys of the wrong length or type', () => {
    expectCode(() => p.x25519(new Uint8Array(31), good.publicKey), 'x25519/bad-key');
    expectCode(() => p.x25519(good.secretKey, new Uint8Array(33)), 'x25519/bad-key');
    expectCode(() => p.x25519Agreement(new Uint8Array(31)), 'x25519/bad-key');
    expectCode(() => p.x25519Agreement(good.secretKey)(new Uint8Array(33)), 'x25519/bad-key');
    expectCode(() => p.x25519PublicKey('nope' as unknown as Uint8Array), 'x25519/bad-key');
    expectCode(() => p.ed25519PublicKey(new Uint8Array(64)), 'ed25519/bad-key');
    expectCode(() => p.ed25519Sign(new Uint8Array(16), msg), 'ed25519/bad-key');
    expectCode(() => p.ed25519Sign(edKey.secretKey, 'm' as unknown as Uint8Array), 'ed25519/bad-message');
  });

  it('verify returns false, never throws, on malformed signatures and keys', () => {
    expect(p.ed25519Verify(edKey.publicKey, msg, sig.subarray(0, 63))).toBe(false);
    expect(p.ed25519Verify(edKey.publicKey.subarray(0, 31), msg, sig)).toBe(false);
    expect(p.ed25519Verify(new Uint8Array(32).fill(0xff), msg, sig)).toBe(false);
    // S ≥ L (non-canonical): set the top bits of S.
    const big = Uint8Array.from(sig);
    big[63] = 0xff;
    expect(p.ed25519Verify(edKey.publicKey, msg, big)).toBe(false);
    expect(p.ed25519Verify(null as unknown as Uint8Array, msg, sig)).toBe(false);
    // A signature from another key.
    const other = p.ed25519Keygen(seededRandom(3));
    expect(p.ed25519Verify(other.publicKey, msg, sig)).toBe(false);
  });
});

describe('node provider public-key memo', () => {
  it('keeps answering correctly for keys seen before, after and beyond its bound', () => {
    const rng = seededRandom('memo');
    const msg = utf8('same message');
    const first = nodeProvider.ed25519Keygen(rng);
    const sig = nodeProvider.ed25519Sign(first.secretKey, msg);
    expect(nodeProvider.ed25519Verify(first.publicKey, msg, sig)).toBe(true);
    // Push more than the memo holds through it, so the first key is evicted and re-imported.
    for (let i = 0; i < 4200; i++) {
      const pk = Uint8Array.from(first.publicKey);
      pk[0] = i & 0xff;
      pk[1] = (i >> 8) & 0xff;
      expect(nodeProvider.ed25519Verify(pk, msg, sig)).toBe(false);
    }
    expect(nodeProvider.ed25519Verify(first.publicKey, msg, sig)).toBe(true);
    const second = nodeProvider.ed25519Keygen(rng);
    expect(nodeProvider.ed25519Verify(second.publicKey, msg, sig)).toBe(false);
    // X25519 through the memo agrees with noble both times.
    const a = nodeProvider.x25519Keygen(rng);
    const b = nodeProvider.x25519Keygen(rng);
    const once = nodeProvider.x25519(a.secretKey, b.publicKey);
    expect(nodeProvider.x25519(a.secretKey, b.publicKey)).toEqual(once);
    expect(nobleProvider.x25519(a.secretKey, b.publicKey)).toEqual(once);
  });
});
