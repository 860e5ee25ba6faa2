import { check } from '../../secagg/util/errors.js';
import type { RandomSource } from '../../secagg/util/random.js';
import { cdfTableSampler } from './cdf-table.js';
import { perCoordinateNoise, type IntegerNoise } from './integer-noise.js';
import { UniformStream } from './uniform-stream.js';

/**
 * One draw of the discrete Gaussian N_Z(0, sigma²): P(x) ∝ exp(-x²/(2σ²)) on the integers.
 *
 * Canonne, Kamath, Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS 2020),
 * Algorithm 3: propose from the discrete Laplace with scale t = floor(σ) + 1 and accept with
 * probability exp(-(|Z| - σ²/t)² / (2σ²)). The discrete Laplace magnitude is drawn as
 * floor(t·E) with E ~ Exp(1) (P(floor(tE) >= k) = e^{-k/t}, the same geometric law the paper
 * builds from Bernoulli(exp(-1/t)) trials); the sign is uniform and a negative zero is rejected,
 * exactly as in the paper. The Bernoulli(exp(-γ)) tests use a 53-bit uniform, so the sampler is
 * exact up to double precision rather than in exact rational arithmetic. Expected iterations
 * are below 2 for every σ.
 */
export function sampleDiscreteGaussian(sigma: number, u: UniformStream): number {
  if (sigma === 0) return 0;
  const t = Math.floor(sigma) + 1;
  const sigma2 = sigma * sigma;
  const shift = sigma2 / t;
  for (;;) {
    const magnitude = Math.floor(-t * Math.log(u.unitPositive()));
    const negative = (u.uint32() & 1) === 1;
    if (negative && magnitude === 0) continue;
    const d = magnitude - shift;
    if (u.unit() < Math.exp((-d * d) / (2 * sigma2))) return negative ? -magnitude : magnitude;
  }
}

/** Up to this σ `discreteGaussianSampler` inverts a table over ±40σ (≤ ~330k entries); above, CKS rejection. */
export const DGAUSS_TABLE_MAX_SIGMA = 4096;

/**
 * An N_Z(0, sigma²) sampler with its set-up done once. For σ <= {@link DGAUSS_TABLE_MAX_SIGMA} it
 * inverts the CDF of exp(-x²/(2σ²)) over |x| <= 40σ + 10 (outside, the mass is below e^-800),
 * one uniform per draw; above, {@link sampleDiscreteGaussian}.
 */
export function discreteGaussianSampler(sigma: number): (u: UniformStream) => number {
  check(Number.isFinite(sigma) && sigma >= 0, 'dp/bad-noise-parameter', `discrete Gaussian sigma must be a finite number >= 0, got ${sigma}`);
  if (sigma === 0) return () => 0;
  if (sigma > DGAUSS_TABLE_MAX_SIGMA) return (u) => sampleDiscreteGaussian(sigma, u);
  const half = Math.ceil(40 * sigma + 10);
  const pmf = new Float64Array(2 * half + 1);
  const s2 = 2 * sigma * sigma;
  for (let i = 0; i < pmf.length; i++) {
    const x = i - half;
    pmf[i] = Math.exp((-x * x) / s2);
  }
  return cdfTableSampler(-half, pmf);
}

/** N_Z(0, sigma²) noise for whole vectors, its sampler set up once; undefined when sigma = 0 (no noise, and no draws). */
export function discreteGaussianNoise(sigma: number): IntegerNoise | undefined {
  const draw = discreteGaussianSampler(sigma);
  if (sigma === 0) return undefined;
  return perCoordinateNoise(draw);
}

/** A function adding independent N_Z(0, sigma²) noise to every coordinate of a vector, its sampler set up once. */
export function discreteGaussianNoiser(sigma: number): (x: Float64Array, rng: RandomSource) => void {
  const noise = discreteGaussianNoise(sigma);
  if (noise === undefined) return () => undefined;
  return (x, rng) => noise.addInPlace(x, new UniformStream(rng));
}

/** Adds independent N_Z(0, sigma²) noise to every coordinate of `x` in place. */
export function addDiscreteGaussianNoise(x: Float64Array, sigma: number, rng: RandomSource): void {
  discreteGaussianNoiser(sigma)(x, rng);
}

/** `n` independent N_Z(0, sigma²) draws. */
export function discreteGaussianSamples(sigma: number, n: number, rng: RandomSource): Float64Array {
  const out = new Float64Array(n);
  addDiscreteGaussianNoise(out, sigma, rng);
  return out;
}
