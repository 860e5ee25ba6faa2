import { createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { deriveKey, hkdfSha256, KDF_SALT, roundContext, toHex, utf8, concatBytes, type KdfLabel } from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

const labels: KdfLabel[] = ['pairwise-mask', 'share-key', 'self-mask', 'graph'];

describe('roundContext', () => {
  it('has the documented layout', () => {
    expect(toHex(roundContext('fed', 258))).toBe(
      toHex(concatBytes(utf8('fedveil/v1/round'), new Uint8Array([3]), utf8('fed'), new Uint8Array([0, 0, 1, 2]))),
    );
  });

  it('is injective over (federation, round)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        (f1, f2, r1, r2) => {
          fc.pre(f1 !== f2 || r1 !== r2);
          expect(toHex(roundContext(f1, r1))).not.toBe(toHex(roundContext(f2, r2)));
        },
      ),
    );
  });

  it('rejects empty or oversized federation ids and bad rounds', () => {
    expectCode(() => roundContext('', 1), 'kdf/bad-context');
    expectCode(() => roundContext('x'.repeat(256), 1), 'kdf/bad-context');
    expectCode(() => roundContext('f', -1), 'kdf/bad-context');
    expectCode(() => roundContext('f', 1.5), 'kdf/bad-context');
    expectCode(() => roundContext('f', 2 ** 32), 'kdf/bad-context');
    expectCode(() => roundContext(7 as unknown as string, 1), 'kdf/bad-context');
  });
});

describe('deriveKey', () => {
  it('equals HKDF-SHA256 with the documented salt and info (checked against node:crypto)', () => {
    expect(toHex(KDF_SALT)).toBe(toHex(sha256(utf8('fedveil/v1/kdf-salt'))));
    fc.assert(
      fc.property(fc.constantFrom(...labels), fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (label, ikm, ctx) => {
        const info = concatBytes(utf8(`fedveil/v1/${label}`), new Uint8Array([0]), ctx);
        const expected = new Uint8Array(hkdfSync('sha256', ikm, KDF_SALT, info, 32));
        expect(toHex(deriveKey(label, ikm, ctx))).toBe(toHex(expected));
      }),
      { numRuns: 50 },
    );
  });

  it('separates every label from every other for the same input', () => {
    const ikm = new Uint8Array(32).fill(9);
    const ctx = roundContext('f', 1);
    const keys = new Set(labels.map((l) => toHex(deriveKey(l, ikm, ctx))));
    expect(keys.size).toBe(labels.length);
  });

  it('rejects unknown labels and short keying material', () => {
    expectCode(() => deriveKey('other' as KdfLabel, new Uint8Array(32), new Uint8Array()), 'kdf/bad-label');
    expectCode(() => deriveKey('share-key', new Uint8Array(15), new Uint8Array()), 'kdf/bad-input');
    expectCode(() => deriveKey('share-key', new Uint8Array(32), 'ctx' as unknown as Uint8Array), 'kdf/bad-input');
  });
});

describe('hkdfSha256', () => {
  it('extract step is HMAC-SHA256(salt, ikm) (RFC 5869 2.2), via a one-block expand check', () => {
    const ikm = new Uint8Array(22).fill(0x0b);
    const salt = new Uint8Array(13).map((_, i) => i);
    const prk = createHmac('sha256', salt).update(ikm).digest();
    const t1 = createHmac('sha256', prk).update(new Uint8Array([1])).digest();
    expect(toHex(hkdfSha256(ikm, salt, new Uint8Array(), 32))).toBe(toHex(new Uint8Array(t1)));
  });

  it('equals node:crypto hkdfSync for any salt (empty included), info and length in [1, 8160]', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(31, 32, 33, 64, 65, 8159, 8160)),
        (ikm, salt, info, length) => {
          expect(toHex(hkdfSha256(ikm, salt, info, length))).toBe(toHex(new Uint8Array(hkdfSync('sha256', ikm, salt, info, length))));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects lengths outside [1, 8160]', () => {
    expectCode(() => hkdfSha256(new Uint8Array(1), new Uint8Array(), new Uint8Array(), 0), 'kdf/bad-length');
    expectCode(() => hkdfSha256(new Uint8Array(1), new Uint8Array(), new Uint8Array(), 8161), 'kdf/bad-length');
    expectCode(() => hkdfSha256(null as unknown as Uint8Array, new Uint8Array(), new Uint8Array(), 8), 'kdf/bad-input');
  });
});
