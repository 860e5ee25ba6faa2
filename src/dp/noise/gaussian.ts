import { check } from '../../secagg/util/errors.js';
import type { RandomSource } from '../../secagg/util/random.js';
import { UniformStream } from './uniform-stream.js';

/**
 * Adds independent N(0, sigma²) noise to every coordinate of `x` in place, for central DP (the
 * coordinator adds it after unmasking). Box–Muller on 53-bit uniforms from a cryptographic
 * stream; both outputs of each transform are used.
 */
export function addGaussianNoise(x: Float64Array | Float32Array, sigma: number, rng: RandomSource): void {
  check(Number.isFinite(sigma) && sigma >= 0, 'dp/bad-noise-parameter', `Gaussian sigma must be a finite number >= 0, got ${sigma}`);
  if (sigma === 0) return;
  const u = new UniformStream(rng);
  for (let i = 0; i < x.length; i += 2) {
    const r = sigma * Math.sqrt(-2 * Math.log(u.unitPositive()));
    const theta = 2 * Math.PI * u.unit();
    x[i] = (x[i] as number) + r * Math.cos(theta);
    if (i + 1 < x.length) x[i + 1] = (x[i + 1] as number) + r * Math.sin(theta);
  }
}

/** `n` independent N(0, sigma²) draws. */
export function gaussianSamples(sigma: number, n: number, rng: RandomSource): Float64Array {
  const out = new Float64Array(n);
  addGaussianNoise(out, sigma, rng);
  return out;
}
