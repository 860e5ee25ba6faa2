import { describe, expect, it } from 'vitest';
import { cohortSize, SimulateOptionsSchema } from '../../src/cli/simulate/options.js';
import { planSimulation } from '../../src/cli/simulate/plan.js';
import { createClientEncoder, createServerDecoder, integerNoiseParameters } from '../../src/dp/index.js';
import { gaussianSamples } from '../../src/dp/noise/gaussian.js';
import {
  POISSON_DEVIATION_MAX_MEAN,
  POISSON_MAX_MEAN,
  poissonDeviationSampler,
  poissonLogPmf,
  poissonSampler,
  samplePoisson,
  samplePoissonDeviation,
} from '../../src/dp/noise/poisson.js';
import { sampleSkellam, skellamNoise, skellamSampler } from '../../src/dp/noise/skellam.js';
import { UniformStream } from '../../src/dp/noise/uniform-stream.js';
import { logGamma } from '../../src/dp/special.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { chiSquare, poissonDeviationLaw, referencePoissonLogDensity, varianceRatio } from './goodness-of-fit.js';
import { largestConfigNoise } from './noise-range.js';
import { errorCode as codeOf } from './error-code.js';

/*
 * The Poisson and Skellam noise at large means: PTRS's acceptance test evaluates the log-pmf
 * without cancellation, and the draws are deviations from ⌊λ⌋, so the noise has the claimed
 * distribution at every mean a config can ask for (the full sweep, 10^6 draws per mean and
 * every other noise path, is test/dp/noise-exactness.slow.test.ts).
 */

/** Parameters of the `logreg` model `fedveil simulate` trains by default (784 inputs, 10 classes). */
const LOGREG_DIM = 784 * 10 + 10;

describe('decoded noise at the `fedveil simulate` defaults', () => {
  it('20 clients, Skellam: the noise in the decoded mean has the claimed variance (99% CI)', () => {
    const plan = planSimulation(SimulateOptionsSchema.parse({ clients: 20 }), LOGREG_DIM, 'decoded-noise.sqlite', 1000);
    const config = plan.dp;
    const n = cohortSize(SimulateOptionsSchema.parse({ clients: 20 }));
    const p = integerNoiseParameters(config, LOGREG_DIM);
    expect(config.mechanism).toBe('skellam');
    // Each client adds Poisson(μ) − Poisson(μ) per coordinate with μ ≈ 1e14, far above the table.
    expect(p.localSkellamMu).toBeGreaterThan(1e13);
    // n contributions of variance 2μ each in integer units, times γ² and over n².
    const claimed = (n * 2 * p.localSkellamMu * config.scale ** 2) / n ** 2;
    expect(claimed / ((config.noiseMultiplier * config.clipNorm) ** 2 / (n * config.minContributors)) - 1).toBeLessThan(1e-12);

    // Rounds of 20 encodings (updates of norm ~0.3, below the clip) summed mod 2^32 and decoded
    // by the server; the decoded mean minus the true mean is the noise (the rounding error is
    // ~1e-15 of its variance).
    const rounds = 50;
    const rng = seededRandom('decoded-noise');
    const noise = new Float64Array(rounds * LOGREG_DIM);
    for (let r = 0; r < rounds; r++) {
      const roundSeed = rng.fill(new Uint8Array(32));
      const encoder = createClientEncoder(config, LOGREG_DIM, roundSeed);
      const sum = new Uint32Array(encoder.encodedLength);
      const mean = new Float64Array(LOGREG_DIM);
      for (let c = 0; c < n; c++) {
        const update = Float32Array.from(gaussianSamples(0.3 / Math.sqrt(LOGREG_DIM), LOGREG_DIM, rng));
        for (let i = 0; i < LOGREG_DIM; i++) mean[i] = (mean[i] as number) + (update[i] as number) / n;
        const encoded = encoder.encode(update, rng);
        for (let i = 0; i < sum.length; i++) sum[i] = ((sum[i] as number) + (encoded[i] as number)) >>> 0;
      }
      const decoded = createServerDecoder(config, LOGREG_DIM, roundSeed).decode(sum, n, rng);
      for (let i = 0; i < LOGREG_DIM; i++) noise[r * LOGREG_DIM + i] = (decoded[i] as number) - (mean[i] as number);
    }
    const v = varianceRatio(noise, claimed, 0);
    expect(v.lo, `variance ratio ${v.ratio} [${v.lo}, ${v.hi}]`).toBeLessThanOrEqual(1);
    expect(v.hi, `variance ratio ${v.ratio} [${v.lo}, ${v.hi}]`).toBeGreaterThanOrEqual(1);
  });
});

describe('Poisson sampler at a large mean', () => {
  it('λ = 1e15: 2·10^5 draws of X − ⌊λ⌋ pass a chi-square test against the exact pmf', () => {
    const lambda = 1e15;
    const draw = poissonDeviationSampler(lambda);
    const u = new UniformStream(seededRandom('poisson-1e15'));
    const xs = new Float64Array(200_000);
    for (let i = 0; i < xs.length; i++) xs[i] = draw(u);
    const chi = chiSquare(xs, poissonDeviationLaw(lambda), 100);
    expect(Math.abs(chi.total - 1)).toBeLessThan(1e-9);
    expect(chi.p).toBeGreaterThan(1e-4);
    const v = varianceRatio(xs, lambda);
    expect(v.lo).toBeLessThanOrEqual(1);
    expect(v.hi).toBeGreaterThanOrEqual(1);
  });
});

describe('Poisson log-pmf (the acceptance test of PTRS)', () => {
  const largest = largestConfigNoise('skellam');

  it.each([1e9, 7.26e13, 1.0647649656234211e14, 1e15, 2 ** 53 + 2, largest])(
    'λ = %d: consecutive values differ by exactly log(λ/(k+1)), and match an independent series',
    (lambda) => {
      const f = lambda - Math.floor(lambda);
      const sd = Math.sqrt(lambda);
      for (let z = -8; z <= 8; z += 0.25) {
        const j = Math.round(z * sd);
        const here = poissonLogPmf(lambda, j);
        // log P(k+1) − log P(k) = log(λ/(k+1)) = −log1p((k + 1 − λ)/λ), k − λ = j − f.
        expect(Math.abs(poissonLogPmf(lambda, j + 1) - here + Math.log1p((j + 1 - f) / lambda))).toBeLessThan(1e-12);
        expect(Math.abs(here - referencePoissonLogDensity(lambda, j - f))).toBeLessThan(1e-12 * Math.max(1, Math.abs(here)));
      }
    },
  );

  it('agrees with the direct formula where that one is accurate (moderate λ, all k)', () => {
    for (const lambda of [10, 15.5, 300, 1e4]) {
      for (let k = 0; k < 3 * lambda + 50; k += k < 40 ? 1 : 7) {
        const direct = -lambda + k * Math.log(lambda) - logGamma(k + 1);
        expect(Math.abs(poissonLogPmf(lambda, k - Math.floor(lambda)) - direct), `λ = ${lambda}, k = ${k}`).toBeLessThan(1e-11 * Math.max(1, Math.abs(direct)));
      }
    }
    expect(poissonLogPmf(20, -21)).toBe(-Infinity);
  });
});

describe('range of the Poisson and Skellam samplers', () => {
  it('the largest Skellam mean a valid config can ask for (~4.06e16) is within the deviation samplers\' range', () => {
    const largest = largestConfigNoise('skellam');
    expect(largest).toBeGreaterThan(4e16);
    expect(largest).toBeLessThan(4.1e16);
    expect(largest).toBeLessThanOrEqual(POISSON_DEVIATION_MAX_MEAN);
    expect(skellamSampler(largest)(new UniformStream(seededRandom('largest')))).toSatisfy(Number.isSafeInteger);
  });

  it('refuses means whose draws would not be exact integers', () => {
    const u = new UniformStream(seededRandom('refuse'));
    expect(codeOf(() => poissonSampler(POISSON_MAX_MEAN))).toBeUndefined();
    expect(codeOf(() => poissonSampler(POISSON_MAX_MEAN * 1.5))).toBe('dp/bad-noise-parameter');
    expect(codeOf(() => samplePoisson(POISSON_MAX_MEAN * 1.5, u))).toBe('dp/bad-noise-parameter');
    expect(codeOf(() => poissonDeviationSampler(POISSON_DEVIATION_MAX_MEAN))).toBeUndefined();
    for (const refused of [
      () => poissonDeviationSampler(POISSON_DEVIATION_MAX_MEAN * 2),
      () => samplePoissonDeviation(POISSON_DEVIATION_MAX_MEAN * 2, u),
      () => skellamSampler(POISSON_DEVIATION_MAX_MEAN * 2),
      () => skellamNoise(POISSON_DEVIATION_MAX_MEAN * 2),
      () => sampleSkellam(POISSON_DEVIATION_MAX_MEAN * 2, u),
    ]) {
      expect(codeOf(refused)).toBe('dp/bad-noise-parameter');
    }
  });

  it('deviation draws are the Poisson draws less ⌊λ⌋, from the same uniforms; Skellam above the table is their difference', () => {
    for (const lambda of [3.5, 15, 1e9, 123456789012.75, POISSON_MAX_MEAN]) {
      const a = new UniformStream(seededRandom(`dev-${lambda}`));
      const b = new UniformStream(seededRandom(`dev-${lambda}`));
      const c = new UniformStream(seededRandom(`dev-${lambda}`));
      const deviation = poissonDeviationSampler(lambda);
      for (let i = 0; i < 2000; i++) {
        const d = deviation(a);
        expect(samplePoisson(lambda, b) - Math.floor(lambda)).toBe(d);
        expect(samplePoissonDeviation(lambda, c)).toBe(d);
      }
    }
    for (const mu of [2e8, 4e16]) {
      const a = new UniformStream(seededRandom(`sk-${mu}`));
      const b = new UniformStream(seededRandom(`sk-${mu}`));
      const draw = skellamSampler(mu);
      for (let i = 0; i < 2000; i++) expect(draw(a)).toBe(sampleSkellam(mu, b));
    }
  });
});
