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

/**
 * ChaCha20 block `counter` of (key, nonce) as 16 words into `out` (RFC 8439 §2.3). The state lives
 * in locals, not arrays: this is the PRG of the page's masks (tens of MB per round at D = 10⁶).
 */
function chachaBlock(key: Uint32Array, counter: number, nonce: Uint32Array, out: Uint32Array): void {
  const j0 = 0x61707865, j1 = 0x3320646e, j2 = 0x79622d32, j3 = 0x6b206574;
  const j4 = key[0] as number, j5 = key[1] as number, j6 = key[2] as number, j7 = key[3] as number;
  const j8 = key[4] as number, j9 = key[5] as number, j10 = key[6] as number, j11 = key[7] as number;
  const j12 = counter | 0, j13 = nonce[0] as number, j14 = nonce[1] as number, j15 = nonce[2] as number;
  let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6, x7 = j7;
  let x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12, x13 = j13, x14 = j14, x15 = j15;
  for (let i = 0; i < 10; i++) {
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0; x12 ^= x0; x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0; x4 ^= x8; x4 = (x4 << 7) | (x4 >>> 25);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0; x13 ^= x1; x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0; x5 ^= x9; x5 = (x5 << 7) | (x5 >>> 25);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0; x14 ^= x2; x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0; x6 ^= x10; x6 = (x6 << 7) | (x6 >>> 25);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0; x15 ^= x3; x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0; x7 ^= x11; x7 = (x7 << 7) | (x7 >>> 25);
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0; x15 ^= x0; x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0; x5 ^= x10; x5 = (x5 << 7) | (x5 >>> 25);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0; x12 ^= x1; x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0; x6 ^= x11; x6 = (x6 << 7) | (x6 >>> 25);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0; x13 ^= x2; x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0; x7 ^= x8; x7 = (x7 << 7) | (x7 >>> 25);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0; x14 ^= x3; x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0; x4 ^= x9; x4 = (x4 << 7) | (x4 >>> 25);
  }
  out[0] = x0 + j0;
  out[1] = x1 + j1;
  out[2] = x2 + j2;
  out[3] = x3 + j3;
  out[4] = x4 + j4;
  out[5] = x5 + j5;
  out[6] = x6 + j6;
  out[7] = x7 + j7;
  out[8] = x8 + j8;
  out[9] = x9 + j9;
  out[10] = x10 + j10;
  out[11] = x11 + j11;
  out[12] = x12 + j12;
  out[13] = x13 + j13;
  out[14] = x14 + j14;
  out[15] = x15 + j15;
}

/** Whether this platform's typed arrays are little-endian (every browser in use; checked anyway). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * OpenSSL's ChaCha20 as node's `update(data)`: data XOR the next keystream bytes. Whole blocks are
 * XORed a word at a time where both buffers allow it; the rest byte by byte.
 */
class ChaChaCipher {
  private readonly words = new Uint32Array(16);
  private readonly bytes = new Uint8Array(this.words.buffer);
  private used = 64;
  constructor(
    private readonly key: Uint32Array,
    private counter: number,
    private readonly nonce: Uint32Array,
  ) {}
  private refill(): void {
    chachaBlock(this.key, this.counter, this.nonce, this.words);
    if (!LITTLE_ENDIAN) {
      const v = new DataView(this.words.buffer);
      for (let i = 0; i < 16; i++) v.setUint32(4 * i, this.words[i] as number, true);
    }
    this.counter = (this.counter + 1) >>> 0;
    // OpenSSL counts over all 16 IV bytes: a wrapped block counter carries into the nonce words.
    for (let i = 0; this.counter === 0 && i < 3; i++) {
      this.nonce[i] = ((this.nonce[i] as number) + 1) >>> 0;
      if (this.nonce[i] !== 0) break;
    }
    this.used = 0;
  }
  update(data: Bytes): Bytes {
    const n = data.length;
    const out = new Uint8Array(n);
    let i = 0;
    for (; i < n && this.used < 64; i++) out[i] = (data[i] as number) ^ (this.bytes[this.used++] as number);
    const blocks = (n - i) >>> 6;
    if (blocks > 0 && i % 4 === 0 && (data.byteOffset + i) % 4 === 0) {
      // Byte order does not matter to a XOR: both word views read the same bytes the same way.
      const o32 = new Uint32Array(out.buffer, i, blocks * 16);
      const d32 = new Uint32Array(data.buffer, data.byteOffset + i, blocks * 16);
      const w = this.words;
      for (let b = 0; b < o32.length; b += 16) {
        this.refill();
        for (let j = 0; j < 16; j++) o32[b + j] = (d32[b + j] as number) ^ (w[j] as number);
      }
      this.used = 64;
      i += blocks * 64;
    }
    for (; i < n; i++) {
      if (this.used === 64) this.refill();
      out[i] = (data[i] as number) ^ (this.bytes[this.used++] as number);
    }
    return out;
  }
  final(): Bytes {
    return new Uint8Array(0);
  }
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

export function createCipheriv(algorithm: string, key: Bytes, iv: Bytes): StreamCipher | ChaChaCipher {
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
    const ivWords = words(iv);
    return new ChaChaCipher(words(key), ivWords[0] as number, ivWords.slice(1));
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
