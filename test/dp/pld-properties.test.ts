import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrateConfigNoise, pldEpsilon, pldSupports, poissonGaussianEvent, rdpEpsilon, type DpConfig, type DpEvent } from '../../src/dp/index.js';
import { convolve } from '../../src/dp/accountant/pld/fft.js';
import { composePmfs, pmfDeltaForEpsilon, selfComposePmf, truncateTails, type LossPmf } from '../../src/dp/accountant/pld/pmf.js';
import { errorCode } from './error-code.js';

// A coarse grid keeps each evaluation cheap; monotonicity holds on every grid.
const D = 1e-3;
const eps = (q: number, sigma: number, steps: number, delta = 1e-5): number => pldEpsilon(poissonGaussianEvent(q, sigma, steps), delta, { valueDiscretization: D });
const TOL = 1 + 1e-9;

describe('PLD accountant properties', () => {
  it('ε grows with the number of rounds', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.7, max: 4, noNaN: true }), fc.constantFrom(0.01, 0.1, 0.5, 1), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), (sigma, q, t, extra) => {
        expect(eps(q, sigma, t)).toBeLessThanOrEqual(eps(q, sigma, t + extra) * TOL);
      }),
      { numRuns: 12 },
    );
  });

  it('ε falls as the noise grows', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.7, max: 4, noNaN: true }), fc.double({ min: 1.01, max: 2, noNaN: true }), fc.constantFrom(0.01, 0.1, 1), (sigma, f, q) => {
        expect(eps(q, sigma * f, 50)).toBeLessThanOrEqual(eps(q, sigma, 50) * TOL);
      }),
      { numRuns: 12 },
    );
  });

  it('ε grows with the sampling probability', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.7, max: 4, noNaN: true }), fc.double({ min: 0.001, max: 0.5, noNaN: true }), fc.double({ min: 1.05, max: 2, noNaN: true }), (sigma, q, f) => {
        expect(eps(q, sigma, 50)).toBeLessThanOrEqual(eps(Math.min(1, q * f), sigma, 50) * TOL);
      }),
      { numRuns: 12 },
    );
  });

  it('is tighter than RDP on the Poisson-sampled Gaussian (the reason it exists)', () => {
    for (const [q, sigma, steps] of [[0.01, 1, 1000], [0.1, 1.1, 100], [1, 2, 10]] as const) {
      expect(eps(q, sigma, steps)).toBeLessThan(rdpEpsilon(poissonGaussianEvent(q, sigma, steps), 1e-5).epsilon);
    }
  });

  it('sampling without replacement: everyone sampled is the plain Gaussian; fewer sampled spend less; ε grows with the fraction', () => {
    const wor = (m: number, n: number, sigma: number, steps: number): number =>
      pldEpsilon({ kind: 'self_composed', count: steps, event: { kind: 'sampled_without_replacement', populationSize: n, sampleSize: m, event: { kind: 'gaussian', noiseMultiplier: sigma } } }, 1e-5, { valueDiscretization: D });
    const plain = pldEpsilon({ kind: 'self_composed', count: 20, event: { kind: 'gaussian', noiseMultiplier: 2 } }, 1e-5, { valueDiscretization: D });
    expect(wor(100, 100, 2, 20)).toBeCloseTo(plain, 12);
    expect(wor(10, 100, 2, 20)).toBeLessThan(wor(20, 100, 2, 20));
    expect(wor(20, 100, 2, 20)).toBeLessThan(plain);
    // Sampling nobody releases nothing.
    expect(wor(0, 100, 2, 20)).toBe(0);
  });

  it('a one-coordinate Skellam or discrete Gaussian of large variance spends what the Gaussian of that variance does, and never less', () => {
    const gauss = pldEpsilon({ kind: 'self_composed', count: 5, event: { kind: 'gaussian', noiseMultiplier: 30 / 3 } }, 1e-5, { valueDiscretization: D });
    // Sk(μ) has variance 2μ: stddev 30 against sensitivity 3.
    const sk = pldEpsilon({ kind: 'self_composed', count: 5, event: { kind: 'skellam', mu: 450, l1Sensitivity: 3, l2Sensitivity: 3 } }, 1e-5, { valueDiscretization: D });
    const ddg = pldEpsilon(
      { kind: 'self_composed', count: 5, event: { kind: 'distributed_discrete_gaussian', localStddev: 30 / Math.sqrt(4), contributors: 4, l1Sensitivity: 3, l2Sensitivity: 3, dim: 1 } },
      1e-5,
      { valueDiscretization: D },
    );
    expect(Math.abs(sk - gauss) / gauss).toBeLessThan(0.02);
    expect(Math.abs(ddg - gauss) / gauss).toBeLessThan(0.02);
    // A unit-sensitivity Poisson-subsampled Skellam spends less than the unsampled one.
    const skOne = (q: number): number => pldEpsilon({ kind: 'self_composed', count: 10, event: { kind: 'poisson_sampled', samplingProbability: q, event: { kind: 'skellam', mu: 2, l1Sensitivity: 1, l2Sensitivity: 1 } } }, 1e-5, { valueDiscretization: D });
    expect(skOne(0.1)).toBeLessThan(skOne(1));
  });

  it('refuses the distributed noises of a d-dimensional update with dp/pld-unsupported-event', () => {
    const skellam: DpEvent = { kind: 'skellam', mu: 1e6, l1Sensitivity: 4000 * 30, l2Sensitivity: 4000 };
    const ddg: DpEvent = { kind: 'distributed_discrete_gaussian', localStddev: 100, contributors: 10, l1Sensitivity: 10, l2Sensitivity: 5, dim: 8 };
    for (const e of [skellam, ddg, { kind: 'poisson_sampled', samplingProbability: 0.5, event: skellam } as DpEvent]) {
      expect(pldSupports(e)).toBe(false);
      expect(errorCode(() => pldEpsilon(e, 1e-5))).toBe('dp/pld-unsupported-event');
    }
    const config: DpConfig = { mechanism: 'skellam', clipNorm: 1, noiseMultiplier: 1, bits: 32, scale: 1 / 4096, rotation: true, minContributors: 10 };
    expect(errorCode(() => calibrateConfigNoise({ config, epsilon: 8, delta: 1e-5, rounds: 10, contributors: 10, dim: 100, accountant: 'pld' }))).toBe('dp/pld-unsupported-event');
  });

  it('a non-private event has unbounded ε, and ε(δ) is refused outside 0 < δ < 1', () => {
    expect(pldEpsilon({ kind: 'composed', events: [{ kind: 'non_private' }, { kind: 'gaussian', noiseMultiplier: 1 }] }, 1e-5)).toBe(Infinity);
    expect(errorCode(() => pldEpsilon({ kind: 'gaussian', noiseMultiplier: 1 }, 0))).toBe('dp/bad-delta');
  });
});

describe('PLD building blocks', () => {
  it('the FFT convolution equals the direct one', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 200, maxLength: 600 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 200, maxLength: 600 }), (a, b) => {
        const x = Float64Array.from(a);
        const y = Float64Array.from(b);
        const fast = convolve(x, y);
        for (let k = 0; k < fast.length; k += 37) {
          let s = 0;
          for (let i = Math.max(0, k - y.length + 1); i <= Math.min(k, x.length - 1); i++) s += (x[i] as number) * (y[k - i] as number);
          expect(Math.abs((fast[k] as number) - s)).toBeLessThan(1e-9 * Math.max(1, s));
        }
      }),
      { numRuns: 10 },
    );
  });

  it('cutting tails moves the low tail up to the first kept loss and the high tail to +∞, never more than asked', () => {
    const probs = Float64Array.of(1e-17, 2e-17, 0.5, 0.5 - 4e-17, 1e-17);
    const t = truncateTails(probs.slice(), 1e-16);
    expect(t.offset).toBe(2);
    expect(t.probs[0]).toBeCloseTo(0.5 + 3e-17, 20);
    expect(t.toInfinity).toBeCloseTo(1e-17, 25);
  });

  it('self-composition by one transform agrees with repeated composition and only raises δ', () => {
    const pmf: LossPmf = { discretization: 0.01, lowerLoss: -20, probs: Float64Array.from({ length: 61 }, (_, i) => Math.exp(-((i - 25) ** 2) / 50)), infinityMass: 1e-6 };
    const total = pmf.probs.reduce((a, b) => a + b, 0);
    for (let i = 0; i < pmf.probs.length; i++) pmf.probs[i] = ((pmf.probs[i] as number) * (1 - 1e-6)) / total;
    let slow = pmf;
    for (let i = 1; i < 8; i++) slow = composePmfs(slow, pmf, 0);
    const fast = selfComposePmf(pmf, 8);
    for (const e of [0, 0.1, 0.3, 1]) {
      const a = pmfDeltaForEpsilon(fast, e);
      const b = pmfDeltaForEpsilon(slow, e);
      expect(a).toBeGreaterThanOrEqual(b - 1e-14);
      expect(a - b).toBeLessThan(1e-12);
    }
  });
});
