import { WASM_BASE64 } from './aes256ctr.wasm.js';
import { instantiateWasm } from './instantiate.js';

/*
 * AES-256-CTR on the WebAssembly T-table AES of aes256ctr.wat, for the browser bundles' node:crypto
 * shim (web/dashboard/shims/crypto.ts): the participant page's randomized rounding and noise draw
 * their uniform words from AES-256-CTR (spec/dp.md), synchronously inside the masked-input step,
 * where WebCrypto's AES-CTR is asynchronous and the JavaScript AES was half of that step. Node
 * runs OpenSSL's; this is never on its path. The module's memory holds the round keys at KEY, the
 * counter block at CTR and up to PIECE bytes of data at DATA; the tables before them are public.
 */
const KEY = 4352;
const CTR = 4592;
const DATA = 4608;
const PIECE = 1 << 16;

interface Aes {
  memory: Uint8Array;
  expand(): void;
  ctr(p: number, blocks: number): void;
}

let module: Aes | undefined;

function aes(): Aes {
  if (module) return module;
  const exports = instantiateWasm(WASM_BASE64, 'AES-256-CTR');
  module = {
    memory: new Uint8Array((exports.memory as { buffer: ArrayBuffer }).buffer),
    expand: exports.expand as Aes['expand'],
    ctr: exports.ctr as Aes['ctr'],
  };
  return module;
}

/** The module's memory (where the tests check that nothing secret is left behind). */
export function aes256CtrMemory(): Uint8Array {
  return aes().memory;
}

/**
 * AES-256-CTR as node:crypto's `createCipheriv('aes-256-ctr', key, iv)` streams it: `update(data)`
 * returns data XOR the next keystream bytes, for any lengths in any order, the 16-byte counter
 * block counting as one big-endian integer (carrying across all 128 bits, wrapping at 2^128).
 * Several may be open at once: each keeps its round keys and counter and lends them to the module
 * only during a call, which wipes the module's memory before it returns. Table-based, so not
 * constant-time (see aes256ctr.wat).
 */
export class WasmAes256Ctr {
  private readonly roundKeys = new Uint8Array(240);
  private readonly counter = new Uint8Array(16);
  /** The keystream block the last call began to use, and how many of its bytes it used. */
  private readonly block = new Uint8Array(16);
  private used = 16;

  constructor(key: Uint8Array, iv: Uint8Array) {
    if (key.length !== 32 || iv.length !== 16) throw new Error('AES-256-CTR needs a 32-byte key and a 16-byte IV');
    const a = aes();
    try {
      a.memory.set(key, KEY);
      a.expand();
      this.roundKeys.set(a.memory.subarray(KEY, KEY + 240));
    } finally {
      a.memory.fill(0, KEY, KEY + 240);
    }
    this.counter.set(iv);
  }

  update(data: Uint8Array): Uint8Array {
    const n = data.length;
    const out = new Uint8Array(n);
    let i = 0;
    for (; i < n && this.used < 16; i++) out[i] = (data[i] as number) ^ (this.block[this.used++] as number);
    if (i === n) return out;
    const a = aes();
    const mem = a.memory;
    let dirty = 0;
    try {
      mem.set(this.roundKeys, KEY);
      mem.set(this.counter, CTR);
      // Whole blocks PIECE bytes at a time, XORed in the module's memory.
      while (n - i >= 16) {
        const len = Math.min(PIECE, (n - i) & ~15);
        mem.set(data.subarray(i, i + len), DATA);
        dirty = Math.max(dirty, len);
        a.ctr(DATA, len >>> 4);
        out.set(mem.subarray(DATA, DATA + len), i);
        i += len;
      }
      if (i < n) {
        // A partial block: its keystream is kept for the next call, as node's cipher keeps it.
        mem.fill(0, DATA, DATA + 16);
        dirty = Math.max(dirty, 16);
        a.ctr(DATA, 1);
        this.block.set(mem.subarray(DATA, DATA + 16));
        this.used = 0;
        for (; i < n; i++) out[i] = (data[i] as number) ^ (this.block[this.used++] as number);
      }
      this.counter.set(mem.subarray(CTR, CTR + 16));
    } finally {
      mem.fill(0, KEY, DATA + dirty);
    }
    return out;
  }

  /** Nothing: a stream cipher holds no data back (node's `final()`). */
  final(): Uint8Array {
    return new Uint8Array(0);
  }
}
