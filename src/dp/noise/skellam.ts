import type { RandomSource } from '../../secagg/util/random.js';
import type { NoiseAdder } from './noise-adder.js';
import { checkMean, poissonSampler, samplePoisson } from './poisson.js';
import { UniformStream } from './uniform-stream.js';

/**
 * One draw of the symmetric Skellam distribution Sk(mu, mu) = Poisson(mu) - Poisson(mu):
 * mean 0, variance 2·mu. Sums of independent Skellams are Skellam (the means add), which is why
 * each of t contributors adding Sk(mu/t) yields exactly Sk(mu) in the sum.
 */
export function sampleSkellam(mu: number, u: UniformStream): number {
  return samplePoisson(mu, u) - samplePoisson(mu, u);
}

/**
 * v ↦ v + Sk(mu, mu) for one coordinate, its sampler set up once; undefined when mu = 0 (no
 * noise, and no draws).
 */
export function skellamAdder(mu: number): NoiseAdder | undefined {
  checkMean(mu, 'Skellam mean');
  if (mu === 0) return undefined;
  const draw = poissonSampler(mu);
  return (v, u) => v + draw(u) - draw(u);
}

/** A function adding independent Sk(mu, mu) noise to every coordinate of a vector, its sampler set up once. */
export function skellamNoiser(mu: number): (x: Float64Array, rng: RandomSource) => void {
  const add = skellamAdder(mu);
  if (add === undefined) return () => undefined;
  return (x, rng) => {
    const u = new UniformStream(rng);
    for (let i = 0; i < x.length; i++) x[i] = add(x[i] as number, u);
  };
}

/** Adds independent Sk(mu, mu) noise to every coordinate of `x` in place. */
export function addSkellamNoise(x: Float64Array, mu: number, rng: RandomSource): void {
  skellamNoiser(mu)(x, rng);
}

/** `n` independent Sk(mu, mu) draws. */
export function skellamSamples(mu: number, n: number, rng: RandomSource): Float64Array {
  const out = new Float64Array(n);
  addSkellamNoise(out, mu, rng);
  return out;
}
