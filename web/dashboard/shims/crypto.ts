/*
 * The part of node:crypto that fedveil's modules use, for the browser bundles (the dashboard and
 * the participant page): SHA-256 and HMAC-SHA256 (on @noble/hashes) and the two stream ciphers
 * (ChaCha20, the PRG of the masks; AES-256-CTR, the rotation signs and the noise samplers' uniform
 * stream), all synchronous as node's are. test/server/dashboard-shims.test.ts holds every function
 * here to node:crypto's output. The dashboard only verifies; the participant page computes its
 * secrets with it (KDF, PRG, noise), so `randomBytes` is the browser's CSPRNG. ChaCha20 and the
 * hashes are constant-time; this AES is table-based, so cache timing can see its key bytes.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

type Bytes = Uint8Array;

function concat(parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function unsupported(what: string): never {
  throw new Error(`${what} is not available in the dashboard's browser build`);
}

/** A hash or HMAC that collects its input and digests once. */
class Digest {
  private readonly parts: Bytes[] = [];
  constructor(private readonly finish: (data: Bytes) => Bytes) {}
  update(data: Bytes | string): this {
    this.parts.push(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    return this;
  }
  digest(): Bytes {
    return this.finish(concat(this.parts));
  }
}

export function createHash(algorithm: string): Digest {
  if (algorithm !== 'sha256') unsupported(`hash ${algorithm}`);
  return new Digest((d) => sha256(d));
}

export function createHmac(algorithm: string, key: Bytes): Digest {
  if (algorithm !== 'sha256') unsupported(`HMAC ${algorithm}`);
  return new Digest((d) => hmac(sha256, key, d));
}

// ——— AES-256 (FIPS 197), encryption only: CTR mode needs no more ———

const SBOX = new Uint8Array(256);
{
  // The S-box from its definition: the multiplicative inverse in GF(2^8), then the affine map.
  const rotl8 = (x: number, s: number) => ((x << s) | (x >>> (8 - s))) & 0xff;
  let p = 1;
  let q = 1;
  do {
    p = (p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0)) & 0xff;
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    SBOX[p] = (q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63) & 0xff;
  } while (p !== 1);
  SBOX[0] = 0x63;
}

const xtime = (x: number): number => ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;

/** The 15 round keys of AES-256, 240 bytes. */
function expandKey256(key: Bytes): Bytes {
  const w = new Uint8Array(240);
  w.set(key);
  let rcon = 1;
  for (let i = 32; i < 240; i += 4) {
    let t0 = w[i - 4] as number;
    let t1 = w[i - 3] as number;
    let t2 = w[i - 2] as number;
    let t3 = w[i - 1] as number;
    if (i % 32 === 0) {
      [t0, t1, t2, t3] = [(SBOX[t1] as number) ^ rcon, SBOX[t2] as number, SBOX[t3] as number, SBOX[t0] as number];
      rcon = xtime(rcon);
    } else if (i % 32 === 16) {
      [t0, t1, t2, t3] = [SBOX[t0] as number, SBOX[t1] as number, SBOX[t2] as number, SBOX[t3] as number];
    }
    w[i] = (w[i - 32] as number) ^ t0;
    w[i + 1] = (w[i - 31] as number) ^ t1;
    w[i + 2] = (w[i - 30] as number) ^ t2;
    w[i + 3] = (w[i - 29] as number) ^ t3;
  }
  return w;
}

function encryptBlock(rk: Bytes, input: Bytes, out: Bytes): void {
  const s = new Uint8Array(16);
  for (let i = 0; i < 16; i++) s[i] = (input[i] as number) ^ (rk[i] as number);
  const t = new Uint8Array(16);
  for (let round = 1; round <= 14; round++) {
    // SubBytes and ShiftRows: byte r of column c comes from column c + r.
    for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) t[4 * c + r] = SBOX[s[4 * ((c + r) % 4) + r] as number] as number;
    if (round < 14) {
      for (let c = 0; c < 4; c++) {
        const a0 = t[4 * c] as number;
        const a1 = t[4 * c + 1] as number;
        const a2 = t[4 * c + 2] as number;
        const a3 = t[4 * c + 3] as number;
        s[4 * c] = xtime(a0) ^ xtime(a1) ^ a1 ^ a2 ^ a3;
        s[4 * c + 1] = a0 ^ xtime(a1) ^ xtime(a2) ^ a2 ^ a3;
        s[4 * c + 2] = a0 ^ a1 ^ xtime(a2) ^ xtime(a3) ^ a3;
        s[4 * c + 3] = xtime(a0) ^ a0 ^ a1 ^ a2 ^ xtime(a3);
      }
    } else {
      s.set(t);
    }
    for (let i = 0; i < 16; i++) s[i] = (s[i] as number) ^ (rk[16 * round + i] as number);
  }
  out.set(s);
}

// ——— ChaCha20 (RFC 8439 block function) ———

function chachaBlock(key: Uint32Array, counter: number, nonce: Uint32Array, out: Bytes): void {
  const x = new Uint32Array(16);
  const init = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, ...key, counter >>> 0, ...nonce]);
  x.set(init);
  const qr = (a: number, b: number, c: number, d: number) => {
    let va = x[a] as number, vb = x[b] as number, vc = x[c] as number, vd = x[d] as number;
    va = (va + vb) >>> 0; vd ^= va; vd = ((vd << 16) | (vd >>> 16)) >>> 0;
    vc = (vc + vd) >>> 0; vb ^= vc; vb = ((vb << 12) | (vb >>> 20)) >>> 0;
    va = (va + vb) >>> 0; vd ^= va; vd = ((vd << 8) | (vd >>> 24)) >>> 0;
    vc = (vc + vd) >>> 0; vb ^= vc; vb = ((vb << 7) | (vb >>> 25)) >>> 0;
    x[a] = va; x[b] = vb; x[c] = vc; x[d] = vd;
  };
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  const view = new DataView(out.buffer, out.byteOffset, 64);
  for (let i = 0; i < 16; i++) view.setUint32(4 * i, ((x[i] as number) + (init[i] as number)) >>> 0, true);
}

const words = (b: Bytes): Uint32Array => {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Uint32Array.from({ length: b.length / 4 }, (_, i) => v.getUint32(4 * i, true));
};

/** A stream cipher used as node's `update(data)`: data XOR the next keystream bytes. */
class StreamCipher {
  private block: Bytes;
  private used: number;
  constructor(
    size: number,
    private readonly next: (out: Bytes) => void,
  ) {
    this.block = new Uint8Array(size);
    this.used = size;
  }
  update(data: Bytes): Bytes {
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      if (this.used === this.block.length) {
        this.next(this.block);
        this.used = 0;
      }
      out[i] = (data[i] as number) ^ (this.block[this.used++] as number);
    }
    return out;
  }
  final(): Bytes {
    return new Uint8Array(0);
  }
}

export function createCipheriv(algorithm: string, key: Bytes, iv: Bytes): StreamCipher {
  if (algorithm === 'aes-256-ctr' && key.length === 32 && iv.length === 16) {
    const rk = expandKey256(key);
    const counter = Uint8Array.from(iv);
    return new StreamCipher(16, (out) => {
      encryptBlock(rk, counter, out);
      // The whole 16-byte counter block is one big-endian integer, as in OpenSSL.
      for (let i = 15; i >= 0; i--) {
        counter[i] = ((counter[i] as number) + 1) & 0xff;
        if (counter[i] !== 0) break;
      }
    });
  }
  if (algorithm === 'chacha20' && key.length === 32 && iv.length === 16) {
    // OpenSSL's 16-byte IV: the little-endian 32-bit block counter, then the 12-byte nonce.
    const k = words(key);
    const ivWords = words(iv);
    let counter = ivWords[0] as number;
    const nonce = ivWords.slice(1);
    return new StreamCipher(64, (out) => {
      chachaBlock(k, counter, nonce, out);
      counter = (counter + 1) >>> 0;
      // OpenSSL counts over all 16 IV bytes: a wrapped block counter carries into the nonce words.
      for (let i = 0; counter === 0 && i < 3; i++) {
        nonce[i] = ((nonce[i] as number) + 1) >>> 0;
        if (nonce[i] !== 0) break;
      }
    });
  }
  return unsupported(`cipher ${algorithm} with a ${key.length}-byte key and a ${iv.length}-byte IV`);
}

export function randomBytes(n: number): Bytes {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

export function createPublicKey(): never {
  return unsupported('createPublicKey');
}
export function createPrivateKey(): never {
  return unsupported('createPrivateKey');
}
export function sign(): never {
  return unsupported('sign');
}
export function verify(): never {
  return unsupported('verify');
}
export function diffieHellman(): never {
  return unsupported('diffieHellman');
}
export function generateKeyPairSync(): never {
  return unsupported('generateKeyPairSync');
}
export function randomFillSync(b: Bytes): Bytes {
  return globalThis.crypto.getRandomValues(b);
}
export function timingSafeEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}
export const webcrypto = globalThis.crypto;
export default { createHash, createHmac, createCipheriv, randomBytes, randomFillSync, timingSafeEqual };
