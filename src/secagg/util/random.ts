import { sha256 } from '@noble/hashes/sha2.js';
import { FedveilError } from './errors.js';

/**
 * Where every random byte in fedveil comes from. Production code uses {@link systemRandom}
 * (`crypto.getRandomValues`); tests and reproducible simulations inject {@link seededRandom}.
 * Nothing in the pure layers may call `Math.random` or any statistical generator.
 */
export interface RandomSource {
  /** Fills `out` with random bytes and returns it. */
  fill(out: Uint8Array): Uint8Array;
}

/** getRandomValues refuses more than 65536 bytes per call. */
const GET_RANDOM_VALUES_MAX = 65_536;

/** The cryptographically secure source: `crypto.getRandomValues`. */
export const systemRandom: RandomSource = {
  fill(out: Uint8Array): Uint8Array {
    for (let off = 0; off < out.length; off += GET_RANDOM_VALUES_MAX) {
      crypto.getRandomValues(out.subarray(off, Math.min(out.length, off + GET_RANDOM_VALUES_MAX)));
    }
    return out;
  },
};

/**
 * A deterministic source for tests and reproducible simulation: SHA-256(seed ‖ counter) blocks.
 * It is a sound pseudorandom stream when the seed is secret, but a seed written in a config file
 * is public, so never use it to draw secrets of a real deployment.
 */
export function seededRandom(seed: Uint8Array | string | number): RandomSource {
  const seedBytes =
    typeof seed === 'string'
      ? new TextEncoder().encode(seed)
      : typeof seed === 'number'
        ? new TextEncoder().encode(`fedveil/seeded-random/${seed}`)
        : Uint8Array.from(seed);
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new FedveilError('random/bad-seed', `seed must be a safe integer, got ${seed}`);
  }
  const input = new Uint8Array(seedBytes.length + 8);
  input.set(seedBytes, 0);
  const view = new DataView(input.buffer);
  let counter = 0n;
  let block = new Uint8Array(0);
  let used = 0;
  return {
    fill(out: Uint8Array): Uint8Array {
      for (let i = 0; i < out.length; i++) {
        if (used === block.length) {
          view.setBigUint64(seedBytes.length, counter++, false);
          block = sha256(input);
          used = 0;
        }
        out[i] = block[used++] as number;
      }
      return out;
    },
  };
}

/** `n` fresh random bytes from `rng`. */
export function randomBytes(rng: RandomSource, n: number): Uint8Array {
  return rng.fill(new Uint8Array(n));
}

/** A uniform 32-bit unsigned integer. */
export function randomUint32(rng: RandomSource): number {
  const b = rng.fill(new Uint8Array(4));
  return ((b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16) | ((b[3] as number) << 24)) >>> 0;
}

/** A uniform double in [0, 1) with 53 random bits. */
export function randomUnit(rng: RandomSource): number {
  const b = rng.fill(new Uint8Array(7));
  let hi = 0;
  for (let i = 0; i < 7; i++) hi = hi * 256 + (b[i] as number);
  // 56 random bits; keep 53 so the result is exactly representable and < 1.
  return Math.floor(hi / 8) / 2 ** 53;
}

/** A uniform integer in [0, n) without modulo bias (rejection sampling). */
export function randomBelow(rng: RandomSource, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0 || n > 2 ** 32) {
    throw new FedveilError('random/bad-bound', `bound must be an integer in [1, 2^32], got ${n}`);
  }
  const limit = 2 ** 32 - (2 ** 32 % n);
  for (;;) {
    const x = randomUint32(rng);
    if (x < limit) return x % n;
  }
}
