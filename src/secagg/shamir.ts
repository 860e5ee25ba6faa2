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
    const k = xs.length;
    let numerator = 1n;
    for (const x of xs) numerator = (numerator * BigInt(x)) % P;
    // den_i = x_i · Π_{j≠i} (x_j − x_i). Differences are below 2^32 in magnitude, so seven of them
    // multiply exactly in a plain bigint before one reduction mod p.
    const dens: bigint[] = new Array<bigint>(k);
    for (let i = 0; i < k; i++) {
      const xi = xs[i] as number;
      let acc = BigInt(xi);
      let chunk = 1n;
      let inChunk = 0;
      let negative = false;
      for (let j = 0; j < k; j++) {
        if (j === i) continue;
        const d = (xs[j] as number) - xi;
        if (d < 0) negative = !negative;
        chunk *= BigInt(d < 0 ? -d : d);
        if (++inChunk === 7) {
          acc = (acc * chunk) % P;
          chunk = 1n;
          inChunk = 0;
        }
      }
      acc = (acc * chunk) % P;
      dens[i] = negative ? Fp.neg(acc) : acc;
    }
    const invs = FpInvertBatch(Fp, dens, true);
    this.lambdas = invs.map((inv) => (numerator * inv) % P);
  }

  /** The secret whose shares at `this.xs` are `ys` (same order), as `secretLength` little-endian bytes. */
  combine(ys: readonly Uint8Array[], secretLength: number): Uint8Array {
    checkSecretLength(secretLength);
    check(
      Array.isArray(ys) && ys.length === this.xs.length,
      'shamir/length-mismatch',
      () => `basis has ${this.xs.length} holders but ${Array.isArray(ys) ? ys.length : 'no'} y values were given`,
    );
    let s = 0n;
    for (let i = 0; i < ys.length; i++) {
      s += (this.lambdas[i] as bigint) * decodeY(ys[i], this.xs[i] as number);
    }
    return secretBytes(s % P, secretLength);
  }
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
