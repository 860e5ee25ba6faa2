import { check } from './util/errors.js';
import type { RandomSource } from './util/random.js';
import { bitMask, checkBits } from './zmod.js';
import { nodeKeystream, openKeystream } from './keystream.js';
import { accumulateWords } from './wasm/kernel.js';

/*
 * PRG(seed) = the ChaCha20 keystream of RFC 8439 with key = the whole 32-byte seed, nonce = 12 zero
 * bytes and initial block counter 0. Word i is bytes [4i, 4i+4) of the keystream read
 * little-endian, reduced mod 2^bits by keeping its low `bits` bits (uniform because 2^bits divides
 * 2^32). A seed is used for one stream only, so the fixed nonce never repeats a (key, nonce, counter)
 * block. The 32-bit block counter allows 256 GiB per stream, far beyond the 2^30-word cap.
 *
 * Why ChaCha20 and not AES-CTR: node:crypto's cipher.update returns a newly allocated output
 * buffer per call, and in a process that streams gigabytes of masks the allocator churn cost as much
 * as the cipher (a server's 270 masks of a million words: 520 000 page faults with AES-CTR, 25 000
 * with libsodium). libsodium writes ChaCha20 straight into the kernel's memory, allocation-free, at
 * a steady 2.2–2.8 GB/s here. Where libsodium cannot load (the browser participant, a platform
 * without its prebuild), a SIMD WebAssembly ChaCha20 gives the same stream (keystream.ts).
 */

/** Keystreams open at once: streams beyond this are processed in further passes (bounds the cipher states held). */
const STREAMS_PER_PASS = 256;

/** One pseudorandom mask: PRG(seed) added (`sign` 1) or subtracted (`sign` −1). */
export interface MaskStream {
  seed: Uint8Array;
  sign: 1 | -1;
}

function checkSeed(seed: unknown): asserts seed is Uint8Array {
  check(
    seed instanceof Uint8Array && seed.length === 32,
    'prg/bad-seed',
    () => `PRG seed must be a 32-byte Uint8Array, got ${seed instanceof Uint8Array ? `${seed.length} bytes` : typeof seed}`,
  );
}

/** The first `length` PRG words of `seed`, each reduced mod 2^bits. */
export function prgExpand(seed: Uint8Array, length: number, bits: number): Uint32Array {
  checkSeed(seed);
  check(
    Number.isSafeInteger(length) && length >= 0 && length <= 2 ** 30,
    'prg/bad-length',
    () => `PRG length must be an integer in [0, 2^30], got ${length}`,
  );
  checkBits(bits);
  const out = new Uint32Array(length);
  prgAccumulate(out, [{ seed, sign: 1 }], bits);
  return out;
}

/**
 * acc[i] = (acc[i] + Σ_s s.sign · PRG(s.seed)[i]) mod 2^bits, in place, for i < acc.length.
 *
 * Chunk by chunk rather than stream by stream ({@link accumulateWords}), so the accumulator crosses
 * the memory bus once per call (per 256 streams) instead of once per stream. A client
 * passes its self mask and all its pairwise masks in one call; the server all the masks it removes.
 * Entries of `acc` need not be reduced mod 2^bits on entry; they are on exit.
 */
export function prgAccumulate(acc: Uint32Array, streams: readonly MaskStream[], bits: number): void {
  check(acc instanceof Uint32Array, 'prg/bad-vector', 'accumulator must be a Uint32Array');
  checkBits(bits);
  check(Array.isArray(streams), 'prg/bad-streams', 'streams must be an array of { seed, sign }');
  for (const s of streams) {
    check(typeof s === 'object' && s !== null, 'prg/bad-streams', 'streams must be an array of { seed, sign }');
    checkSeed(s.seed);
    check(s.sign === 1 || s.sign === -1, 'prg/bad-sign', () => `sign must be 1 or -1, got ${String(s.sign)}`);
  }
  const m = bitMask(bits);
  if (streams.length === 0) {
    if (bits < 32) for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) & m;
    return;
  }
  if (acc.length === 0) return;
  for (let first = 0; first < streams.length; first += STREAMS_PER_PASS) {
    const pass = streams.slice(first, first + STREAMS_PER_PASS);
    accumulateWords(acc, pass.map((s) => ({ sign: s.sign, write: openKeystream(s.seed) })), m);
  }
}

/**
 * The raw PRG byte stream of `seed` as a {@link RandomSource} (bytes in keystream order). Used to
 * derive public randomness, e.g. the SecAgg+ graph permutation, from a public round seed.
 */
export function prgRandomSource(seed: Uint8Array): RandomSource {
  checkSeed(seed);
  const write = nodeKeystream(seed);
  return {
    fill(out: Uint8Array): Uint8Array {
      if (out.length > 0) write(out);
      return out;
    },
  };
}
