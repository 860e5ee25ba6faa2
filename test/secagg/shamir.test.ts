import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeShare,
  encodeShare,
  isCanonicalShareY,
  LagrangeBasis,
  RobustBasis,
  SHAMIR_PRIME,
  seededRandom,
  shamirCombine,
  shamirCombineRobust,
  shamirSplit,
  toHex,
  type RandomSource,
  type ShamirShare,
} from '../../src/secagg/index.js';
import { expectCode } from './helpers.js';

const P = SHAMIR_PRIME;
const mod = (a: bigint): bigint => ((a % P) + P) % P;
function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}
const inv = (a: bigint): bigint => pow(a, P - 2n);
function le(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number);
  return v;
}
function toLe(v: bigint, n = 32): Uint8Array {
  const o = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    o[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return o;
}

/** A RandomSource that replays fixed bytes (and fails loudly if more are asked for). */
function replay(bytes: Uint8Array): RandomSource {
  let off = 0;
  return {
    fill(out: Uint8Array): Uint8Array {
      if (off + out.length > bytes.length) throw new Error('replay source exhausted');
      out.set(bytes.subarray(off, off + out.length));
      off += out.length;
      return out;
    },
  };
}

/** k distinct x-coordinates, a threshold t ≤ k, and a t-subset order (indices). */
const setup = fc
  .integer({ min: 1, max: 12 })
  .chain((k) =>
    fc.tuple(
      fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { minLength: k, maxLength: k }),
      fc.integer({ min: 1, max: k }),
      fc.shuffledSubarray(Array.from({ length: k }, (_, i) => i), { minLength: k, maxLength: k }),
    ),
  );
const secret31 = fc.uint8Array({ minLength: 31, maxLength: 31 });

describe('shamirSplit / shamirCombine', () => {
  it('any t of the k shares reconstruct the secret (Lagrange basis and combine agree)', () => {
    fc.assert(
      fc.property(setup, secret31, fc.integer(), ([xs, t, order], secret, seed) => {
        const shares = shamirSplit(secret, t, xs, seededRandom(seed));
        expect(shares.map((s) => s.x)).toEqual(xs);
        const subset = order.slice(0, t).map((i) => shares[i] as ShamirShare);
        expect(toHex(shamirCombine(subset, t, 31))).toBe(toHex(secret));
        const basis = new LagrangeBasis(subset.map((s) => s.x));
        expect(toHex(basis.combine(subset.map((s) => s.y), 31))).toBe(toHex(secret));
        // All k shares: reconstruct and pass the consistency check.
        expect(toHex(shamirCombine(order.map((i) => shares[i] as ShamirShare), t, 31))).toBe(toHex(secret));
      }),
      { numRuns: 60 },
    );
  });

  it('shares are f(x) for f(0) = secret with coefficients drawn as documented', () => {
    const coeff = [123n, P - 1n];
    const rng = replay(new Uint8Array([...toLe(coeff[0] as bigint), ...toLe(coeff[1] as bigint)]));
    const secret = new Uint8Array(31).fill(7);
    const s = le(secret);
    const shares = shamirSplit(secret, 3, [1, 2, 1000], rng);
    for (const sh of shares) {
      const x = BigInt(sh.x);
      expect(le(sh.y)).toBe(mod(s + 123n * x + (P - 1n) * x * x));
    }
  });

  it('t − 1 shares reveal nothing: for every other secret the same t − 1 shares arise from exactly as many coefficient draws', () => {
    // For fixed holders X (|X| = t − 1), f'(x) = f(x) + (s' − s)·g(x) with g(0) = 1, g(X) = 0 maps
    // the coefficients of f bijectively onto coefficients of f' (a translation), so the shares at X
    // have the same distribution for every secret. We build f' explicitly and feed its coefficients
    // through the RNG: shamirSplit must reproduce the t − 1 shares exactly, while a t-th differs.
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }).chain((t) =>
          fc.tuple(fc.constant(t), fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: t, maxLength: t })),
        ),
        secret31,
        secret31,
        fc.integer(),
        ([t, xs], s1, s2, seed) => {
          fc.pre(toHex(s1) !== toHex(s2));
          const holders = xs.slice(0, t - 1);
          // Coefficients a_1..a_{t−1} of f as shamirSplit draws them.
          const bytes = seededRandom(seed).fill(new Uint8Array(32 * (t - 1)));
          const a: bigint[] = [];
          for (let j = 0; j < t - 1; j++) {
            const chunk = bytes.slice(32 * j, 32 * j + 32);
            chunk[31] = (chunk[31] as number) & 0x7f;
            bytes.set(chunk, 32 * j);
            a.push(le(chunk));
          }
          fc.pre(a.every((v) => v < P));
          const shares1 = shamirSplit(s1, t, xs, replay(bytes));
          // g(x) = Π_{h∈X} (x − h)/(0 − h) = Π (1 − x/h): coefficients by polynomial multiplication.
          let g: bigint[] = [1n];
          for (const h of holders) {
            const c = mod(-inv(BigInt(h)));
            const next = new Array<bigint>(g.length + 1).fill(0n);
            g.forEach((gi, i) => {
              next[i] = mod((next[i] as bigint) + gi);
              next[i + 1] = mod((next[i + 1] as bigint) + gi * c);
            });
            g = next;
          }
          const diff = mod(le(s2) - le(s1));
          const a2 = a.map((aj, j) => mod(aj + diff * (g[j + 1] as bigint)));
          const bytes2 = new Uint8Array(32 * (t - 1));
          a2.forEach((v, j) => bytes2.set(toLe(v), 32 * j));
          const shares2 = shamirSplit(s2, t, xs, replay(bytes2));
          for (let i = 0; i < t - 1; i++) expect(toHex(shares2[i]!.y)).toBe(toHex(shares1[i]!.y));
          expect(toHex(shares2[t - 1]!.y)).not.toBe(toHex(shares1[t - 1]!.y));
          expect(toHex(shamirCombine(shares2, t, 31))).toBe(toHex(s2));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('shares 32-byte secrets below p and 1-byte secrets', () => {
    const big = toLe(P - 1n);
    const shares = shamirSplit(big, 2, [1, 2, 3], seededRandom(1));
    expect(toHex(shamirCombine(shares.slice(1), 2, 32))).toBe(toHex(big));
    const small = shamirSplit(new Uint8Array([42]), 2, [5, 9], seededRandom(2));
    expect(Array.from(shamirCombine(small, 2, 1))).toEqual([42]);
  });

  it('detects a share inconsistent with the others when more than t are given', () => {
    fc.assert(
      fc.property(setup, ([xs, t, order]) => {
        fc.pre(xs.length > t);
        const shares = shamirSplit(new Uint8Array(31).fill(1), t, xs, seededRandom(9)).map((s) => ({ x: s.x, y: Uint8Array.from(s.y) }));
        const victim = shares[order[xs.length - 1] as number] as ShamirShare;
        victim.y = toLe(mod(le(victim.y) + 1n));
        expectCode(() => shamirCombine(order.map((i) => shares[i] as ShamirShare), t, 31), 'shamir/inconsistent-shares');
      }),
      { numRuns: 40 },
    );
  });

  it('a wrong share among exactly t is caught when the result does not fit the secret length', () => {
    const shares = shamirSplit(new Uint8Array(16).fill(3), 3, [1, 2, 3], seededRandom(4));
    // A replaced y shifts the result by λ_1·Δ, a field element that is almost never < 2^128.
    shares[0] = { x: 1, y: toLe(mod(le(shares[0]!.y) + (1n << 200n))) };
    expectCode(() => shamirCombine(shares, 3, 16), 'shamir/secret-out-of-range');
  });

  it('rejects bad input with specific codes', () => {
    const rng = seededRandom(5);
    const s = new Uint8Array(31);
    expectCode(() => shamirSplit(s, 0, [1, 2], rng), 'shamir/bad-threshold');
    expectCode(() => shamirSplit(s, 3, [1, 2], rng), 'shamir/too-few-holders');
    expectCode(() => shamirSplit(s, 2, [1, 1, 2], rng), 'shamir/duplicate-x');
    expectCode(() => shamirSplit(s, 2, [0, 1], rng), 'shamir/bad-x');
    expectCode(() => shamirSplit(s, 2, [1, 2 ** 32], rng), 'shamir/bad-x');
    expectCode(() => shamirSplit(new Uint8Array(33), 2, [1, 2], rng), 'shamir/bad-secret-length');
    expectCode(() => shamirSplit(new Uint8Array(0), 2, [1, 2], rng), 'shamir/bad-secret-length');
    expectCode(() => shamirSplit(toLe(P), 2, [1, 2], rng), 'shamir/secret-out-of-range');
    expectCode(() => shamirSplit('s' as unknown as Uint8Array, 2, [1, 2], rng), 'shamir/bad-secret');
    const shares = shamirSplit(s, 2, [1, 2, 3], rng);
    expectCode(() => shamirCombine(shares.slice(0, 1), 2, 31), 'shamir/too-few-shares');
    expectCode(() => shamirCombine([shares[0]!, shares[0]!], 2, 31), 'shamir/duplicate-x');
    expectCode(() => shamirCombine([shares[0]!, { x: 2, y: new Uint8Array(31) }], 2, 31), 'shamir/bad-share');
    expectCode(() => shamirCombine([shares[0]!, { x: 2, y: toLe(P) }], 2, 31), 'shamir/bad-share');
    expectCode(() => shamirCombine(shares, 2, 0), 'shamir/bad-secret-length');
    expectCode(() => new LagrangeBasis([]), 'shamir/too-few-shares');
    expectCode(() => new LagrangeBasis([1, 2]).combine([shares[0]!.y], 31), 'shamir/length-mismatch');
  });
});

describe('encodeShare / decodeShare', () => {
  it('round-trips as u32be x ‖ 32-byte y', () => {
    const [sh] = shamirSplit(new Uint8Array(31).fill(2), 1, [0x01020304], seededRandom(1));
    const enc = encodeShare(sh!);
    expect(enc.length).toBe(36);
    expect(Array.from(enc.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    const dec = decodeShare(enc);
    expect(dec.x).toBe(sh!.x);
    expect(toHex(dec.y)).toBe(toHex(sh!.y));
  });

  it('rejects wrong lengths, x = 0 and non-canonical y', () => {
    expectCode(() => decodeShare(new Uint8Array(35)), 'shamir/bad-share');
    expectCode(() => decodeShare(new Uint8Array(36)), 'shamir/bad-x');
    const bad = new Uint8Array(36);
    bad[3] = 1;
    bad.set(toLe(P), 4);
    expectCode(() => decodeShare(bad), 'shamir/bad-share');
  });
});

describe('robust reconstruction (shamirCombineRobust / RobustBasis)', () => {
  /** Secret, t, r ≥ t distinct x-coordinates, and which of the r shares to corrupt (at most ⌊(r − t)/2⌋) by how much. */
  const corrupted = fc
    .record({ t: fc.integer({ min: 1, max: 8 }), extra: fc.integer({ min: 0, max: 10 }) })
    .chain(({ t, extra }) => {
      const r = t + extra;
      return fc.record({
        t: fc.constant(t),
        xs: fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { minLength: r, maxLength: r }),
        wrong: fc.uniqueArray(fc.integer({ min: 0, max: r - 1 }), { maxLength: Math.floor(extra / 2) }),
        deltas: fc.array(fc.bigInt({ min: 1n, max: P - 1n }), { minLength: r, maxLength: r }),
        secret: secret31,
        seed: fc.integer(),
      });
    });

  it('with at most ⌊(r − t)/2⌋ wrong shares returns the secret and names exactly the wrong ones', () => {
    fc.assert(
      fc.property(corrupted, ({ t, xs, wrong, deltas, secret, seed }) => {
        const shares = shamirSplit(secret, t, xs, seededRandom(seed));
        for (const i of wrong) shares[i] = { x: xs[i] as number, y: toLe(mod(le(shares[i]!.y) + (deltas[i] as bigint))) };
        const got = shamirCombineRobust(shares, t, 31);
        expect(toHex(got.secret)).toBe(toHex(secret));
        expect(got.wrong).toEqual(wrong.map((i) => xs[i] as number).sort((a, b) => a - b));
      }),
      { numRuns: 150 },
    );
  });

  it('one wrong share more than it can correct is refused, not turned into a wrong secret', () => {
    fc.assert(
      fc.property(corrupted, fc.integer({ min: 0 }), ({ t, xs, deltas, secret, seed }, pick) => {
        const r = xs.length;
        fc.pre(r > t);
        const shares = shamirSplit(secret, t, xs, seededRandom(seed));
        // ⌊(r − t)/2⌋ + 1 independent wrong shares, spread over the basis and the checked shares.
        const count = Math.floor((r - t) / 2) + 1;
        const victims = new Set(Array.from({ length: count }, (_, k) => (pick + k * 3) % r));
        fc.pre(victims.size === count);
        let k = 0;
        for (const i of victims) shares[i] = { x: xs[i] as number, y: toLe(mod(le(shares[i]!.y) + (deltas[k++] as bigint))) };
        expectCode(() => shamirCombineRobust(shares, t, 31), 'shamir/too-many-wrong-shares');
      }),
      { numRuns: 100 },
    );
  });

  it('the bound is tight: ⌈(r − t)/2⌉ + 1 coordinated wrong shares on another polynomial decode to its secret', () => {
    // t = 3, r = 5: f corrects one wrong share. g = f + (X − x_0)(X − x_1) agrees with f at x_0, x_1;
    // two holders reveal g(x_3), g(x_4), so g agrees with 4 of the 5 shares and f with only 3.
    const xs = [1, 2, 3, 4, 5];
    const shares = shamirSplit(new Uint8Array(31).fill(9), 3, xs, seededRandom(11));
    const g = (x: bigint, y: bigint): bigint => mod(y + (x - 1n) * (x - 2n));
    for (const i of [3, 4]) shares[i] = { x: xs[i] as number, y: toLe(g(BigInt(xs[i] as number), le(shares[i]!.y))) };
    const got = shamirCombineRobust(shares, 3, 32);
    expect(le(got.secret)).toBe(g(0n, le(new Uint8Array(31).fill(9))));
    expect(got.wrong).toEqual([3]);
  });

  it('costs the basis once per holder set and reuses it for every secret', () => {
    const xs = [7, 3, 11, 5, 2, 8];
    const basis = new RobustBasis(xs, 3);
    expect(basis.correctable).toBe(1);
    for (let s = 0; s < 5; s++) {
      const secret = new Uint8Array(31).fill(s + 1);
      const shares = shamirSplit(secret, 3, xs, seededRandom(s));
      shares[s] = { x: xs[s] as number, y: toLe(mod(le(shares[s]!.y) + 5n)) };
      const got = basis.reconstruct(
        shares.map((sh) => sh.y),
        31,
      );
      expect(toHex(got.secret)).toBe(toHex(secret));
      expect(got.wrong).toEqual([xs[s]]);
    }
  });

  it('rejects bad input with specific codes', () => {
    const shares = shamirSplit(new Uint8Array(31).fill(4), 2, [1, 2, 3, 4], seededRandom(3));
    expectCode(() => new RobustBasis([1], 2), 'shamir/too-few-shares');
    expectCode(() => new RobustBasis([1, 1], 1), 'shamir/duplicate-x');
    expectCode(() => new RobustBasis([1, 2], 0), 'shamir/bad-threshold');
    expectCode(() => new RobustBasis([1, 2, 3], 2).reconstruct([shares[0]!.y], 31), 'shamir/length-mismatch');
    const allOnes = new Uint8Array(32).fill(0xff);
    expectCode(() => shamirCombineRobust([...shares.slice(0, 3), { x: 4, y: allOnes }], 2, 31), 'shamir/bad-share');
    expectCode(() => shamirCombineRobust(shares, 2, 33), 'shamir/bad-secret-length');
  });
});

describe('isCanonicalShareY', () => {
  it('accepts exactly the 32-byte encodings of values below p', () => {
    // Values near p and random ones with the top bytes of p, so the byte comparison meets every branch.
    const nearP = fc.bigInt({ min: P - 300n, max: 2n ** 256n - 1n });
    const pLike = fc.tuple(fc.integer({ min: 0, max: 31 }), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([from, bytes]) => {
      const y = toLe(P);
      y.set(bytes.subarray(0, from + 1));
      return le(y);
    });
    fc.assert(
      fc.property(fc.oneof(nearP, pLike, fc.bigInt({ min: 0n, max: 2n ** 256n - 1n })), (v) => {
        expect(isCanonicalShareY(toLe(v))).toBe(v < P);
      }),
      { numRuns: 500 },
    );
    expect(isCanonicalShareY(new Uint8Array(32).fill(0xff))).toBe(false);
    expect(isCanonicalShareY(toLe(P - 1n))).toBe(true);
    expect(isCanonicalShareY(new Uint8Array(31))).toBe(false);
    expect(isCanonicalShareY(new Uint8Array(33))).toBe(false);
    expect(isCanonicalShareY(Array.from(new Uint8Array(32)))).toBe(false);
  });
});
