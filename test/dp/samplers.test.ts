import { describe, expect, it } from 'vitest';
import {
  UniformStream,
  addSkellamNoise,
  discreteGaussianSamples,
  gaussianSamples,
  logGamma,
  poissonSampler,
  samplePoisson,
  sampleDiscreteGaussian,
  skellamSamples,
} from '../../src/dp/index.js';
import { seededRandom, type RandomSource } from '../../src/secagg/util/random.js';
import { FedveilError } from '../../src/secagg/util/errors.js';
import { moments } from './moments.js';

const N = 200_000;

function drawMany(n: number, draw: (u: UniformStream) => number, rng: RandomSource): Float64Array {
  const u = new UniformStream(rng);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = draw(u);
  return out;
}

describe('Poisson sampler', () => {
  // poissonSampler: CDF table up to 1e7, PTRS above; samplePoisson: inversion below 10, PTRS above.
  it.each([
    ['table', 0.05],
    ['table', 7.5],
    ['table', 400],
    ['table', 1e6],
    ['table/PTRS', 5e7],
    ['inversion', 1],
    ['inversion', 7.5],
    ['PTRS', 10],
    ['PTRS', 15],
    ['PTRS', 1e6],
  ] as const)('%s Poisson(%d) has mean and variance λ', (method, lambda) => {
    const u = new UniformStream(seededRandom(`poisson-${method}-${lambda}`));
    const draw = method.startsWith('table') ? poissonSampler(lambda) : (s: UniformStream) => samplePoisson(lambda, s);
    const xs = new Float64Array(N);
    for (let i = 0; i < N; i++) xs[i] = draw(u);
    const { mean, variance } = moments(xs);
    // 6 standard errors of the mean; variance within 3%.
    expect(Math.abs(mean - lambda)).toBeLessThan(6 * Math.sqrt(lambda / N));
    expect(Math.abs(variance / lambda - 1)).toBeLessThan(0.03);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
  });

  it.each(['table', 'PTRS'])('%s reproduces the Poisson(15) probability mass function', (method) => {
    const lambda = 15;
    const u = new UniformStream(seededRandom(`pmf-${method}`));
    const draw = method === 'table' ? poissonSampler(lambda) : (s: UniformStream) => samplePoisson(lambda, s);
    const counts = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const k = draw(u);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const k of [5, 10, 15, 20, 25]) {
      const p = Math.exp(-lambda + k * Math.log(lambda) - logGamma(k + 1));
      const se = Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs((counts.get(k) ?? 0) / N - p)).toBeLessThan(6 * se);
    }
  });
});

describe('Skellam sampler', () => {
  it.each([0.3, 5, 50, 1e4])('Sk(%d) has mean 0 and variance 2μ', (mu) => {
    const xs = skellamSamples(mu, N, seededRandom(`skellam-${mu}`));
    const { mean, variance } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(6 * Math.sqrt((2 * mu) / N));
    expect(Math.abs(variance / (2 * mu) - 1)).toBeLessThan(0.03);
  });

  it('is reproducible from a seeded source and refuses a negative mean', () => {
    expect(skellamSamples(3, 100, seededRandom(9))).toEqual(skellamSamples(3, 100, seededRandom(9)));
    expect(() => addSkellamNoise(new Float64Array(1), -1, seededRandom(1))).toThrow(FedveilError);
  });
});

describe('discrete Gaussian sampler', () => {
  // discreteGaussianSamples: table up to σ = 4096, CKS rejection above; sampleDiscreteGaussian: always CKS.
  it.each([
    ['table', 0.5],
    ['table', 3],
    ['table', 100],
    ['rejection', 5000],
    ['rejection', 0.5],
    ['rejection', 3],
    ['rejection', 100],
  ] as const)('%s N_Z(0, %d²) has mean 0 and the exact discrete variance', (method, sigma) => {
    // Exact variance of the discrete Gaussian: Σ x² e^{-x²/2σ²} / Σ e^{-x²/2σ²}.
    let num = 0;
    let den = 0;
    for (let x = -Math.ceil(40 * sigma); x <= Math.ceil(40 * sigma); x++) {
      const w = Math.exp((-x * x) / (2 * sigma * sigma));
      num += x * x * w;
      den += w;
    }
    const exactVar = num / den;
    const rng = seededRandom(`dg-${method}-${sigma}`);
    const xs = method === 'table' ? discreteGaussianSamples(sigma, N, rng) : drawMany(N, (u) => sampleDiscreteGaussian(sigma, u), rng);
    const { mean, variance } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(6 * Math.sqrt(exactVar / N));
    expect(Math.abs(variance / exactVar - 1)).toBeLessThan(0.03);
    expect(xs.every((x) => Number.isInteger(x))).toBe(true);
  });

  it.each(['table', 'rejection'])('%s matches the probability mass at 0, ±1 and 2 for σ = 1', (method) => {
    let z = 0;
    for (let x = -50; x <= 50; x++) z += Math.exp((-x * x) / 2);
    const rng = seededRandom(`dg-pmf-${method}`);
    const xs = method === 'table' ? discreteGaussianSamples(1, N, rng) : drawMany(N, (u) => sampleDiscreteGaussian(1, u), rng);
    for (const k of [0, 1, -1, 2]) {
      const p = Math.exp((-k * k) / 2) / z;
      const freq = xs.filter((x) => x === k).length / N;
      expect(Math.abs(freq - p)).toBeLessThan(6 * Math.sqrt((p * (1 - p)) / N));
    }
  });
});

describe('continuous Gaussian sampler', () => {
  it('N(0, 2.5²) has mean 0 and variance σ², odd lengths included', () => {
    const xs = gaussianSamples(2.5, N + 1, seededRandom('gauss'));
    const { mean, variance } = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(6 * Math.sqrt(6.25 / N));
    expect(Math.abs(variance / 6.25 - 1)).toBeLessThan(0.03);
    expect(xs[N]).not.toBe(0);
  });
});

describe('uniform stream', () => {
  it('produces doubles in [0, 1) with 53-bit resolution and uniform mean', () => {
    const u = new UniformStream(seededRandom('u'));
    let s = 0;
    let fine = false;
    let inRange = true;
    for (let i = 0; i < 100_000; i++) {
      const x = u.unit();
      if (!(x >= 0 && x < 1)) inRange = false;
      if ((x * 2 ** 32) % 1 !== 0) fine = true;
      s += x;
    }
    expect(inRange).toBe(true);
    expect(fine).toBe(true);
    expect(Math.abs(s / 100_000 - 0.5)).toBeLessThan(0.005);
  });
});
