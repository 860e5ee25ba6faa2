/**
 * A small seeded statistical generator (xoshiro128**, seeded through splitmix32) for data
 * shuffles, partitions and weight-initialiser seeds, so that a simulation is reproducible from
 * one number. It is NOT a cryptographic source and must never feed masks, keys or DP noise.
 */
import { ensure } from './errors.js';

/** A deterministic stream of pseudo-random numbers. */
export interface Rng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** Uniform integer in [0, n), without modulo bias; `n` in [1, 2^32]. */
  nextInt(n: number): number;
  /** Standard normal draw (Box–Muller). */
  nextNormal(): number;
  /** Gamma(shape, 1) draw (Marsaglia–Tsang), shape > 0. */
  nextGamma(shape: number): number;
  /** Dirichlet(alpha, …, alpha) draw over `k` categories. */
  nextDirichlet(k: number, alpha: number): Float64Array;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(values: T): T;
}

function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

/**
 * Creates a generator from a seed. Any finite number is accepted; two seeds that differ give
 * unrelated streams (the seed's integer part and a hash of its fractional part are mixed in).
 */
export function createRng(seed: number): Rng {
  ensure(Number.isFinite(seed), 'trainer/bad-seed', `seed must be a finite number, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  let sm = lo ^ Math.imul(hi, 0x27d4eb2f);
  const st = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const [next, out] = splitmix32(sm);
    sm = next;
    st[i] = out;
  }
  if ((st[0]! | st[1]! | st[2]! | st[3]!) === 0) st[0] = 1;

  const nextUint32 = (): number => {
    const s0 = st[0]!, s1 = st[1]!, s2 = st[2]!, s3 = st[3]!;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    let n2 = s2 ^ s0;
    let n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    n2 ^= t;
    n3 = (n3 << 11) | (n3 >>> 21);
    st[0] = n0;
    st[1] = n1;
    st[2] = n2;
    st[3] = n3;
    return result;
  };
  const nextFloat = (): number => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992;
  const nextInt = (n: number): number => {
    ensure(Number.isInteger(n) && n >= 1 && n <= 2 ** 32, 'trainer/bad-range', `nextInt bound must be an integer in [1, 2^32], got ${n}`);
    // Rejection sampling: discard the top partial block so every residue is equally likely.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const v = nextUint32();
      if (v < limit) return v % n;
    }
  };
  let spare: number | undefined;
  const nextNormal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = nextFloat();
    const v = nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  const nextGamma = (shape: number): number => {
    ensure(shape > 0 && Number.isFinite(shape), 'trainer/bad-range', `gamma shape must be positive, got ${shape}`);
    if (shape < 1) {
      // Boost: Gamma(a) = Gamma(a + 1) · U^(1/a); done in log space so tiny shapes do not underflow to 0.
      let u = 0;
      while (u === 0) u = nextFloat();
      return Math.exp(Math.log(nextGamma(shape + 1)) + Math.log(u) / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = nextNormal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = nextFloat();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  const nextDirichlet = (k: number, alpha: number): Float64Array => {
    ensure(Number.isInteger(k) && k >= 1, 'trainer/bad-range', `Dirichlet needs k >= 1 categories, got ${k}`);
    const out = new Float64Array(k);
    let sum = 0;
    for (;;) {
      for (let i = 0; i < k; i++) {
        out[i] = nextGamma(alpha);
        sum += out[i]!;
      }
      if (sum > 0) break;
      sum = 0;
    }
    for (let i = 0; i < k; i++) out[i] = out[i]! / sum;
    return out;
  };
  const shuffle = <T extends { length: number; [i: number]: unknown }>(values: T): T => {
    for (let i = values.length - 1; i > 0; i--) {
      const j = nextInt(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  };
  return { nextUint32, nextFloat, nextInt, nextNormal, nextGamma, nextDirichlet, shuffle };
}
