/*
 * The part of node:crypto that fedveil's modules use, for the browser bundles (the dashboard and
 * the participant page): SHA-256 (on the WebAssembly compression function of
 * src/secagg/wasm/sha256.wat where the page may compile WebAssembly: the participant page hashes
 * its whole masked vector, megabytes, synchronously; else on @noble/hashes),
 * HMAC-SHA256 (on @noble/hashes; short inputs only) and the two stream ciphers
 * (ChaCha20, the PRG of the masks; AES-256-CTR, the rotation signs and the noise samplers' and
 * the randomized rounding's uniform stream, on the WebAssembly AES of src/secagg/wasm/aes256ctr.wat
 * where the page may compile WebAssembly, else in JavaScript here), all synchronous as node's are.
 * test/server/dashboard-shims.test.ts holds every function here to node:crypto's output. The
 * dashboard only verifies; the participant page computes its secrets with it (KDF, PRG, noise),
 * so `randomBytes` is the browser's CSPRNG. ChaCha20 and the hashes are constant-time; both AES
 * implementations are table-based, so cache timing can see their key bytes.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { WasmAes256Ctr, aes256CtrMemory } from '../../../src/secagg/wasm/aes256ctr.js';
import { WasmSha256 } from '../../../src/secagg/wasm/sha256.js';

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

let wasmAllowed: boolean | undefined;

/**
 * Whether this page may compile WebAssembly. The participant page's policy allows it
 * ('wasm-unsafe-eval', for tfjs and the masks); the dashboard's does not (compiling throws), and
 * it hashes short messages and streams little AES, so it computes in JavaScript.
 */
function wasmCompiles(): boolean {
  if (wasmAllowed === undefined) {
    try {
      new WasmSha256().digest();
      aes256CtrMemory();
      wasmAllowed = true;
    } catch {
      wasmAllowed = false;
    }
  }
  return wasmAllowed;
}

/** SHA-256 fed as it comes (no copy of the input): the masked vector is 4 MB at d = 10⁶. */
class Sha256Digest {
  private readonly hash: { update(data: Bytes): unknown; digest(): Bytes } = wasmCompiles() ? new WasmSha256() : sha256.create();
  update(data: Bytes | string): this {
    this.hash.update(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    return this;
  }
  digest(): Bytes {
    return this.hash.digest();
  }
}

export function createHash(algorithm: string): Sha256Digest {
  if (algorithm !== 'sha256') unsupported(`hash ${algorithm}`);
  return new Sha256Digest();
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

/**
 * The round tables: TE0[x] is the MixColumns column of SubBytes(x) as a big-endian word (2s, s, s,
 * 3s); TE1..TE3 are its byte rotations. A round is then 16 lookups and XORs per block, not the
 * byte-wise SubBytes, ShiftRows and MixColumns. This is the noise and rounding PRG of pages that
 * cannot compile WebAssembly; the participant page runs the same formulation in aes256ctr.wat.
 */
// Int32Array, not Uint32Array: the JIT keeps 32-bit integers there (a Uint32Array read above 2^31 is a double).
const TE0 = new Int32Array(256);
const TE1 = new Int32Array(256);
const TE2 = new Int32Array(256);
const TE3 = new Int32Array(256);
for (let x = 0; x < 256; x++) {
  const sx = SBOX[x] as number;
  const s2 = xtime(sx);
  const w = (s2 << 24) | (sx << 16) | (sx << 8) | (s2 ^ sx);
  TE0[x] = w;
  TE1[x] = (w >>> 8) | (w << 24);
  TE2[x] = (w >>> 16) | (w << 16);
  TE3[x] = (w >>> 24) | (w << 8);
}

/** The 60 round-key words of AES-256, big-endian. */
function roundKeyWords(rk: Bytes): Int32Array {
  const w = new Int32Array(60);
  for (let i = 0; i < 60; i++) w[i] = ((rk[4 * i] as number) << 24) | ((rk[4 * i + 1] as number) << 16) | ((rk[4 * i + 2] as number) << 8) | (rk[4 * i + 3] as number);
  return w;
}

/**
 * AES-256 of the block whose big-endian words are `input` into the 16 bytes `out` (FIPS 197, the
 * 32-bit table formulation).
 */
function encryptBlock(k: Int32Array, input: Int32Array, out: Bytes): void {
  let s0 = (input[0] as number) ^ (k[0] as number);
  let s1 = (input[1] as number) ^ (k[1] as number);
  let s2 = (input[2] as number) ^ (k[2] as number);
  let s3 = (input[3] as number) ^ (k[3] as number);
  for (let r = 4; r < 56; r += 4) {
    const t0 = (TE0[s0 >>> 24] as number) ^ (TE1[(s1 >>> 16) & 255] as number) ^ (TE2[(s2 >>> 8) & 255] as number) ^ (TE3[s3 & 255] as number) ^ (k[r] as number);
    const t1 = (TE0[s1 >>> 24] as number) ^ (TE1[(s2 >>> 16) & 255] as number) ^ (TE2[(s3 >>> 8) & 255] as number) ^ (TE3[s0 & 255] as number) ^ (k[r + 1] as number);
    const t2 = (TE0[s2 >>> 24] as number) ^ (TE1[(s3 >>> 16) & 255] as number) ^ (TE2[(s0 >>> 8) & 255] as number) ^ (TE3[s1 & 255] as number) ^ (k[r + 2] as number);
    const t3 = (TE0[s3 >>> 24] as number) ^ (TE1[(s0 >>> 16) & 255] as number) ^ (TE2[(s1 >>> 8) & 255] as number) ^ (TE3[s2 & 255] as number) ^ (k[r + 3] as number);
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  // The last round has no MixColumns: SubBytes and ShiftRows only.
  const k0 = k[56] as number, k1 = k[57] as number, k2 = k[58] as number, k3 = k[59] as number;
  out[0] = (SBOX[s0 >>> 24] as number) ^ (k0 >>> 24);
  out[1] = (SBOX[(s1 >>> 16) & 255] as number) ^ (k0 >>> 16);
  out[2] = (SBOX[(s2 >>> 8) & 255] as number) ^ (k0 >>> 8);
  out[3] = (SBOX[s3 & 255] as number) ^ k0;
  out[4] = (SBOX[s1 >>> 24] as number) ^ (k1 >>> 24);
  out[5] = (SBOX[(s2 >>> 16) & 255] as number) ^ (k1 >>> 16);
  out[6] = (SBOX[(s3 >>> 8) & 255] as number) ^ (k1 >>> 8);
  out[7] = (SBOX[s0 & 255] as number) ^ k1;
  out[8] = (SBOX[s2 >>> 24] as number) ^ (k2 >>> 24);
  out[9] = (SBOX[(s3 >>> 16) & 255] as number) ^ (k2 >>> 16);
  out[10] = (SBOX[(s0 >>> 8) & 255] as number) ^ (k2 >>> 8);
  out[11] = (SBOX[s1 & 255] as number) ^ k2;
  out[12] = (SBOX[s3 >>> 24] as number) ^ (k3 >>> 24);
  out[13] = (SBOX[(s0 >>> 16) & 255] as number) ^ (k3 >>> 16);
  out[14] = (SBOX[(s1 >>> 8) & 255] as number) ^ (k3 >>> 8);
  out[15] = (SBOX[s2 & 255] as number) ^ k3;
}

// ——— ChaCha20 (RFC 8439 block function) ———

/**
 * ChaCha20 block `counter` of (key, nonce) as 16 words into `out` (RFC 8439 §2.3). The state lives
 * in locals, not arrays: this is the PRG of the page's masks (tens of MB per round at D = 10⁶).
 */
function chachaBlock(key: Uint32Array, counter: number, nonce: Uint32Array, out: Uint32Array): void {
  const j0 = 0x61707865, j1 = 0x3320646e, j2 = 0x79622d32, j3 = 0x6b206574;
  // `| 0` keeps every value a 32-bit integer for the JIT (a Uint32Array read above 2^31 is a double).
  const j4 = (key[0] as number) | 0, j5 = (key[1] as number) | 0, j6 = (key[2] as number) | 0, j7 = (key[3] as number) | 0;
  const j8 = (key[4] as number) | 0, j9 = (key[5] as number) | 0, j10 = (key[6] as number) | 0, j11 = (key[7] as number) | 0;
  const j12 = counter | 0, j13 = (nonce[0] as number) | 0, j14 = (nonce[1] as number) | 0, j15 = (nonce[2] as number) | 0;
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
  out[0] = (x0 + j0) | 0;
  out[1] = (x1 + j1) | 0;
  out[2] = (x2 + j2) | 0;
  out[3] = (x3 + j3) | 0;
  out[4] = (x4 + j4) | 0;
  out[5] = (x5 + j5) | 0;
  out[6] = (x6 + j6) | 0;
  out[7] = (x7 + j7) | 0;
  out[8] = (x8 + j8) | 0;
  out[9] = (x9 + j9) | 0;
  out[10] = (x10 + j10) | 0;
  out[11] = (x11 + j11) | 0;
  out[12] = (x12 + j12) | 0;
  out[13] = (x13 + j13) | 0;
  out[14] = (x14 + j14) | 0;
  out[15] = (x15 + j15) | 0;
}

/** Whether this platform's typed arrays are little-endian (every browser in use; checked anyway). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const words = (b: Bytes): Uint32Array => {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Uint32Array.from({ length: b.length / 4 }, (_, i) => v.getUint32(4 * i, true));
};

/**
 * A stream cipher used as node's `update(data)`: data XOR the next keystream bytes. `next` writes
 * the next block of keystream into the block's bytes (or words: both views share one buffer).
 * Whole blocks are XORed a word at a time where both buffers allow it; the rest byte by byte.
 */
class StreamCipher {
  private readonly words: Uint32Array;
  private readonly bytes: Bytes;
  private used: number;
  constructor(
    private readonly size: number,
    private readonly next: (bytes: Bytes, words: Uint32Array) => void,
  ) {
    this.words = new Uint32Array(size / 4);
    this.bytes = new Uint8Array(this.words.buffer);
    this.used = size;
  }
  update(data: Bytes): Bytes {
    const n = data.length;
    const size = this.size;
    const out = new Uint8Array(n);
    let i = 0;
    for (; i < n && this.used < size; i++) out[i] = (data[i] as number) ^ (this.bytes[this.used++] as number);
    const blocks = Math.floor((n - i) / size);
    if (blocks > 0 && i % 4 === 0 && (data.byteOffset + i) % 4 === 0) {
      // Byte order does not matter to a XOR: both word views read the same bytes the same way.
      const o32 = new Uint32Array(out.buffer, i, (blocks * size) / 4);
      const d32 = new Uint32Array(data.buffer, data.byteOffset + i, o32.length);
      const w = this.words;
      const m = w.length;
      for (let b = 0; b < o32.length; b += m) {
        this.next(this.bytes, w);
        for (let j = 0; j < m; j++) o32[b + j] = (d32[b + j] as number) ^ (w[j] as number);
      }
      i += blocks * size;
    }
    for (; i < n; i++) {
      if (this.used === size) {
        this.next(this.bytes, this.words);
        this.used = 0;
      }
      out[i] = (data[i] as number) ^ (this.bytes[this.used++] as number);
    }
    return out;
  }
  final(): Bytes {
    return new Uint8Array(0);
  }
}

/** Which AES-256-CTR {@link createCipheriv} uses: `'wasm'` where the page compiles WebAssembly. */
export type AesBackend = 'wasm' | 'javascript';

let aesChoice: AesBackend | undefined;

/** The AES-256-CTR implementation {@link createCipheriv} now uses. */
export function aesBackend(): AesBackend {
  return aesChoice ?? (wasmCompiles() ? 'wasm' : 'javascript');
}

/**
 * Makes {@link createCipheriv} use `backend` for AES-256-CTR from now on (`undefined`: the
 * default), for the browser bench, which times both in one page. Both give node's bytes.
 */
export function useAesBackend(backend: AesBackend | undefined): void {
  if (backend === 'wasm' && !wasmCompiles()) throw new Error('this page cannot compile WebAssembly');
  aesChoice = backend;
}

export function createCipheriv(algorithm: string, key: Bytes, iv: Bytes): { update(data: Bytes): Bytes; final(): Bytes } {
  if (algorithm === 'aes-256-ctr' && key.length === 32 && iv.length === 16) {
    if (aesBackend() === 'wasm') return new WasmAes256Ctr(key, iv);
    const rk = roundKeyWords(expandKey256(key));
    // The whole 16-byte counter block is one big-endian integer, as in OpenSSL: four big-endian words.
    const ctr = new Int32Array(4);
    for (let i = 0; i < 4; i++) ctr[i] = ((iv[4 * i] as number) << 24) | ((iv[4 * i + 1] as number) << 16) | ((iv[4 * i + 2] as number) << 8) | (iv[4 * i + 3] as number);
    return new StreamCipher(16, (out) => {
      encryptBlock(rk, ctr, out);
      for (let i = 3; i >= 0; i--) {
        ctr[i] = ((ctr[i] as number) + 1) | 0;
        if (ctr[i] !== 0) break;
      }
    });
  }
  if (algorithm === 'chacha20' && key.length === 32 && iv.length === 16) {
    // OpenSSL's 16-byte IV: the little-endian 32-bit block counter, then the 12-byte nonce.
    const k = words(key);
    const ivWords = words(iv);
    let counter = ivWords[0] as number;
    const nonce = ivWords.slice(1);
    return new StreamCipher(64, (bytes, out) => {
      chachaBlock(k, counter, nonce, out);
      if (!LITTLE_ENDIAN) {
        const v = new DataView(bytes.buffer, bytes.byteOffset, 64);
        for (let i = 0; i < 16; i++) v.setUint32(4 * i, out[i] as number, true);
      }
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
