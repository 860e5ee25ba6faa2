import { instantiateWasm } from './instantiate.js';
import { WASM_BASE64 } from './mask-accumulate.wasm.js';

/*
 * The SIMD word kernel (mask-accumulate.wat): acc ← (acc ± w) & mask over 32-bit little-endian
 * words. JavaScript has no SIMD, and its word-at-a-time loop cost about as much as the
 * keystream it added; in 128-bit lanes the add is a small fraction of it.
 */

/**
 * Bytes per chunk. The kernel's memory holds one accumulator chunk at offset 0 and up to
 * OPERANDS operand chunks after it. Each chunk costs one keystream call per stream, so larger
 * chunks amortise the calls; 64 KiB measured fastest (16 KiB: −35%, 128 KiB: no better), and the
 * five chunks still sit in L2.
 */
const CHUNK_BYTES = 1 << 16;

/** Operands the kernel adds in one pass over an accumulator chunk (its `four`). */
const OPERANDS = 4;

/** The instantiated kernel. */
export interface WordKernel {
  /** The module's memory ((1 + OPERANDS) × CHUNK_BYTES). */
  memory: Uint8Array;
  /**
   * memory[acc..acc+bytes) ← (· ± memory[ks..]) & mask in 32-bit lanes, subtracting when `negate`
   * is 1; `bytes` a multiple of 32.
   */
  one(acc: number, ks: number, bytes: number, mask: number, negate: 0 | 1): void;
  /** The same with the sum of the four operands at ks, ks + stride, ks + 2·stride and ks + 3·stride. */
  four(acc: number, ks: number, stride: number, bytes: number, mask: number, negate: 0 | 1): void;
}

let kernel: WordKernel | undefined;

/** The kernel, compiled on first use (see {@link instantiateWasm} for what it refuses). */
function wordKernel(): WordKernel {
  if (kernel) return kernel;
  const exports = instantiateWasm(WASM_BASE64, 'mask accumulation');
  const memory = exports.memory as { buffer: ArrayBuffer };
  kernel = { memory: new Uint8Array(memory.buffer), one: exports.one as WordKernel['one'], four: exports.four as WordKernel['four'] };
  return kernel;
}

/** The words of `v` as bytes (no copy). */
function wordBytes(v: Uint32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** One operand of {@link accumulateWords}: `write(slot)` fills `slot` with its next bytes. */
export interface WordSource {
  sign: 1 | -1;
  write(slot: Uint8Array): void;
}

/**
 * acc[i] = (acc[i] + Σ_j sources[j].sign · w_j[i]) & mask, chunk by chunk: each chunk of `acc` is
 * loaded into the kernel's memory once, the sources write their next chunks beside it, up to four
 * of one sign at a time, and are added there, and the chunk is stored back. Each source is asked
 * for one chunk per step; sources of one sign are read in order. The scratch memory is zeroed
 * afterwards (operands may be secret masks).
 */
export function accumulateWords(acc: Uint32Array, sources: readonly WordSource[], mask: number): void {
  const k = wordKernel();
  const mem = k.memory;
  const a = wordBytes(acc);
  // Grouped by sign: the sum mod 2^32 does not depend on the order of its terms.
  const plus = sources.filter((s) => s.sign === 1);
  const minus = sources.filter((s) => s.sign === -1);
  const groups = [plus, minus] as const;
  const slots = Math.min(OPERANDS, Math.max(plus.length, minus.length));
  try {
    for (let base = 0; base < a.length; base += CHUNK_BYTES) {
      const n = Math.min(CHUNK_BYTES, a.length - base);
      const padded = (n + 63) & ~63;
      mem.set(a.subarray(base, base + n), 0);
      for (const negate of [0, 1] as const) {
        const list = groups[negate];
        for (let j = 0; j < list.length; j += OPERANDS) {
          const count = Math.min(OPERANDS, list.length - j);
          for (let q = 0; q < count; q++) {
            const at = (1 + q) * CHUNK_BYTES;
            (list[j + q] as WordSource).write(mem.subarray(at, at + n));
          }
          if (count === OPERANDS) k.four(0, CHUNK_BYTES, CHUNK_BYTES, padded, mask, negate);
          else for (let q = 0; q < count; q++) k.one(0, (1 + q) * CHUNK_BYTES, padded, mask, negate);
        }
      }
      a.set(mem.subarray(0, n), base);
    }
  } finally {
    mem.fill(0, 0, (1 + slots) * CHUNK_BYTES);
  }
}

/** acc[i] = (acc[i] + sign · x[i]) & mask for equal-length vectors (the caller checks lengths). */
export function addWordsInto(acc: Uint32Array, x: Uint32Array, sign: 1 | -1, mask: number): void {
  const b = wordBytes(x);
  let offset = 0;
  accumulateWords(acc, [{ sign, write: (slot) => slot.set(b.subarray(offset, (offset += slot.length))) }], mask);
}
