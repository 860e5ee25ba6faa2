import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_ROUNDING_ATTEMPTS,
  conditionalRoundInPlace,
  createClientEncoder,
  discreteGaussianNoiser,
  integerNoiseParameters,
  parseDpConfig,
  rotationSigns,
  skellamNoiser,
  wrapModulo,
  type DpConfig,
} from '../../src/dp/index.js';
import { wrapMask } from '../../src/dp/encoding/modular.js';
import { UniformStream } from '../../src/dp/noise/uniform-stream.js';
import { FedveilError } from '../../src/secagg/util/errors.js';
import { seededRandom, type RandomSource } from '../../src/secagg/util/random.js';

/*
 * The client encoder fuses the stages of spec/dp.md §2 into few passes (clip factor and 1/γ folded
 * into the rounding loop, no copy for rounding retries, noise and wrap in one pass, a branch-free
 * rounding test). These tests pin it to a deliberately plain stage-by-stage reference: a copy,
 * clip, a textbook radix-2 Walsh–Hadamard transform, ×1/γ, conditional rounding that copies its
 * input and compares w < (v − ⌊v⌋)·2^32, the mechanisms' own in-place noisers, and wrap by
 * v − ⌊v/m⌋·m — and require identical output words (or the same error) for the same seeded source.
 */

interface Reference {
  out: Uint32Array;
  /** Rounding attempts used (> 1: conditional rounding resampled). */
  attempts: number;
}

/** Textbook in-place radix-2 fast Walsh–Hadamard transform, normalised by 1/√n afterwards. */
function referenceFwht(x: Float64Array): void {
  const n = x.length;
  for (let h = 1; h < n; h *= 2) {
    for (let i = 0; i < n; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const a = x[j] as number;
        const b = x[j + h] as number;
        x[j] = a + b;
        x[j + h] = a - b;
      }
    }
  }
  const norm = 1 / Math.sqrt(n);
  for (let i = 0; i < n; i++) x[i] = (x[i] as number) * norm;
}

/** Conditional randomized rounding of `x` in place, as first written: copy the input, branch per coordinate. */
function referenceRound(x: Float64Array, normBound: number, rng: RandomSource): number {
  const u = new UniformStream(rng);
  const bound2 = normBound * normBound;
  const input = x.slice();
  for (let attempt = 1; attempt <= MAX_ROUNDING_ATTEMPTS; attempt++) {
    let norm2 = 0;
    for (let i = 0; i < x.length; i++) {
      const v = input[i] as number;
      const f = Math.floor(v);
      const r = f + (u.uint32() < (v - f) * 4294967296 ? 1 : 0);
      x[i] = r;
      norm2 += r * r;
    }
    if (norm2 <= bound2) return attempt;
  }
  throw new FedveilError('dp/rounding-failed', 'reference rounding failed');
}

/** The encoder as a sequence of full passes, one stage each (spec/dp.md §2). */
function referenceEncode(config: DpConfig, dim: number, roundSeed: Uint8Array, update: Float32Array, rng: RandomSource): Reference {
  const cfg = parseDpConfig(config);
  const p = integerNoiseParameters(cfg, dim);
  const x = new Float64Array(p.paddedDim);
  for (let i = 0; i < dim; i++) x[i] = update[i] as number;
  // 1. clip
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] as number) * (x[i] as number);
  const norm = Math.sqrt(s);
  if (!Number.isFinite(norm)) throw new FedveilError('dp/non-finite-update', 'reference: non-finite update');
  if (norm > cfg.clipNorm) {
    const factor = (cfg.clipNorm / norm) * (1 - 1e-15);
    for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * factor;
  }
  // 2. rotate
  if (cfg.rotation) {
    const signs = rotationSigns(roundSeed, p.paddedDim);
    for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * (signs[i] as number);
    referenceFwht(x);
  }
  // 3. scale
  const inv = 1 / cfg.scale;
  for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * inv;
  // 4. conditional rounding
  const attempts = referenceRound(x, p.l2Bound, rng);
  // 5. noise
  if (cfg.mechanism === 'skellam') skellamNoiser(p.localSkellamMu)(x, rng);
  if (cfg.mechanism === 'ddg') discreteGaussianNoiser(p.localDdgSigma)(x, rng);
  // 6. wrap
  const m = 2 ** cfg.bits;
  const out = new Uint32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    out[i] = v - Math.floor(v / m) * m;
  }
  return { out, attempts };
}

/** The output words, or the error code thrown. */
function outcome<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (e) {
    return e instanceof FedveilError ? e.code : `not a FedveilError: ${String(e)}`;
  }
}

/** First index where a and b differ, or −1 (short failure messages for long vectors). */
function firstDifference(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Update shapes: spread-out values, a few large spikes, exact and signed zeros, tiny values, non-finite. */
type Shape = 'dense' | 'spiky' | 'sparse' | 'tiny' | 'nonfinite';

/** A float32 update of `dim` coordinates of roughly `magnitude` each, from a seed. */
function makeUpdate(dim: number, seed: number, magnitude: number, shape: Shape): Float32Array {
  const bytes = seededRandom(`update-${seed}`).fill(new Uint8Array(4 * dim));
  const words = new Uint32Array(bytes.buffer);
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const w = words[i] as number;
    const unit = (w / 2 ** 32) * 2 - 1;
    switch (shape) {
      case 'dense':
        out[i] = unit * magnitude;
        break;
      case 'spiky':
        out[i] = (w & 63) === 0 ? unit * magnitude * 1000 : unit * magnitude;
        break;
      case 'sparse':
        out[i] = (w & 3) === 0 ? unit * magnitude : (w & 4) === 0 ? 0 : -0;
        break;
      case 'tiny':
        out[i] = unit * 1e-30;
        break;
      case 'nonfinite':
        out[i] = i === dim >> 1 ? [NaN, Infinity, -Infinity][w % 3]! : unit * magnitude;
        break;
    }
  }
  return out;
}

const mechanismArb = fc.constantFrom<DpConfig['mechanism']>('none', 'skellam', 'ddg', 'central');
const shapeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Shape>('dense', 'spiky', 'sparse') },
  { weight: 1, arbitrary: fc.constantFrom<Shape>('tiny', 'nonfinite') },
);

const caseArb = fc.record({
  dim: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3000 })),
  mechanism: mechanismArb,
  rotation: fc.boolean(),
  bits: fc.integer({ min: 8, max: 32 }),
  // Integer step γ = m·2^-k; mantissas other than 1 make 1/γ inexact. A rounding decision depends
  // on v = x·C/γ only at the resolution of one ulp of v, so a one-ulp change (say, from multiplying
  // by factor·(1/γ) instead of by factor and then by 1/γ) flips it with probability ~ulp(v): the
  // tiny steps (v up to ~2^60, where ulp(v) >= 1 and v is the rounded integer itself) make such a
  // change visible in the output.
  scaleLog2: fc.oneof(fc.integer({ min: -16, max: 2 }), fc.integer({ min: -64, max: -30 })),
  scaleMantissa: fc.constantFrom(1, 0.7, 1 / 3, 0.123456789),
  clipNorm: fc.constantFrom(1e-3, 0.1, 1, 3, 100),
  // Updates far inside and far outside the clip ball.
  magnitude: fc.constantFrom(1e-6, 1e-3, 0.05, 1, 30),
  shape: shapeArb,
  // Integer-domain stddev of the total noise, σ = z·C/γ (z follows): Poisson tables and PTRS (μ
  // above 1e7), discrete-Gaussian tables and rejection (σ above 4096).
  sigma: fc.constantFrom(0.3, 4, 60, 3000, 2e4, 1e6),
  minContributors: fc.integer({ min: 1, max: 20 }),
  // β near 1 tightens the rounding bound so that retries happen; 0 disables conditioning.
  beta: fc.constantFrom(undefined, 0, 0.3, 0.9, 0.999, 0.999999),
  seed: fc.integer({ min: 0, max: 1e9 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function configOf(c: Case): DpConfig {
  const scale = c.scaleMantissa * 2 ** c.scaleLog2;
  return {
    mechanism: c.mechanism,
    clipNorm: c.clipNorm,
    bits: c.bits,
    scale,
    rotation: c.rotation,
    noiseMultiplier: c.mechanism === 'none' ? 0 : (c.sigma * scale) / c.clipNorm,
    minContributors: c.minContributors,
    ...(c.beta === undefined ? {} : { beta: c.beta }),
  };
}

const roundSeed = Uint8Array.from({ length: 32 }, (_, i) => 3 * i + 1);

/** Encodes `update` with the encoder and with the reference from the same seed; returns the reference's attempts. */
function expectSameEncoding(cfg: DpConfig, dim: number, update: Float32Array, seed: number): number {
  const ref = outcome(() => referenceEncode(cfg, dim, roundSeed, update, seededRandom(seed)));
  const got = outcome(() => createClientEncoder(cfg, dim, roundSeed).encode(update, seededRandom(seed)));
  if (typeof ref === 'string' || typeof got === 'string') {
    expect(got).toEqual(ref);
    return 0;
  }
  expect(firstDifference(got, ref.out)).toBe(-1);
  return ref.attempts;
}

describe('client encoder = stage-by-stage reference', () => {
  it('gives identical words for every mechanism, rotation, width, clip and seed', () => {
    const seen = { retried: 0, clipped: 0, unclipped: 0, failed: 0, total: 0 };
    fc.assert(
      fc.property(caseArb, (c) => {
        const cfg = configOf(c);
        const update = makeUpdate(c.dim, c.seed, c.magnitude, c.shape);
        let s = 0;
        update.forEach((v) => (s += v * v));
        if (Math.sqrt(s) > cfg.clipNorm) seen.clipped++;
        else seen.unclipped++;
        const attempts = expectSameEncoding(cfg, c.dim, update, c.seed);
        if (attempts > 1) seen.retried++;
        if (attempts === 0) seen.failed++;
        seen.total++;
      }),
      { numRuns: 300, seed: 20260601 },
    );
    // The property exercised both sides of the clip, conditional-rounding retries and errors.
    expect(seen.clipped).toBeGreaterThan(20);
    expect(seen.unclipped).toBeGreaterThan(20);
    expect(seen.retried).toBeGreaterThan(5);
    expect(seen.failed).toBeGreaterThan(0);
  });

  it('is identical across the transform’s cache-block boundary and for a long unrotated vector', () => {
    // d' = 8192 and 16384 run the Hadamard levels above its 4096-entry block; 70 000 spans several
    // 64 KiB keystream refills during rounding and noise.
    for (const [dim, mechanism, rotation] of [
      [5000, 'skellam', true],
      [9000, 'none', true],
      [16384, 'ddg', true],
      [70_000, 'skellam', false],
      [70_000, 'none', false],
    ] as const) {
      const cfg: DpConfig = { mechanism, clipNorm: 1, bits: 20, scale: 0.7 / 1024, rotation, noiseMultiplier: mechanism === 'none' ? 0 : 1, minContributors: 3 };
      expectSameEncoding(cfg, dim, makeUpdate(dim, dim, 0.05, 'dense'), dim);
      expectSameEncoding({ ...cfg, beta: 0.999999 }, dim, makeUpdate(dim, dim + 1, 1e-3, 'spiky'), dim + 1);
    }
  });

  it('leaves the caller’s update untouched', () => {
    const update = makeUpdate(300, 5, 1, 'dense');
    const copy = update.slice();
    for (const rotation of [false, true]) {
      createClientEncoder({ mechanism: 'skellam', clipNorm: 1, bits: 16, scale: 1 / 64, rotation, noiseMultiplier: 1, minContributors: 2 }, 300, roundSeed).encode(update, seededRandom(1));
    }
    expect(firstDifference(new Uint32Array(update.buffer), new Uint32Array(copy.buffer))).toBe(-1);
  });
});

describe('rewritten encoding stages = their first versions', () => {
  it('conditionalRoundInPlace rounds exactly as the copy-and-branch version, retries included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.5, max: 1.5, noNaN: true }),
        fc.integer(),
        (values, slack, seed) => {
          const x = Float64Array.from(values);
          let s = 0;
          x.forEach((v) => (s += v * v));
          // A bound near ‖x‖ + √d/2 sometimes needs several attempts and sometimes cannot be met.
          const bound = (Math.sqrt(s) + Math.sqrt(x.length) / 2) * slack;
          const a = x.slice();
          const b = x.slice();
          const ra = outcome(() => referenceRound(a, bound, seededRandom(seed)));
          const rb = outcome(() => conditionalRoundInPlace(b, bound, seededRandom(seed)));
          expect(typeof rb === 'string' ? rb : 'ok').toEqual(typeof ra === 'string' ? ra : 'ok');
          if (typeof ra !== 'string') expect(Array.from(b)).toEqual(Array.from(a));
        },
      ),
      { numRuns: 300, seed: 20260602 },
    );
  });

  it('wrapping with a mask equals wrapModulo on every integer a double can hold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }),
        fc.array(
          fc.oneof(
            fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
            fc.constantFrom(0, -0, 2 ** 31, -(2 ** 31), 2 ** 32, -(2 ** 32), 2 ** 32 - 1, 2 ** 53, -(2 ** 53), 2 ** 60 + 2 ** 33, -(2 ** 70)),
            fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => Math.round(v)),
          ),
          { minLength: 1, maxLength: 50 },
        ),
        (bits, values) => {
          const x = Float64Array.from(values);
          const mask = wrapMask(bits);
          const masked = Uint32Array.from(values, (v) => v & mask);
          expect(Array.from(masked)).toEqual(Array.from(wrapModulo(x, bits)));
        },
      ),
      { numRuns: 300, seed: 20260603 },
    );
  });
});
