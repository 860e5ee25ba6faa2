import { createCipheriv } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { check } from '../../secagg/util/errors.js';
import { utf8 } from '../../secagg/util/bytes.js';

/** HKDF info string that separates the rotation-sign stream from every other use of the round seed. */
export const ROTATION_SIGNS_INFO = 'fedveil/dp/rotation-signs/v1';

/** Smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  check(Number.isSafeInteger(n) && n >= 1, 'dp/bad-dimension', `dimension must be a positive integer, got ${n}`);
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Levels below this block size run block by block, so each block stays in cache (2^12 doubles = 32 KiB). */
const FWHT_BLOCK = 1 << 12;

/** Radix-2 butterflies of level h over x[start, start + len). */
function radix2(x: Float64Array, start: number, len: number, h: number): void {
  for (let i = start; i < start + len; i += 2 * h) {
    for (let j = i; j < i + h; j++) {
      const a = x[j] as number;
      const b = x[j + h] as number;
      x[j] = a + b;
      x[j + h] = a - b;
    }
  }
}

/** Levels h and 2h at once (radix-4 butterflies) over x[start, start + len): half the passes over memory. */
function radix4(x: Float64Array, start: number, len: number, h: number): void {
  for (let i = start; i < start + len; i += 4 * h) {
    for (let j = i; j < i + h; j++) {
      const a = x[j] as number;
      const b = x[j + h] as number;
      const c = x[j + 2 * h] as number;
      const d = x[j + 3 * h] as number;
      const ab = a + b;
      const amb = a - b;
      const cd = c + d;
      const cmd = c - d;
      x[j] = ab + cd;
      x[j + 2 * h] = ab - cd;
      x[j + h] = amb + cmd;
      x[j + 3 * h] = amb - cmd;
    }
  }
}

/** Runs levels h = from, 2·from, … below `to` over x[start, start + len), two at a time. */
function levels(x: Float64Array, start: number, len: number, from: number, to: number): void {
  let h = from;
  for (; 4 * h <= to; h *= 4) radix4(x, start, len, h);
  if (h < to) radix2(x, start, len, h);
}

/**
 * In-place fast Walsh–Hadamard transform, normalised by 1/√n so it is orthogonal and its own
 * inverse. `x.length` must be a power of two. Low levels run per cache-sized block, high levels
 * over the whole array, both with radix-4 butterflies.
 */
export function fwhtInPlace(x: Float64Array): void {
  fwhtUnnormalisedInPlace(x);
  const norm = fwhtNormalisation(x.length);
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * norm;
}

/** The factor 1/√n that makes the length-n transform orthogonal. */
export function fwhtNormalisation(n: number): number {
  return 1 / Math.sqrt(n);
}

/**
 * {@link fwhtInPlace} without its final multiplication by {@link fwhtNormalisation}: for callers
 * that fold that multiplication into their own next pass over the vector.
 */
export function fwhtUnnormalisedInPlace(x: Float64Array): void {
  const n = x.length;
  check((n & (n - 1)) === 0 && n > 0, 'dp/bad-dimension', `Hadamard length must be a power of two, got ${n}`);
  const block = Math.min(n, FWHT_BLOCK);
  for (let start = 0; start < n; start += block) levels(x, start, block, 1, block);
  if (n > block) levels(x, 0, n, block, n);
}

/**
 * The public ±1 diagonal of the randomized Hadamard rotation, `n` signs derived from the round
 * seed: key = HKDF-SHA256(ikm = seed, salt = empty, info = {@link ROTATION_SIGNS_INFO}, 32 bytes),
 * stream = AES-256-CTR(key, IV = 0) over zero bytes; sign i is -1 when bit (i mod 8) of stream
 * byte ⌊i/8⌋ (least significant bit first) is 1, else +1.
 */
export function rotationSigns(roundSeed: Uint8Array, n: number): Int8Array {
  check(roundSeed.length >= 16, 'dp/bad-round-seed', `round seed must be at least 16 bytes, got ${roundSeed.length}`);
  const key = hkdf(sha256, roundSeed, new Uint8Array(0), utf8(ROTATION_SIGNS_INFO), 32);
  const cipher = createCipheriv('aes-256-ctr', key, new Uint8Array(16));
  const bytes = cipher.update(new Uint8Array(Math.ceil(n / 8)));
  const signs = new Int8Array(n);
  for (let i = 0; i < n; i++) signs[i] = ((bytes[i >>> 3] as number) >>> (i & 7)) & 1 ? -1 : 1;
  return signs;
}

/** The randomized Hadamard rotation x ↦ H·D·x (D = diag(signs)) and its inverse y ↦ D·H·y. */
export class RandomizedHadamard {
  /** Rotated length: the input dimension padded to a power of two. */
  readonly paddedDim: number;
  private readonly signs: Int8Array;

  constructor(roundSeed: Uint8Array, dim: number) {
    this.paddedDim = nextPowerOfTwo(dim);
    this.signs = rotationSigns(roundSeed, this.paddedDim);
  }

  /** Encode: rotates `x` (length paddedDim, zero-padded by the caller) in place. */
  forwardInPlace(x: Float64Array): void {
    check(x.length === this.paddedDim, 'dp/bad-dimension', `rotation expects length ${this.paddedDim}, got ${x.length}`);
    for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * (this.signs[i] as number);
    fwhtInPlace(x);
  }

  /**
   * Encode, fused with the copy and the clip: writes D·(factor·update), zero-padded, into `out`
   * (length paddedDim) and applies the transform without its normalisation, which it returns for
   * the caller to multiply in later (x·(1/√d') then ·(1/γ), in that order, in the rounding loop).
   * Each coordinate gets the same multiplications, in the same order, as copying the update,
   * clipping it (x·factor; factor = 1 when not clipping, and x·1 = x) and {@link forwardInPlace}
   * would make — a padded coordinate becomes (0·factor)·s_i, a signed zero, as there — so the
   * result is identical bit for bit, with one pass over the vector instead of three.
   */
  forwardUnnormalisedFrom(update: Float32Array, factor: number, out: Float64Array): number {
    check(out.length === this.paddedDim && update.length <= out.length, 'dp/bad-dimension', `rotation expects length ${this.paddedDim}, got ${out.length}`);
    const signs = this.signs;
    const dim = update.length;
    for (let i = 0; i < dim; i++) out[i] = ((update[i] as number) * factor) * (signs[i] as number);
    for (let i = dim; i < out.length; i++) out[i] = (0 * factor) * (signs[i] as number);
    fwhtUnnormalisedInPlace(out);
    return fwhtNormalisation(out.length);
  }

  /** Decode: undoes {@link forwardInPlace} in place. */
  inverseInPlace(y: Float64Array): void {
    check(y.length === this.paddedDim, 'dp/bad-dimension', `rotation expects length ${this.paddedDim}, got ${y.length}`);
    fwhtInPlace(y);
    for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) * (this.signs[i] as number);
  }
}
