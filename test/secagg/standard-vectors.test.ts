import { createCipheriv, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nobleProvider, nodeProvider, sodiumProvider, hkdfSha256, fromHex, toHex } from '../../src/secagg/index.js';
import { iteratedX25519, loadVector } from './helpers.js';

interface X25519Vectors {
  scalarMult: { name: string; scalar: string; u: string; output: string }[];
  iterated: { iterations: number; output: string }[];
  diffieHellman: Record<'alicePrivate' | 'alicePublic' | 'bobPrivate' | 'bobPublic' | 'shared', string>;
}
interface Ed25519Vectors {
  tests: { name: string; secretKey: string; publicKey: string; message: string; signature: string }[];
}
interface HkdfVectors {
  tests: { name: string; ikm: string; salt: string; info: string; length: number; okm: string }[];
}
interface AesCtrVector {
  key: string;
  initialCounter: string;
  plaintext: string;
  ciphertext: string;
}

const x = loadVector<X25519Vectors>('x25519-rfc7748.json');
const ed = loadVector<Ed25519Vectors>('ed25519-rfc8032.json');
const hk = loadVector<HkdfVectors>('hkdf-rfc5869.json');
const aes = loadVector<AesCtrVector>('aes256ctr-sp800-38a.json');

describe.each([nobleProvider, nodeProvider, sodiumProvider!])('RFC 7748 X25519 with the $name provider', (p) => {
  it.each(x.scalarMult)('$name', (v) => {
    expect(toHex(p.x25519(fromHex(v.scalar), fromHex(v.u)))).toBe(v.output);
  });

  it('section 6.1 key pairs and shared secret', () => {
    const d = x.diffieHellman;
    expect(toHex(p.x25519PublicKey(fromHex(d.alicePrivate)))).toBe(d.alicePublic);
    expect(toHex(p.x25519PublicKey(fromHex(d.bobPrivate)))).toBe(d.bobPublic);
    expect(toHex(p.x25519(fromHex(d.alicePrivate), fromHex(d.bobPublic)))).toBe(d.shared);
    expect(toHex(p.x25519(fromHex(d.bobPrivate), fromHex(d.alicePublic)))).toBe(d.shared);
  });

  // The 1000-iteration vector runs in standard-vectors.slow.test.ts.
  it.each(x.iterated.filter((v) => v.iterations < 1000))('iterated $iterations time(s)', (v) => {
    expect(iteratedX25519(p, v.iterations)).toBe(v.output);
  });
});

describe.each([nobleProvider, nodeProvider, sodiumProvider!])('RFC 8032 Ed25519 with the $name provider', (p) => {
  it.each(ed.tests)('$name', (v) => {
    const sk = fromHex(v.secretKey);
    const msg = fromHex(v.message);
    expect(toHex(p.ed25519PublicKey(sk))).toBe(v.publicKey);
    expect(toHex(p.ed25519Sign(sk, msg))).toBe(v.signature);
    expect(p.ed25519Verify(fromHex(v.publicKey), msg, fromHex(v.signature))).toBe(true);
    const bad = fromHex(v.signature);
    bad[5] = (bad[5] as number) ^ 0x01;
    expect(p.ed25519Verify(fromHex(v.publicKey), msg, bad)).toBe(false);
  });
});

describe('RFC 5869 HKDF-SHA256', () => {
  it.each(hk.tests)('$name with @noble/hashes and node:crypto', (v) => {
    const ikm = fromHex(v.ikm);
    const salt = fromHex(v.salt);
    const info = fromHex(v.info);
    expect(toHex(hkdfSha256(ikm, salt, info, v.length))).toBe(v.okm);
    expect(toHex(new Uint8Array(hkdfSync('sha256', ikm, salt, info, v.length)))).toBe(v.okm);
  });
});

describe('NIST SP 800-38A F.5.5 CTR-AES256', () => {
  it('encrypts the four blocks with node:crypto aes-256-ctr', () => {
    const c = createCipheriv('aes-256-ctr', fromHex(aes.key), fromHex(aes.initialCounter));
    const out = new Uint8Array(c.update(fromHex(aes.plaintext)));
    expect(toHex(out)).toBe(aes.ciphertext);
  });

  it('produces the same keystream when fed one byte at a time (the PRG streams in chunks)', () => {
    const c = createCipheriv('aes-256-ctr', fromHex(aes.key), fromHex(aes.initialCounter));
    const pt = fromHex(aes.plaintext);
    const out = new Uint8Array(pt.length);
    for (let i = 0; i < pt.length; i++) out.set(c.update(pt.subarray(i, i + 1)), i);
    expect(toHex(out)).toBe(aes.ciphertext);
  });
});
