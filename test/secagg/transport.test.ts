import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  MIN_SEALED_BYTES,
  nobleProvider,
  nodeProvider,
  openShare,
  roundContext,
  sealShare,
  seededRandom,
  shareKey,
  toHex,
  type ShareBinding,
} from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

const binding: ShareBinding = { federationId: 'hospitals', round: 7, sender: 2, recipient: 5 };
const key = seededRandom('key').fill(new Uint8Array(32));
const payload = seededRandom('payload').fill(new Uint8Array(72));

describe('sealShare / openShare', () => {
  it('round-trips any payload and binding', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.record({
          federationId: fc.string({ minLength: 1, maxLength: 30 }),
          round: fc.nat(0xffffffff),
          sender: fc.nat(0xffffffff),
          recipient: fc.nat(0xffffffff),
        }),
        fc.integer(),
        (pt, b, seed) => {
          const sealed = sealShare(key, b, pt, seededRandom(seed));
          expect(toHex(openShare(key, { ...b }, sealed))).toBe(toHex(pt));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('seals the binding inside the box: nonce ‖ secretbox(header ‖ payload)', () => {
    const sealed = sealShare(key, binding, payload, seededRandom('nonce'));
    const nonce = seededRandom('nonce').fill(new Uint8Array(24));
    expect(toHex(sealed.subarray(0, 24))).toBe(toHex(nonce));
    const inner = nacl.secretbox.open(sealed.subarray(24), nonce, key);
    expect(inner).not.toBeNull();
    const fid = new TextEncoder().encode('hospitals');
    const header = [1, fid.length, ...fid, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 5];
    expect(Array.from(inner!.subarray(0, header.length))).toEqual(header);
    expect(toHex(inner!.subarray(header.length))).toBe(toHex(payload));
  });

  it('works with keys derived by either provider from X25519 (both ends derive the same key)', () => {
    const rng = seededRandom('parties');
    const a = nobleProvider.x25519Keygen(rng);
    const b = nodeProvider.x25519Keygen(rng);
    const ctx = roundContext(binding.federationId, binding.round);
    const kab = shareKey(nobleProvider.x25519Agreement(a.secretKey), b.publicKey, ctx);
    const kba = shareKey(nodeProvider.x25519Agreement(b.secretKey), a.publicKey, ctx);
    expect(toHex(kab)).toBe(toHex(kba));
    expect(toHex(openShare(kba, binding, sealShare(kab, binding, payload, rng)))).toBe(toHex(payload));
    expect(toHex(shareKey(nobleProvider.x25519Agreement(a.secretKey), b.publicKey, roundContext('hospitals', 8)))).not.toBe(toHex(kab));
  });

  describe('negative cases, each with its own code', () => {
    const sealed = sealShare(key, binding, payload, seededRandom('n2'));

    it('tampered ciphertext, tag or nonce: transport/auth-failed', () => {
      for (const pos of [0, 23, 24, 40, sealed.length - 1]) {
        const t = Uint8Array.from(sealed);
        t[pos] = (t[pos] as number) ^ 0x80;
        expectCode(() => openShare(key, binding, t), 'transport/auth-failed');
      }
    });

    it('wrong key: transport/auth-failed', () => {
      const other = Uint8Array.from(key);
      other[0] = (other[0] as number) ^ 1;
      expectCode(() => openShare(other, binding, sealed), 'transport/auth-failed');
    });

    it('truncated below the minimum: transport/truncated; cut by a byte: transport/auth-failed', () => {
      expectCode(() => openShare(key, binding, sealed.subarray(0, MIN_SEALED_BYTES - 1)), 'transport/truncated');
      expectCode(() => openShare(key, binding, new Uint8Array(0)), 'transport/truncated');
      expectCode(() => openShare(key, binding, sealed.subarray(0, sealed.length - 1)), 'transport/auth-failed');
    });

    it('wrong round, sender, recipient, federation', () => {
      expectCode(() => openShare(key, { ...binding, round: 8 }, sealed), 'transport/wrong-round');
      expectCode(() => openShare(key, { ...binding, sender: 3 }, sealed), 'transport/wrong-sender');
      expectCode(() => openShare(key, { ...binding, recipient: 2 }, sealed), 'transport/wrong-recipient');
      expectCode(() => openShare(key, { ...binding, federationId: 'hospital' }, sealed), 'transport/wrong-federation');
      // A box sent to 5 replayed as if sender and recipient were swapped.
      expectCode(() => openShare(key, { ...binding, sender: 5, recipient: 2 }, sealed), 'transport/wrong-sender');
    });

    it('authentic but not a version-1 share: transport/malformed', () => {
      const nonce = new Uint8Array(24);
      const junk = new Uint8Array([2, ...new Uint8Array(20)]);
      const sealedJunk = new Uint8Array([...nonce, ...nacl.secretbox(junk, nonce, key)]);
      expectCode(() => openShare(key, binding, sealedJunk), 'transport/malformed');
    });

    it('bad keys and bindings at seal and open', () => {
      const rng = seededRandom(1);
      expectCode(() => sealShare(new Uint8Array(31), binding, payload, rng), 'transport/bad-key');
      expectCode(() => openShare(new Uint8Array(33), binding, sealed), 'transport/bad-key');
      expectCode(() => sealShare(key, { ...binding, round: -1 }, payload, rng), 'transport/bad-binding');
      expectCode(() => sealShare(key, { ...binding, sender: 1.5 }, payload, rng), 'transport/bad-binding');
      expectCode(() => sealShare(key, { ...binding, federationId: '' }, payload, rng), 'transport/bad-binding');
      expectCode(() => openShare(key, { ...binding, recipient: 2 ** 32 }, sealed), 'transport/bad-binding');
      expectCode(() => sealShare(key, binding, 'p' as unknown as Uint8Array, rng), 'transport/bad-plaintext');
    });
  });
});
