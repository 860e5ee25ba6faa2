import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  calibrateConfigNoise,
  calibrateNoiseMultiplier,
  epsilonFromRdp,
  poissonGaussianEvent,
  rdpCurve,
  rdpEpsilon,
  ledgerReaderEvent,
  modelObserverEvent,
  skellamRdp,
  type DpConfig,
  type DpEvent,
} from '../../src/dp/index.js';
import { errorCode as codeOf } from './error-code.js';

const eps = (q: number, sigma: number, steps: number, delta = 1e-5): number => rdpEpsilon(poissonGaussianEvent(q, sigma, steps), delta).epsilon;

function skellamEvent(mu: number, q: number, steps: number): DpEvent {
  return { kind: 'self_composed', count: steps, event: { kind: 'poisson_sampled', samplingProbability: q, event: { kind: 'skellam', mu, l1Sensitivity: 400, l2Sensitivity: 20 } } };
}

describe('RDP accountant properties', () => {
  it('ε falls as the noise multiplier grows', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.6, max: 5, noNaN: true }), fc.double({ min: 1.01, max: 2, noNaN: true }), fc.constantFrom(0.01, 0.1, 1), (s, f, q) => {
        expect(eps(q, s * f, 100)).toBeLessThanOrEqual(eps(q, s, 100) * (1 + 1e-12));
      }),
      { numRuns: 25 },
    );
  });

  it('ε rises with the number of rounds and with the sampling rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 }), (t, extra) => {
        expect(eps(0.01, 1.1, t + extra)).toBeGreaterThanOrEqual(eps(0.01, 1.1, t));
      }),
      { numRuns: 20 },
    );
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.5, noNaN: true }), fc.double({ min: 1.05, max: 2, noNaN: true }), (q, f) => {
        expect(eps(Math.min(1, q * f), 1.2, 50)).toBeGreaterThanOrEqual(eps(q, 1.2, 50));
      }),
      { numRuns: 20 },
    );
  });

  it('the Skellam accountant is monotone in noise, rounds and sampling rate', () => {
    const d = 1e-5;
    expect(rdpEpsilon(skellamEvent(800, 0.05, 100), d).epsilon).toBeLessThan(rdpEpsilon(skellamEvent(400, 0.05, 100), d).epsilon);
    expect(rdpEpsilon(skellamEvent(400, 0.05, 200), d).epsilon).toBeGreaterThan(rdpEpsilon(skellamEvent(400, 0.05, 100), d).epsilon);
    expect(rdpEpsilon(skellamEvent(400, 0.1, 100), d).epsilon).toBeGreaterThan(rdpEpsilon(skellamEvent(400, 0.05, 100), d).epsilon);
  });

  it('Skellam with large μ approaches the Gaussian with σ² = 2μ', () => {
    const l2 = 10;
    for (const mu of [1e4, 1e6, 1e8]) {
      const sigma = Math.sqrt(2 * mu) / l2; // noise multiplier of the matching Gaussian
      for (const a of [2, 8, 32]) {
        const gauss = a / (2 * sigma * sigma);
        const sk = skellamRdp(mu, l2 * l2, l2, a);
        expect(sk).toBeGreaterThanOrEqual(gauss);
        expect(sk / gauss - 1).toBeLessThan(mu >= 1e6 ? 1e-3 : 0.1);
      }
    }
    // And so do the (ε, δ) guarantees over many rounds (unsampled: the Zhu–Wang subsampling bound
    // used for Skellam is looser than the exact subsampled-Gaussian analysis, a separate effect).
    const mu = 1e8;
    const sigma = Math.sqrt(2 * mu) / 10;
    const sk: DpEvent = { kind: 'self_composed', count: 1000, event: { kind: 'skellam', mu, l1Sensitivity: 100, l2Sensitivity: 10 } };
    const ga: DpEvent = { kind: 'self_composed', count: 1000, event: { kind: 'gaussian', noiseMultiplier: sigma } };
    const orders = Array.from({ length: 63 }, (_, i) => i + 2);
    const a = rdpEpsilon(sk, 1e-5, { orders }).epsilon;
    const b = rdpEpsilon(ga, 1e-5, { orders }).epsilon;
    expect(a).toBeGreaterThanOrEqual(b);
    expect(a / b - 1).toBeLessThan(1e-3);
  });

  it('composition adds RDP curves', () => {
    const orders = [2, 4, 8];
    const e1 = poissonGaussianEvent(0.1, 1, 3);
    const e2: DpEvent = { kind: 'gaussian', noiseMultiplier: 2 };
    const c = rdpCurve({ kind: 'composed', events: [e1, e2] }, orders);
    const a = rdpCurve(e1, orders);
    const b = rdpCurve(e2, orders);
    c.forEach((v, i) => expect(v).toBeCloseTo((a[i] as number) + (b[i] as number), 12));
  });

  it('handles the degenerate events', () => {
    expect(rdpEpsilon({ kind: 'no_op' }, 1e-5).epsilon).toBe(0);
    expect(rdpEpsilon({ kind: 'non_private' }, 1e-5).epsilon).toBe(Infinity);
    expect(rdpEpsilon(poissonGaussianEvent(0, 1, 10), 1e-5).epsilon).toBe(0);
    expect(epsilonFromRdp([2, 3], [Infinity, Infinity], 1e-5)).toEqual({ epsilon: Infinity, order: 2 });
  });

  it('rejects bad inputs with specific codes', () => {
    expect(codeOf(() => rdpEpsilon({ kind: 'no_op' }, 1))).toBe('dp/bad-delta');
    expect(codeOf(() => rdpEpsilon({ kind: 'no_op' }, 0))).toBe('dp/bad-delta');
    expect(codeOf(() => rdpEpsilon({ kind: 'poisson_sampled', samplingProbability: 0.5, event: { kind: 'composed', events: [] } }, 1e-5))).toBe('dp/unsupported-event');
    expect(codeOf(() => calibrateNoiseMultiplier({ epsilon: -1, delta: 1e-5, samplingRate: 0.1, steps: 10 }))).toBe('dp/bad-epsilon');
    expect(codeOf(() => calibrateNoiseMultiplier({ epsilon: 1, delta: 1e-5, samplingRate: 1.5, steps: 10 }))).toBe('dp/bad-sampling-rate');
    expect(codeOf(() => calibrateNoiseMultiplier({ epsilon: 1, delta: 1e-5, samplingRate: 0.5, steps: 0 }))).toBe('dp/bad-steps');
  });

  it('calibration of a Skellam config reaches the target ε against ledger readers (n − 1 − c noise shares, no amplification)', () => {
    const config: DpConfig = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1 / 4096, rotation: true, noiseMultiplier: 1, minContributors: 10 };
    for (const colluders of [0, 3]) {
      const z = calibrateConfigNoise({ config, epsilon: 3, delta: 1e-5, rounds: 200, contributors: 10, colluders, dim: 1000 });
      const at = (m: number): number =>
        rdpEpsilon({ kind: 'self_composed', count: 200, event: ledgerReaderEvent({ ...config, noiseMultiplier: m }, 10, colluders, 1000) }, 1e-5).epsilon;
      expect(at(z)).toBeLessThanOrEqual(3);
      expect(at(z * (1 - 1e-6))).toBeGreaterThan(3);
    }
    // Colluders' shares do not count, so reaching the same ε takes more noise.
    const z0 = calibrateConfigNoise({ config, epsilon: 3, delta: 1e-5, rounds: 200, contributors: 10, dim: 1000 });
    const z3 = calibrateConfigNoise({ config, epsilon: 3, delta: 1e-5, rounds: 200, contributors: 10, colluders: 3, dim: 1000 });
    expect(z3).toBeGreaterThan(z0);
  });

  it('calibration against model observers uses the event that matches the draw', () => {
    const config: DpConfig = { mechanism: 'central', clipNorm: 1, bits: 32, scale: 1 / 4096, rotation: false, noiseMultiplier: 1, minContributors: 1 };
    const cohort = { kind: 'fixed', size: 10, population: 100, secretSeed: true } as const;
    const z = calibrateConfigNoise({ config, epsilon: 2, delta: 1e-5, rounds: 50, contributors: 10, dim: 100, cohort });
    const at = (m: number): number =>
      rdpEpsilon({ kind: 'self_composed', count: 50, event: modelObserverEvent({ ...config, noiseMultiplier: m }, cohort, 10, 0, 100, 'replace-one') }, 1e-5).epsilon;
    expect(at(z)).toBeLessThanOrEqual(2);
    expect(at(z * (1 - 1e-6))).toBeGreaterThan(2);
    // A public seed earns no amplification: the same noise as against ledger readers.
    const pub = calibrateConfigNoise({ config, epsilon: 2, delta: 1e-5, rounds: 50, contributors: 10, dim: 100, cohort: { ...cohort, secretSeed: false } });
    expect(pub).toBeGreaterThan(z);
    expect(pub).toBeCloseTo(calibrateConfigNoise({ config, epsilon: 2, delta: 1e-5, rounds: 50, contributors: 10, dim: 100 }), 9);
  });

  it('calibration refuses a round that leaves no noise share to protect a participant', () => {
    const config: DpConfig = { mechanism: 'ddg', clipNorm: 1, bits: 32, scale: 1 / 4096, rotation: true, noiseMultiplier: 1, minContributors: 3 };
    expect(codeOf(() => calibrateConfigNoise({ config, epsilon: 3, delta: 1e-5, rounds: 10, contributors: 3, colluders: 2, dim: 100 }))).toBe('dp/too-few-noise-shares');
  });
});
