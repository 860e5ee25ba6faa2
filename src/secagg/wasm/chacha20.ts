import { WASM_BASE64 } from './chacha20.wasm.js';
import { instantiateWasm } from './instantiate.js';

/*
 * The PRG's ChaCha20 in SIMD WebAssembly (chacha20.wat), for runtimes without libsodium: the
 * browser participant, where a JavaScript ChaCha20 expanded the masks at about 200 MB/s and was
 * most of the masked-input phase. The module's memory holds the key at KEY and up to PIECE bytes
 * of keystream at OUT.
 */
const KEY = 0;
const OUT = 64;
const PIECE = 1 << 16;

interface Chacha20 {
  memory: Uint8Array;
  /** Writes `quads` × 4 blocks of keystream from block `counter` at `out`. */
  blocks(counter: number, out: number, quads: number): void;
}

let module: Chacha20 | undefined;

function chacha20(): Chacha20 {
  if (module) return module;
  const exports = instantiateWasm(WASM_BASE64, 'the ChaCha20 keystream');
  module = { memory: new Uint8Array((exports.memory as { buffer: ArrayBuffer }).buffer), blocks: exports.blocks as Chacha20['blocks'] };
  return module;
}

/** The module's memory (where the tests check that nothing secret is left behind). */
export function chacha20Memory(): Uint8Array {
  return chacha20().memory;
}

/**
 * The ChaCha20 keystream of RFC 8439 with key `seed`, nonce = 12 zero bytes and block counter
 * from 0, as a writer of its next `out.length` bytes. Every call but the last must write a
 * multiple of 64 bytes (whole blocks): the next call starts at the next block. The key and the
 * keystream are wiped from the module's memory before each call returns (the keystream is a
 * secret mask).
 */
export function wasmChacha20Keystream(seed: Uint8Array): (out: Uint8Array) => void {
  let block = 0;
  return (out) => {
    const c = chacha20();
    const mem = c.memory;
    let used = OUT;
    try {
      for (let off = 0; off < out.length; off += PIECE) {
        const n = Math.min(PIECE, out.length - off);
        const quads = (n + 255) >>> 8;
        mem.set(seed, KEY);
        c.blocks(block | 0, OUT, quads);
        used = Math.max(used, OUT + 256 * quads);
        out.set(mem.subarray(OUT, OUT + n), off);
        block += n >>> 6;
      }
    } finally {
      mem.fill(0, 0, used);
    }
  };
}
