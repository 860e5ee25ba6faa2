import { afterAll, describe, expect, it } from 'vitest';
import { discreteGaussianSampler, sampleDiscreteGaussian } from '../../src/dp/noise/discrete-gaussian.js';
import { gaussianSamples } from '../../src/dp/noise/gaussian.js';
import { poissonDeviationSampler, poissonSampler, samplePoisson } from '../../src/dp/noise/poisson.js';
import { skellamPmf, skellamSampler } from '../../src/dp/noise/skellam.js';
import { UniformStream } from '../../src/dp/noise/uniform-stream.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import {
  binnedNormalLaw,
  chiSquare,
  normalQuantile,
  poissonDeviationLaw,
  pointwiseLaw,
  referencePoissonPmf,
  varianceRatio,
  wideDiscreteGaussianLaw,
  Z99,
  type ChiSquare,
  type IntegerLaw,
  type VarianceRatio,
} from './goodness-of-fit.js';
import { largestConfigNoise } from './noise-range.js';

/*
 * Every noise path over the whole range of means and scales a config can ask for: 10^6 draws
 * each, Pearson's chi-square against exact bin probabilities (test/dp/goodness-of-fit.ts) and
 * the sample variance against the claimed one. The figures are printed as a table.
 *
 * The file makes 68 checks, so each assertion is at the family-wise 99% level (Bonferroni:
 * p > 0.01/68 for the chi-square, the claimed variance inside ratio ± 3.8·SE); the printed
 * intervals are the per-check 99% ones.
 */

const N = 1_000_000;
const CHECKS = 68;
const P_MIN = 0.01 / CHECKS;
/** z of a two-sided 1 − 0.01/CHECKS interval. */
const Z_FAMILY = -normalQuantile(0.005 / CHECKS);

/** ≈ 4.0569e16: the largest Poisson mean per side that a valid config gives one client. */
const MAX_MU = largestConfigNoise('skellam');
/** ≈ 2.8485e8: the largest per-client discrete Gaussian σ of a valid config. */
const MAX_SIGMA = largestConfigNoise('ddg');

function draw(n: number, sampler: (u: UniformStream) => number, seed: string): Float64Array {
  const u = new UniformStream(seededRandom(seed));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = sampler(u);
  return out;
}

interface Row {
  path: string;
  parameter: number;
  chi: ChiSquare | undefined;
  variance: VarianceRatio;
}

const rows: Row[] = [];

/**
 * Records and checks one path at one parameter: the chi-square of `binned` (default: the samples
 * themselves) against `law` when one is given, and the variance of the samples.
 */
function figures(path: string, parameter: number, xs: Float64Array, law: IntegerLaw | undefined, claimedVariance: number, binned = xs): void {
  const chi = law === undefined ? undefined : chiSquare(binned, law);
  const variance = varianceRatio(xs, claimedVariance);
  rows.push({ path, parameter, chi, variance });
  if (chi !== undefined) {
    expect(Math.abs(chi.total - 1), 'reference bin probabilities sum to 1').toBeLessThan(1e-9);
    expect(chi.p, `${path} ${parameter}: chi-square p`).toBeGreaterThan(P_MIN);
  }
  const half = ((variance.hi - variance.lo) / 2) * (Z_FAMILY / Z99);
  expect(Math.abs(variance.ratio - 1), `${path} ${parameter}: variance ratio ${variance.ratio}`).toBeLessThan(half);
}

afterAll(() => {
  const lines = rows.map((r) => {
    const chi = r.chi === undefined ? '—'.padStart(22) : `p = ${r.chi.p.toPrecision(3)} (${r.chi.bins} bins)`.padStart(22);
    const v = r.variance;
    return `${r.path.padEnd(28)} ${r.parameter.toPrecision(5).padStart(12)}  ${chi}  var ratio ${v.ratio.toFixed(5)} [${v.lo.toFixed(5)}, ${v.hi.toFixed(5)}]`;
  });
  console.log(`noise exactness, ${N} draws each (99% CI of the variance ratio):\n${lines.join('\n')}`);
});

describe('Poisson', () => {
  it.each([1e9, 1e11, 1e13, 1e14, 1e15, MAX_MU])('PTRS, X − ⌊λ⌋ at λ = %d: exact pmf and variance', (lambda) => {
    const xs = draw(N, poissonDeviationSampler(lambda), `poisson-${lambda}`);
    figures('Poisson PTRS (X − ⌊λ⌋)', lambda, xs, poissonDeviationLaw(lambda), lambda);
  });

  it.each([
    ['table', 0.5],
    ['table', 1e3],
    ['table', 1e7],
    ['inversion', 7.5],
    ['PTRS', 10],
    ['PTRS', 1e5],
    ['PTRS', 1e8],
  ] as const)('%s at λ = %d: exact pmf and variance', (method, lambda) => {
    const sampler = method === 'table' ? poissonSampler(lambda) : (u: UniformStream) => samplePoisson(lambda, u);
    const xs = draw(N, sampler, `poisson-${method}-${lambda}`);
    figures(`Poisson ${method}`, lambda, xs, pointwiseLaw((k) => referencePoissonPmf(lambda, k), lambda, Math.sqrt(lambda)), lambda);
  });
});

describe('Skellam', () => {
  it.each([1e-3, 0.5, 40, 1e4, 1e6, 1e8])('table at μ = %d: exact pmf and variance', (mu) => {
    const { half, pmf } = skellamPmf(mu);
    const law = pointwiseLaw((k) => (Math.abs(k) <= half ? (pmf[half + k] as number) : 0), 0, Math.sqrt(2 * mu));
    figures('Skellam table', mu, draw(N, skellamSampler(mu), `skellam-${mu}`), law, 2 * mu);
  });

  it.each([1e9, 1e11, 1e13, 1e14, 1e15, MAX_MU])('two Poisson draws at μ = %d: variance 2μ', (mu) => {
    figures('Skellam two-Poisson', mu, draw(N, skellamSampler(mu), `skellam-${mu}`), undefined, 2 * mu);
  });
});

/** N_Z(0, σ²) summed pointwise and normalised, with its exact variance. */
function narrowDiscreteGaussian(sigma: number): { law: IntegerLaw; variance: number } {
  const half = Math.ceil(40 * sigma + 10);
  let z = 0;
  let m2 = 0;
  for (let x = -half; x <= half; x++) {
    const w = Math.exp((-x * x) / (2 * sigma * sigma));
    z += w;
    m2 += x * x * w;
  }
  return { law: pointwiseLaw((k) => Math.exp((-k * k) / (2 * sigma * sigma)) / z, 0, sigma, half), variance: m2 / z };
}

describe('discrete Gaussian', () => {
  it.each([
    ['table', 0.5],
    ['table', 3],
    ['table', 100],
    ['table', 4096],
    ['rejection', 0.5],
    ['rejection', 5000],
  ] as const)('%s at σ = %d: exact pmf and variance', (method, sigma) => {
    const { law, variance } = narrowDiscreteGaussian(sigma);
    const sampler = method === 'table' ? discreteGaussianSampler(sigma) : (u: UniformStream) => sampleDiscreteGaussian(sigma, u);
    figures(`discrete Gaussian ${method}`, sigma, draw(N, sampler, `dg-${method}-${sigma}`), law, variance);
  });

  // 1.46e7: the per-client σ of `fedveil simulate --dp ddg` with 20 clients.
  it.each([1e5, 1.46e7, MAX_SIGMA])('rejection at σ = %d: exact pmf and variance', (sigma) => {
    // For σ >= 1e4 the variance is σ² and the bin masses are normal ones to double precision.
    figures('discrete Gaussian rejection', sigma, draw(N, discreteGaussianSampler(sigma), `dg-${sigma}`), wideDiscreteGaussianLaw(sigma), sigma * sigma);
  });
});

describe('central Gaussian', () => {
  it.each([1e-6, 1, 1e6])('Box–Muller at σ = %d: normal bins and variance', (sigma) => {
    const xs = gaussianSamples(sigma, N, seededRandom(`gauss-${sigma}`));
    const binned = xs.map((x) => Math.floor((x * 50) / sigma));
    figures('central Gaussian', sigma, xs, binnedNormalLaw(), sigma * sigma, binned);
  });
});
