import { createCipheriv, createHash, hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { rotationSigns } from '../../src/dp/index.js';
import { UniformStream } from '../../src/dp/noise/uniform-stream.js';
import { decodeClientMessage } from '../../src/protocol/wire/serialize.js';
import { verifyMessage } from '../../src/protocol/canonical.js';
import { fromHex, nodeProvider, openShare, toHex, type RandomSource } from '../../src/secagg/index.js';
import { buildClientRoundVectors } from './client-round-vectors.js';
import { loadVector } from '../secagg/helpers.js';

/** The vector round has no ledger binding: its signatures cover an empty one. */
const NO_BINDING = new Uint8Array(0);

/*
 * spec/vectors/protocol-client-round.json is (1) exactly what the protocol code produces and
 * (2) what spec/protocol.md §5, spec/secagg.md and spec/dp.md §2 say, recomputed here from the
 * vector's inputs with node:crypto, tweetnacl and bigint arithmetic only — not with the fedveil
 * functions that produced it.
 */

interface Participant {
  index: number;
  identityPublicKey: string;
  encryptionSecret: string;
  encryptionKey: string;
  maskingSeed: string;
  maskingSecret: string;
  maskingKey: string;
  selfSeed: string;
  selfSeedCoefficientDraws: string[];
  maskingSeedCoefficientDraws: string[];
  nonces: Record<string, string>;
  uniformStreamMaterial: string;
}

interface Box {
  recipient: number;
  x25519Shared: string;
  shareKey: string;
  nonce: string;
  header: string;
  payload: string;
  plaintext: string;
  sealed: string;
}

interface Vectors {
  config: { federationId: string; round: number; dim: number; roundSeed: string; dp: { clipNorm: number; scale: number; bits: number }; participants: string[] };
  kdfContext: string;
  subject: number;
  participants: Participant[];
  shareKeys: {
    holders: number[];
    xs: number[];
    threshold: number;
    shares: { holder: number; x: number; selfSeedShare: string; maskingSeedShare: string }[];
    boxes: Box[];
    canonicalPayload: string;
    message: unknown;
  };
  encoding: {
    updateFloat32: number[];
    paddedDim: number;
    uniformStreamMaterial: string;
    beforeRounding: number[];
    roundingAttempts: { words: number[]; rounded: number[] }[];
    l2Bound: number;
    encoding: number[];
  };
  uniformStream: {
    material: string;
    first8Words: number[];
    first4Units: number[];
    words16384And16385: number[];
    unitAfter16383Words: number;
  };
  maskedInput: {
    u2: number[];
    bits: number;
    length: number;
    encoding: number[];
    extra: number[];
    input: number[];
    selfMaskSeed: string;
    pairwise: { peer: number; seed: string; sign: number }[];
    y: number[];
    body: string;
    bodySha256: string;
    message: unknown;
  };
}

const v = loadVector<Vectors>('protocol-client-round.json');
const P = 2n ** 255n - 19n;
const enc = new TextEncoder();
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const sha = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const le = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const toLe32 = (x: bigint): string => toHex(Uint8Array.from({ length: 32 }, (_, i) => Number((x >> BigInt(8 * i)) & 0xffn)));
const u32be = (x: number): Uint8Array => Uint8Array.of(x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);

/** spec/secagg.md §2: HKDF-SHA256, salt SHA-256("fedveil/v1/kdf-salt"), info "fedveil/v1/" ‖ label ‖ 0x00 ‖ context. */
function kdf(label: string, ikm: Uint8Array, context: Uint8Array): Uint8Array {
  const info = cat(enc.encode(`fedveil/v1/${label}`), Uint8Array.of(0), context);
  return new Uint8Array(hkdfSync('sha256', ikm, sha(enc.encode('fedveil/v1/kdf-salt')), info, 32));
}

/** spec/secagg.md §3: ChaCha20 (key = seed, nonce 0, counter 0) keystream words, little-endian, mod 2^bits. */
function prg(seed: Uint8Array, length: number, bits: number): number[] {
  // node's chacha20 IV is the 4-byte little-endian block counter followed by the 12-byte nonce.
  const ks = createCipheriv('chacha20', seed, new Uint8Array(16)).update(new Uint8Array(4 * length));
  const dv = new DataView(ks.buffer, ks.byteOffset, ks.byteLength);
  return Array.from({ length }, (_, i) => Number(BigInt(dv.getUint32(4 * i, true)) % 2n ** BigInt(bits)));
}

/** spec/dp.md §2 (Uniform stream): AES-256-CTR keystream words, counter block a 128-bit big-endian integer, words little-endian. */
function aesCtrWords(material: Uint8Array, count: number): number[] {
  const key = material.subarray(0, 32);
  let counter = BigInt(`0x${toHex(material.subarray(32, 48))}`);
  const words: number[] = [];
  while (words.length < count) {
    const block = fromHex(counter.toString(16).padStart(32, '0'));
    const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    const ks = ecb.update(block);
    for (let i = 0; i < 16; i += 4) words.push(ks.readUInt32LE(i));
    counter = (counter + 1n) % 2n ** 128n;
  }
  return words.slice(0, count);
}

/** spec/secagg.md §4: values as one little-endian bit stream, `bits` per value. */
function pack(values: number[], bits: number): Uint8Array {
  let stream = 0n;
  values.forEach((x, i) => (stream |= BigInt(x) << BigInt(i * bits)));
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  for (let i = 0; i < out.length; i++) out[i] = Number((stream >> BigInt(8 * i)) & 0xffn);
  return out;
}

const fixed = (material: Uint8Array): RandomSource => ({ fill: (out) => (out.set(material), out) });

describe('spec/vectors/protocol-client-round.json', () => {
  it('is reproduced exactly by the protocol code (any change must update spec and vectors together)', () => {
    const { description: _d, ...rebuilt } = buildClientRoundVectors();
    const { description: _e, ...stored } = v as unknown as Record<string, unknown>;
    expect(JSON.parse(JSON.stringify(rebuilt))).toEqual(stored);
  });

  it('keys: masking secret = HKDF(m, KDF salt, "fedveil/v1/masking-secret") without label framing or context', () => {
    const fid = enc.encode(v.config.federationId);
    expect(toHex(cat(enc.encode('fedveil/v1/round'), Uint8Array.of(fid.length), fid, u32be(v.config.round)))).toBe(v.kdfContext);
    for (const p of v.participants) {
      const seed = fromHex(p.maskingSeed);
      expect(seed[31]).toBe(0);
      expect(fromHex(p.selfSeed)[31]).toBe(0);
      const s = new Uint8Array(hkdfSync('sha256', seed, sha(enc.encode('fedveil/v1/kdf-salt')), enc.encode('fedveil/v1/masking-secret'), 32));
      expect(toHex(s)).toBe(p.maskingSecret);
      expect(toHex(nodeProvider.x25519PublicKey(s))).toBe(p.maskingKey);
      expect(toHex(nodeProvider.x25519PublicKey(fromHex(p.encryptionSecret)))).toBe(p.encryptionKey);
    }
  });

  it('share-keys: y_b ‖ y_m of f(x) = secret + a_1·x, sealed under the share key with the binding header', () => {
    const me = v.participants[v.subject] as Participant;
    const sk = v.shareKeys;
    const coefficient = (hex: string): bigint => {
      const b = fromHex(hex);
      b[31] = (b[31] as number) & 0x7f;
      return le(b);
    };
    const poly = (secret: string, draws: string[]) => (x: number) =>
      [le(fromHex(secret)), ...draws.map(coefficient)].reduceRight((acc, c) => (acc * BigInt(x) + c) % P, 0n);
    const b = poly(me.selfSeed, me.selfSeedCoefficientDraws);
    const m = poly(me.maskingSeed, me.maskingSeedCoefficientDraws);
    expect(sk.shares.map((s) => [s.selfSeedShare, s.maskingSeedShare])).toEqual(sk.xs.map((x) => [toLe32(b(x)), toLe32(m(x))]));
    expect(sk.boxes.map((bx) => bx.recipient)).toEqual(sk.holders.filter((h) => h !== v.subject));

    const ctx = fromHex(v.kdfContext);
    const fid = enc.encode(v.config.federationId);
    for (const box of sk.boxes) {
      const peer = v.participants[box.recipient] as Participant;
      const shared = nodeProvider.x25519(fromHex(me.encryptionSecret), fromHex(peer.encryptionKey));
      expect(toHex(nodeProvider.x25519(fromHex(peer.encryptionSecret), fromHex(me.encryptionKey)))).toBe(toHex(shared));
      const key = kdf('share-key', shared, ctx);
      expect(toHex(key)).toBe(box.shareKey);
      const header = cat(Uint8Array.of(1, fid.length), fid, u32be(v.config.round), u32be(v.subject), u32be(box.recipient));
      expect(toHex(header)).toBe(box.header);
      const x = box.recipient + 1;
      const payload = fromHex(toLe32(b(x)) + toLe32(m(x)));
      expect(payload).toHaveLength(64);
      expect(toHex(cat(header, payload))).toBe(box.plaintext);
      const nonce = fromHex(me.nonces[String(box.recipient)] as string);
      const sealed = cat(nonce, nacl.secretbox(cat(header, payload), nonce, key));
      expect(toHex(sealed)).toBe(box.sealed);
      expect(sealed).toHaveLength(118 + fid.length);
      // The recipient opens it with its own secret.
      const theirs = kdf('share-key', nodeProvider.x25519(fromHex(peer.encryptionSecret), fromHex(me.encryptionKey)), ctx);
      const binding = { federationId: v.config.federationId, round: v.config.round, sender: v.subject, recipient: box.recipient };
      expect(toHex(openShare(theirs, binding, sealed))).toBe(toHex(payload));
    }

    // The signed message carries exactly these boxes, in recipient order.
    const msg = decodeClientMessage(sk.message);
    expect(msg.type === 'share-keys' && msg.shares.map((s) => toHex(s.ciphertext))).toEqual(sk.boxes.map((bx) => bx.sealed));
    expect(verifyMessage(nodeProvider, fromHex(v.config.participants[v.subject] as string), msg, NO_BINDING)).toBe(true);
    const canonical = cat(
      u32be(10),
      enc.encode('share-keys'),
      u32be(sk.boxes.length),
      ...sk.boxes.flatMap((bx) => [u32be(bx.recipient), u32be(bx.sealed.length / 2), fromHex(bx.sealed)]),
    );
    expect(toHex(canonical)).toBe(sk.canonicalPayload);
  });

  it('encoding: clip, D then H in Sylvester order, ×1/√d′ then ×1/γ, up iff w·2^-32 < v − ⌊v⌋, wrap', () => {
    const e = v.encoding;
    const dp = v.config.dp;
    const u = e.updateFloat32;
    const norm = Math.sqrt(u.reduce((s, x) => s + x * x, 0));
    const factor = norm <= dp.clipNorm ? 1 : (dp.clipNorm / norm) * (1 - 1e-15);
    const signs = rotationSigns(fromHex(v.config.roundSeed), e.paddedDim);
    const d = e.paddedDim;
    // H[i][j] = (−1)^popcount(i & j), summed in the butterfly order of the spec (exact here).
    const x = Array.from({ length: d }, (_, i) => ((i < u.length ? (u[i] as number) : 0) * factor) * (signs[i] as number));
    for (let h = 1; h < d; h *= 2) {
      for (let i = 0; i < d; i += 2 * h) {
        for (let j = i; j < i + h; j++) {
          const [a, b] = [x[j] as number, x[j + h] as number];
          x[j] = a + b;
          x[j + h] = a - b;
        }
      }
    }
    const before = x.map((t) => (t * (1 / Math.sqrt(d))) * (1 / dp.scale));
    expect(before).toEqual(e.beforeRounding);
    const words = aesCtrWords(fromHex(e.uniformStreamMaterial), e.roundingAttempts.length * d);
    expect(e.roundingAttempts.flatMap((a) => a.words)).toEqual(words);
    const last = e.roundingAttempts.at(-1) as { words: number[]; rounded: number[] };
    const rounded = before.map((b, i) => Math.floor(b) + ((last.words[i] as number) * 2 ** -32 < b - Math.floor(b) ? 1 : 0));
    expect(rounded).toEqual(last.rounded);
    expect(Math.hypot(...rounded)).toBeLessThanOrEqual(e.l2Bound);
    const mod = 2 ** dp.bits;
    expect(rounded.map((r) => ((r % mod) + mod) % mod)).toEqual(e.encoding);
    expect(v.maskedInput.encoding).toEqual(e.encoding);
  });

  it('UniformStream: AES-256-CTR(key = bytes 0..31, counter block = bytes 32..47, 128-bit big-endian), words little-endian', () => {
    const s = v.uniformStream;
    const material = fromHex(s.material);
    expect(aesCtrWords(material, 8)).toEqual(s.first8Words);
    const all = aesCtrWords(material, 16386);
    expect(all.slice(16384)).toEqual(s.words16384And16385);
    const unit = (hi: number, lo: number): number => ((hi >>> 5) * 2 ** 26 + (lo >>> 6)) * 2 ** -53;
    expect(s.first4Units).toEqual([0, 2, 4, 6].map((i) => unit(all[i] as number, all[i + 1] as number)));
    // After an odd number of words in a 16 384-word block, unit() skips the block's last word.
    expect(s.unitAfter16383Words).toBe(unit(all[16384] as number, all[16385] as number));
    const stream = new UniformStream(fixed(material));
    expect(Array.from({ length: 8 }, () => stream.uint32())).toEqual(s.first8Words);
  });

  it('masked input: y = (encoding ‖ extra) + PRG(self) + Σ sign·PRG(pairwise) mod 2^b, packed little-endian', () => {
    const mi = v.maskedInput;
    const me = v.participants[v.subject] as Participant;
    const ctx = fromHex(v.kdfContext);
    expect(mi.input).toEqual([...mi.encoding, ...mi.extra]);
    const self = kdf('self-mask', fromHex(me.selfSeed), ctx);
    expect(toHex(self)).toBe(mi.selfMaskSeed);
    const streams = [{ seed: self, sign: 1 }];
    const others = v.shareKeys.holders.filter((h) => mi.u2.includes(h) && h !== v.subject);
    expect(mi.pairwise.map((p) => p.peer)).toEqual(others);
    for (const p of mi.pairwise) {
      const peer = v.participants[p.peer] as Participant;
      const seed = kdf('pairwise-mask', nodeProvider.x25519(fromHex(me.maskingSecret), fromHex(peer.maskingKey)), ctx);
      expect(toHex(seed)).toBe(p.seed);
      expect(toHex(kdf('pairwise-mask', nodeProvider.x25519(fromHex(peer.maskingSecret), fromHex(me.maskingKey)), ctx))).toBe(p.seed);
      expect(p.sign).toBe(v.subject < p.peer ? 1 : -1);
      streams.push({ seed, sign: p.sign });
    }
    const mod = 2 ** mi.bits;
    const words = streams.map((s) => prg(s.seed, mi.length, mi.bits));
    const y = mi.input.map((x, i) => {
      const sum = streams.reduce((acc, s, j) => acc + s.sign * ((words[j] as number[])[i] as number), x);
      return ((sum % mod) + mod) % mod;
    });
    expect(y).toEqual(mi.y);
    const body = pack(y, mi.bits);
    expect(toHex(body)).toBe(mi.body);
    expect(body).toHaveLength(Math.ceil((mi.length * mi.bits) / 8));
    expect(toHex(sha(body))).toBe(mi.bodySha256);
    const msg = decodeClientMessage(mi.message, body);
    expect(msg.type === 'masked-input' && toHex(msg.vectorSha256)).toBe(mi.bodySha256);
    expect(verifyMessage(nodeProvider, fromHex(v.config.participants[v.subject] as string), msg, NO_BINDING)).toBe(true);
  });
});
