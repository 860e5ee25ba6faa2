import { Field, FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { check } from './util/errors.js';
import type { RandomSource } from './util/random.js';

/*
 * Shamir t-of-k sharing over GF(p), p = 2^255 − 19 (the Curve25519 base field). A secret is read as
 * a little-endian integer (1..32 bytes, value < p, so any 31-byte string fits); coefficients are
 * uniform in [0, p) by rejection sampling; share i is (x_i, f(x_i)) with f(0) = secret and the
 * y-coordinate encoded as 32 little-endian bytes.
 */

/** The field modulus 2^255 − 19. */
export const SHAMIR_PRIME = 2n ** 255n - 19n;
const Fp = Field(SHAMIR_PRIME, { isLE: true });
const P = SHAMIR_PRIME;
const LOW_255 = (1n << 255n) - 1n;

/** v mod p for any v ≥ 0, by folding 2^255 ≡ 19 (cheaper than a bigint division). */
function reduce(v: bigint): bigint {
  while (v >> 255n) v = (v & LOW_255) + 19n * (v >> 255n);
  return v >= P ? v - P : v;
}

/** Largest x-coordinate accepted (participants are numbered 1..n; x = index + 1). */
export const SHAMIR_MAX_X = 0xffffffff;

/** One Shamir share: x-coordinate and y = f(x) as a 32-byte little-endian field element. */
export interface ShamirShare {
  x: number;
  y: Uint8Array;
}

function leToBigint(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number);
  return v;
}

function bigintToLe(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function checkThreshold(threshold: number): void {
  check(
    Number.isSafeInteger(threshold) && threshold >= 1,
    'shamir/bad-threshold',
    () => `threshold must be a positive integer, got ${threshold}`,
  );
}

function checkXs(xs: readonly number[]): void {
  check(Array.isArray(xs), 'shamir/bad-x', 'x-coordinates must be an array');
  const seen = new Set<number>();
  for (const x of xs) {
    check(
      Number.isSafeInteger(x) && x >= 1 && x <= SHAMIR_MAX_X,
      'shamir/bad-x',
      () => `x-coordinate must be an integer in [1, ${SHAMIR_MAX_X}], got ${x}`,
    );
    check(!seen.has(x), 'shamir/duplicate-x', () => `x-coordinate ${x} appears twice`);
    seen.add(x);
  }
}

/** One y value per holder of a basis of `holders` x-coordinates. */
function checkHolderCount(ys: unknown, holders: number): void {
  check(
    Array.isArray(ys) && ys.length === holders,
    'shamir/length-mismatch',
    () => `basis has ${holders} holders but ${Array.isArray(ys) ? ys.length : 'no'} y values were given`,
  );
}

function checkSecretLength(secretLength: number): void {
  check(
    Number.isSafeInteger(secretLength) && secretLength >= 1 && secretLength <= 32,
    'shamir/bad-secret-length',
    () => `secret length must be an integer in [1, 32] bytes, got ${secretLength}`,
  );
}

function decodeY(y: unknown, x: number): bigint {
  check(
    y instanceof Uint8Array && y.length === 32,
    'shamir/bad-share',
    () => `share y for x=${x} must be 32 bytes, got ${y instanceof Uint8Array ? y.length : typeof y}`,
  );
  const v = leToBigint(y);
  check(v < P, 'shamir/bad-share', () => `share y for x=${x} is not a canonical field element (≥ p)`);
  return v;
}

/** Little-endian bytes of p, for the byte-wise canonical check. */
const P_BYTES = bigintToLe(P, 32);

/**
 * True when `y` is a share's y-coordinate as it must travel: 32 bytes encoding a canonical field
 * element (< 2^255 − 19). A byte comparison from the top, no bigint: receivers run it on every
 * share they are handed, before keeping it.
 */
export function isCanonicalShareY(y: unknown): y is Uint8Array {
  if (!(y instanceof Uint8Array) || y.length !== 32) return false;
  for (let i = 31; i >= 0; i--) {
    const a = y[i] as number;
    const b = P_BYTES[i] as number;
    if (a !== b) return a < b;
  }
  return false;
}

/** The secret bytes of field element `v`, or `shamir/secret-out-of-range` if it needs more than `len` bytes. */
function secretBytes(v: bigint, len: number): Uint8Array {
  check(
    v < 1n << BigInt(8 * len),
    'shamir/secret-out-of-range',
    () => `reconstructed value does not fit in ${len} bytes: the shares are wrong or belong to another secret`,
  );
  return bigintToLe(v, len);
}

/** A uniform field element: 255 random bits, redrawn while ≥ p (probability 19/2^255 per draw). */
function randomFieldElement(rng: RandomSource): bigint {
  const b = new Uint8Array(32);
  for (;;) {
    rng.fill(b);
    b[31] = (b[31] as number) & 0x7f;
    const v = leToBigint(b);
    if (v < P) return v;
  }
}

/**
 * Splits `secret` (1..32 bytes, little-endian value < p) into shares at `xs` (distinct integers in
 * [1, 2^32−1]) such that any `threshold` of them reconstruct it and fewer reveal nothing. The
 * t−1 random coefficients a_1, …, a_{t−1} are drawn from `rng` in that order.
 */
export function shamirSplit(
  secret: Uint8Array,
  threshold: number,
  xs: readonly number[],
  rng: RandomSource,
): ShamirShare[] {
  check(secret instanceof Uint8Array, 'shamir/bad-secret', 'secret must be a Uint8Array');
  checkSecretLength(secret.length);
  const s = leToBigint(secret);
  check(s < P, 'shamir/secret-out-of-range', 'a 32-byte secret must be a canonical field element (< 2^255 − 19)');
  checkThreshold(threshold);
  checkXs(xs);
  check(
    xs.length >= threshold,
    'shamir/too-few-holders',
    () => `a ${threshold}-of-k sharing needs at least ${threshold} share holders, got ${xs.length}`,
  );
  // coeffs[0] = secret, coeffs[j] = a_j drawn in order j = 1..t−1.
  const coeffs: bigint[] = [s];
  for (let j = 1; j < threshold; j++) coeffs.push(randomFieldElement(rng));
  return xs.map((x) => {
    const xb = BigInt(x);
    // Horner's rule with lazy reduction: x < 2^32, so y grows by at most 33 bits a step and is
    // folded only once it passes 2^512.
    let y = 0n;
    for (let j = threshold - 1; j >= 0; j--) {
      y = y * xb + (coeffs[j] as bigint);
      if (y >> 512n) y = reduce(y);
    }
    return { x, y: bigintToLe(reduce(y), 32) };
  });
}

/**
 * d_i = Π_{j≠i} (x_i − x_j) mod p for every i (the barycentric denominators of the points).
 * Differences are below 2^32 in magnitude, so seven of them multiply exactly in a plain bigint
 * before one reduction mod p.
 */
function barycentricDenominators(xs: readonly number[]): bigint[] {
  const k = xs.length;
  const out = new Array<bigint>(k);
  for (let i = 0; i < k; i++) {
    const xi = xs[i] as number;
    let acc = 1n;
    let chunk = 1n;
    let inChunk = 0;
    let negative = false;
    for (let j = 0; j < k; j++) {
      if (j === i) continue;
      const d = xi - (xs[j] as number);
      if (d < 0) negative = !negative;
      chunk *= BigInt(d < 0 ? -d : d);
      if (++inChunk === 7) {
        acc = (acc * chunk) % P;
        chunk = 1n;
        inChunk = 0;
      }
    }
    acc = (acc * chunk) % P;
    out[i] = negative ? Fp.neg(acc) : acc;
  }
  return out;
}

/**
 * For each z in `zs` (none of them one of `xs`), the Lagrange coefficients [L_1(z), …, L_k(z)] of
 * the points `xs`, so that f(z) = Σ_i L_i(z)·f(x_i) for every f of degree < k:
 * L_i(z) = ℓ(z) / ((z − x_i)·d_i) with ℓ(z) = Π_j (z − x_j). One batched inversion for all of them.
 */
function lagrangeRows(xs: readonly number[], zs: readonly number[]): bigint[][] {
  const k = xs.length;
  const d = barycentricDenominators(xs);
  const dens: bigint[] = [];
  const ells: bigint[] = [];
  for (const z of zs) {
    let ell = 1n;
    for (let i = 0; i < k; i++) {
      const diff = z - (xs[i] as number);
      const m = diff < 0 ? P + BigInt(diff) : BigInt(diff);
      ell = (ell * m) % P;
      dens.push((m * (d[i] as bigint)) % P);
    }
    ells.push(ell);
  }
  const invs = FpInvertBatch(Fp, dens, true);
  return ells.map((ell, row) => Array.from({ length: k }, (_, i) => (ell * (invs[row * k + i] as bigint)) % P));
}

/** Σ_i row_i·v_i mod p (one reduction at the end). */
function dot(row: readonly bigint[], v: readonly bigint[]): bigint {
  let s = 0n;
  for (let i = 0; i < row.length; i++) s += (row[i] as bigint) * (v[i] as bigint);
  return s % P;
}

/**
 * Lagrange coefficients at 0 for one share-holder set, λ_i = Π_{j≠i} x_j / (x_j − x_i) mod p.
 * Computing them costs O(k²) small multiplications and one field inversion; {@link combine} is then
 * k multiplications per secret, so build one basis per holder set and reuse it for every secret.
 */
export class LagrangeBasis {
  /** The holders' x-coordinates, in the order `combine` expects their y values. */
  readonly xs: readonly number[];
  private readonly lambdas: bigint[];

  constructor(xs: readonly number[]) {
    checkXs(xs);
    check(xs.length >= 1, 'shamir/too-few-shares', 'a Lagrange basis needs at least one x-coordinate');
    this.xs = [...xs];
    this.lambdas = lagrangeRows(xs, [0])[0] as bigint[];
  }

  /** The secret whose shares at `this.xs` are `ys` (same order), as `secretLength` little-endian bytes. */
  combine(ys: readonly Uint8Array[], secretLength: number): Uint8Array {
    checkSecretLength(secretLength);
    checkHolderCount(ys, this.xs.length);
    let s = 0n;
    for (let i = 0; i < ys.length; i++) {
      s += (this.lambdas[i] as bigint) * decodeY(ys[i], this.xs[i] as number);
    }
    return secretBytes(s % P, secretLength);
  }
}

/** What {@link RobustBasis.reconstruct} found. */
export interface RobustReconstruction {
  /** The secret, as `secretLength` little-endian bytes. */
  secret: Uint8Array;
  /** x-coordinates of the shares that are not on the secret's polynomial (excluded), ascending. */
  wrong: number[];
}

/**
 * Reconstruction for one holder set of r ≥ t shares that also finds wrong shares. Guarantee: when
 * at most ⌊(r − t)/2⌋ of the r shares are wrong, `reconstruct` returns the secret and exactly the
 * wrong shares' x-coordinates. With more it throws `shamir/too-many-wrong-shares`, unless at least
 * ⌈(r − t)/2⌉ + 1 wrong shares lie on one other polynomial of degree < t together with enough
 * right ones, which no decoder can tell from the truth (for r = t: any single wrong share).
 *
 * The basis is built once per holder set: the Lagrange coefficients at 0 of the first t points
 * and, for each further point, those that evaluate the polynomial there. Checking a share then
 * costs t multiplications, so the common case (every share consistent) is one evaluation per
 * share beyond t. Only when a check fails does it run Gao's decoder (O(r²) field operations).
 */
export class RobustBasis {
  /** The holders' x-coordinates, in the order `reconstruct` expects their y values. */
  readonly xs: readonly number[];
  readonly threshold: number;
  /** Lagrange coefficients at 0 of the first t points. */
  private readonly atZero: bigint[];
  /** For each point e ≥ t, the coefficients of the first t points that evaluate at x_e. */
  private readonly atExtra: bigint[][];

  constructor(xs: readonly number[], threshold: number) {
    checkThreshold(threshold);
    checkXs(xs);
    check(
      xs.length >= threshold,
      'shamir/too-few-shares',
      () => `need at least ${threshold} x-coordinates for a ${threshold}-of-k basis, got ${xs.length}`,
    );
    this.xs = [...xs];
    this.threshold = threshold;
    const [atZero, ...atExtra] = lagrangeRows(xs.slice(0, threshold), [0, ...xs.slice(threshold)]);
    this.atZero = atZero as bigint[];
    this.atExtra = atExtra;
  }

  /** How many wrong shares `reconstruct` corrects: ⌊(r − t)/2⌋. */
  get correctable(): number {
    return Math.floor((this.xs.length - this.threshold) / 2);
  }

  /**
   * The secret whose shares at `this.xs` are `ys` (same order), and which shares are wrong.
   * Errors: `shamir/length-mismatch`, `shamir/bad-share` (not a canonical field element),
   * `shamir/too-many-wrong-shares`, `shamir/secret-out-of-range`.
   */
  reconstruct(ys: readonly Uint8Array[], secretLength: number): RobustReconstruction {
    checkSecretLength(secretLength);
    checkHolderCount(ys, this.xs.length);
    const v = ys.map((y, i) => decodeY(y, this.xs[i] as number));
    const t = this.threshold;
    if (this.atExtra.every((row, e) => dot(row, v) === v[t + e])) {
      return { secret: secretBytes(dot(this.atZero, v), secretLength), wrong: [] };
    }
    const f = gaoDecode(this.xs, v, t);
    const wrong = f ? this.xs.filter((x, i) => polyEval(f, BigInt(x)) !== v[i]).sort((a, b) => a - b) : [];
    check(
      f !== undefined && wrong.length <= this.correctable,
      'shamir/too-many-wrong-shares',
      () =>
        `the ${this.xs.length} shares at x = [${this.xs.join(',')}] are not within ${this.correctable} wrong shares of ` +
        `one polynomial of degree < ${t}: more than ${this.correctable} of them are wrong`,
    );
    return { secret: secretBytes(f[0] ?? 0n, secretLength), wrong };
  }
}

/**
 * {@link RobustBasis} for one secret: reconstructs from `shares` (at least `threshold`), the first
 * `threshold` of them as the basis, correcting up to ⌊(r − t)/2⌋ wrong shares and naming them.
 */
export function shamirCombineRobust(shares: readonly ShamirShare[], threshold: number, secretLength: number): RobustReconstruction {
  check(Array.isArray(shares), 'shamir/bad-share', 'shares must be an array');
  for (const sh of shares) check(typeof sh === 'object' && sh !== null, 'shamir/bad-share', 'a share must be an object {x, y}');
  return new RobustBasis(
    shares.map((sh) => sh.x),
    threshold,
  ).reconstruct(
    shares.map((sh) => sh.y),
    secretLength,
  );
}

/** A polynomial over GF(p): coefficients lowest degree first, no trailing zero ([] is 0). */
type Poly = bigint[];

function trim(a: Poly): Poly {
  let n = a.length;
  while (n > 0 && a[n - 1] === 0n) n--;
  a.length = n;
  return a;
}

function polyEval(a: Poly, x: bigint): bigint {
  let v = 0n;
  for (let i = a.length - 1; i >= 0; i--) v = (v * x + (a[i] as bigint)) % P;
  return v;
}

function polySub(a: Poly, b: Poly): Poly {
  const out = new Array<bigint>(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = ((a[i] ?? 0n) - (b[i] ?? 0n) + P) % P;
  return trim(out);
}

function polyMul(a: Poly, b: Poly): Poly {
  if (a.length === 0 || b.length === 0) return [];
  const out = new Array<bigint>(a.length + b.length - 1).fill(0n);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i + j] = (out[i + j] as bigint) + (a[i] as bigint) * (b[j] as bigint);
  return trim(out.map((c) => c % P));
}

/** Quotient and remainder of a / b (b ≠ 0). */
function polyDivmod(a: Poly, b: Poly): [Poly, Poly] {
  const db = b.length - 1;
  const inv = Fp.inv(b[db] as bigint);
  const r = a.slice();
  const q = new Array<bigint>(Math.max(0, a.length - db)).fill(0n);
  for (let k = a.length - 1 - db; k >= 0; k--) {
    const c = ((r[k + db] as bigint) * inv) % P;
    q[k] = c;
    if (c === 0n) continue;
    for (let j = 0; j <= db; j++) r[k + j] = ((((r[k + j] as bigint) - c * (b[j] as bigint)) % P) + P) % P;
  }
  return [trim(q), trim(r.slice(0, db))];
}

/**
 * Gao's Reed–Solomon decoder ("A new algorithm for decoding Reed-Solomon codes", 2002): the
 * polynomial f of degree < t that agrees with all but at most ⌊(r − t)/2⌋ of the r points, or
 * undefined when the algorithm finds none. g0 = Π (X − x_i), g1 interpolates all r points; the
 * extended Euclidean algorithm on (g0, g1) stops at the first remainder g = u·g0 + v·g1 of degree
 * < (r + t)/2, and f = g / v when that division is exact and deg f < t. The caller checks how
 * many points f misses.
 */
function gaoDecode(xs: readonly number[], ys: readonly bigint[], t: number): Poly | undefined {
  const r = xs.length;
  let g0: Poly = [1n];
  for (const x of xs) {
    // g0 ← (X − x)·g0
    const xb = BigInt(x);
    const next = new Array<bigint>(g0.length + 1);
    for (let i = 0; i <= g0.length; i++) next[i] = ((g0[i - 1] ?? 0n) - xb * (g0[i] ?? 0n) + xb * P) % P;
    g0 = next;
  }
  // g1 = Σ_i y_i · w_i · g0 / (X − x_i) with w_i = 1 / Π_{j≠i} (x_i − x_j).
  const w = FpInvertBatch(Fp, barycentricDenominators(xs), true);
  const acc = new Array<bigint>(r).fill(0n);
  for (let i = 0; i < r; i++) {
    const c = ((ys[i] as bigint) * (w[i] as bigint)) % P;
    if (c === 0n) continue;
    const xb = BigInt(xs[i] as number);
    // Synthetic division of the monic g0 by (X − x_i): q_{r−1} = 1, q_{k−1} = g0_k + x_i·q_k.
    let q = 1n;
    for (let k = r - 1; k >= 0; k--) {
      acc[k] = (acc[k] as bigint) + c * q;
      q = ((g0[k] as bigint) + xb * q) % P;
    }
  }
  const g1 = trim(acc.map((a) => a % P));
  let [r0, r1] = [g0, g1];
  let [v0, v1]: [Poly, Poly] = [[], [1n]];
  while (2 * (r1.length - 1) >= r + t) {
    const [q, rem] = polyDivmod(r0, r1);
    [r0, r1] = [r1, rem];
    [v0, v1] = [v1, polySub(v0, polyMul(q, v1))];
  }
  const [f, rem] = polyDivmod(r1, v1);
  return rem.length === 0 && f.length <= t ? f : undefined;
}

/**
 * Reconstructs a `secretLength`-byte secret from at least `threshold` shares. The first `threshold`
 * shares determine the polynomial; every further share is checked to lie on it (Newton form,
 * O(t²) once plus O(t) per extra share) and any disagreement throws `shamir/inconsistent-shares`.
 * Errors: `shamir/too-few-shares`, `shamir/duplicate-x`, `shamir/bad-x`, `shamir/bad-share`,
 * `shamir/secret-out-of-range` (the value does not fit in `secretLength` bytes).
 */
export function shamirCombine(shares: readonly ShamirShare[], threshold: number, secretLength: number): Uint8Array {
  check(Array.isArray(shares), 'shamir/bad-share', 'shares must be an array');
  checkThreshold(threshold);
  checkSecretLength(secretLength);
  check(
    shares.length >= threshold,
    'shamir/too-few-shares',
    () => `need at least ${threshold} shares to reconstruct, got ${shares.length}`,
  );
  for (const sh of shares) check(typeof sh === 'object' && sh !== null, 'shamir/bad-share', 'a share must be an object {x, y}');
  const xs = shares.map((sh) => sh.x);
  checkXs(xs);
  const ys = shares.map((sh) => decodeY(sh.y, sh.x));
  const t = threshold;
  if (shares.length > t) checkConsistent(xs, ys, t);
  const basis = new LagrangeBasis(xs.slice(0, t));
  return basis.combine(
    shares.slice(0, t).map((sh) => sh.y),
    secretLength,
  );
}

/** Throws unless every (xs[e], ys[e]) for e ≥ t lies on the degree < t polynomial through the first t points. */
function checkConsistent(xs: readonly number[], ys: readonly bigint[], t: number): void {
  // Newton divided differences c_0..c_{t−1} of the first t points, one batch inversion per level.
  const c = ys.slice(0, t);
  const xb = xs.map((x) => BigInt(x));
  for (let level = 1; level < t; level++) {
    const dens: bigint[] = [];
    for (let i = t - 1; i >= level; i--) dens.push(((xb[i] as bigint) - (xb[i - level] as bigint) + P) % P);
    const invs = FpInvertBatch(Fp, dens, true);
    for (let i = t - 1, k = 0; i >= level; i--, k++) {
      c[i] = ((((c[i] as bigint) - (c[i - 1] as bigint) + P) % P) * (invs[k] as bigint)) % P;
    }
  }
  for (let e = t; e < xs.length; e++) {
    const x = xb[e] as bigint;
    let v = c[t - 1] as bigint;
    for (let i = t - 2; i >= 0; i--) v = (v * ((x - (xb[i] as bigint) + P) % P) + (c[i] as bigint)) % P;
    check(
      v === ys[e],
      'shamir/inconsistent-shares',
      () => `share at x=${xs[e]} does not lie on the polynomial of the other shares`,
    );
  }
}

/** Wire form of a share: u32 big-endian x ‖ 32-byte little-endian y (36 bytes). */
export function encodeShare(share: ShamirShare): Uint8Array {
  checkXs([share.x]);
  decodeY(share.y, share.x);
  const out = new Uint8Array(36);
  new DataView(out.buffer).setUint32(0, share.x, false);
  out.set(share.y, 4);
  return out;
}

/** Inverse of {@link encodeShare}; throws `shamir/bad-share` on a wrong length or a non-canonical y. */
export function decodeShare(bytes: Uint8Array): ShamirShare {
  check(
    bytes instanceof Uint8Array && bytes.length === 36,
    'shamir/bad-share',
    () => `an encoded share is 36 bytes, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`,
  );
  const x = new DataView(bytes.buffer, bytes.byteOffset, 36).getUint32(0, false);
  checkXs([x]);
  const y = bytes.slice(4, 36);
  decodeY(y, x);
  return { x, y };
}
