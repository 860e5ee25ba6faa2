import { instantiateWasm } from './instantiate.js';
import { WASM_BASE64 } from './sha256.wasm.js';

/*
 * SHA-256 on the WebAssembly compression function of sha256.wat, for the browser bundles' hash
 * (web/dashboard/shims/crypto.ts): the participant page hashes its masked vector synchronously
 * inside the signed message, where WebCrypto's digest is asynchronous and a JavaScript SHA-256 was
 * a fifth of the masked-input phase. Node hashes with OpenSSL; this is never on its path.
 * The module's memory holds the chaining state at STATE, the round constants, the schedule at
 * SCHEDULE and up to PIECE bytes of blocks at BLOCKS.
 */
const STATE = 0;
/** The message schedule W (sha256.wat), derived from the last block: wiped with the blocks. */
const SCHEDULE = 288;
const BLOCKS = 1024;
const PIECE = 1 << 16;
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

interface Compressor {
  memory: Uint8Array;
  words: Uint32Array;
  compress(at: number, blocks: number): void;
}

let module: Compressor | undefined;

function compressor(): Compressor {
  if (module) return module;
  const exports = instantiateWasm(WASM_BASE64, 'SHA-256');
  const buffer = (exports.memory as { buffer: ArrayBuffer }).buffer;
  module = { memory: new Uint8Array(buffer), words: new Uint32Array(buffer, STATE, 8), compress: exports.compress as Compressor['compress'] };
  return module;
}

/**
 * An incremental SHA-256 (FIPS 180-4): `update` any number of times, then `digest` once. Several
 * may be open at once: each keeps its own state and lends it to the module only during a call,
 * which wipes the module's memory before it returns.
 */
export class WasmSha256 {
  private readonly state = Uint32Array.from(IV);
  private readonly pending = new Uint8Array(64);
  private used = 0;
  private length = 0;
  private done = false;

  update(data: Uint8Array): this {
    if (this.done) throw new Error('SHA-256: update after digest');
    this.length += data.length;
    let off = 0;
    if (this.used > 0) {
      const take = Math.min(64 - this.used, data.length);
      this.pending.set(data.subarray(0, take), this.used);
      this.used += take;
      off = take;
      if (this.used < 64) return this;
      this.run(this.pending, 1);
      this.used = 0;
    }
    const whole = (data.length - off) & ~63;
    if (whole > 0) this.run(data.subarray(off, off + whole), whole >>> 6);
    off += whole;
    this.pending.set(data.subarray(off), 0);
    this.used = data.length - off;
    return this;
  }

  digest(): Uint8Array {
    if (this.done) throw new Error('SHA-256: digest called twice');
    this.done = true;
    // Padding: 0x80, zeros to 56 mod 64, the message length in bits as a big-endian 64-bit integer.
    const tail = new Uint8Array(this.used < 56 ? 64 : 128);
    tail.set(this.pending.subarray(0, this.used));
    tail[this.used] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(tail.length - 8, Math.floor(this.length / 2 ** 29));
    view.setUint32(tail.length - 4, (this.length * 8) % 2 ** 32);
    this.run(tail, tail.length >>> 6);
    this.pending.fill(0);
    const out = new Uint8Array(32);
    const o = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) o.setUint32(4 * i, this.state[i] as number);
    this.state.fill(0);
    return out;
  }

  /** Compresses `blocks` whole blocks of `data` into the state, PIECE bytes at a time. */
  private run(data: Uint8Array, blocks: number): void {
    const c = compressor();
    c.words.set(this.state);
    let used = 0;
    try {
      for (let b = 0; b < blocks; b += PIECE >>> 6) {
        const n = Math.min(PIECE >>> 6, blocks - b);
        c.memory.set(data.subarray(64 * b, 64 * (b + n)), BLOCKS);
        used = Math.max(used, 64 * n);
        c.compress(BLOCKS, n);
      }
      this.state.set(c.words);
    } finally {
      c.words.fill(0);
      c.memory.fill(0, SCHEDULE, BLOCKS + used);
    }
  }
}

/** The module's memory (where the tests check that nothing is left behind). */
export function sha256Memory(): Uint8Array {
  return compressor().memory;
}
