import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RDP_ORDERS,
  DpEventSchema,
  INTEGER_RDP_ORDERS,
  gaussianWithoutReplacementRdp,
  logForwardDifferenceBounds,
  poissonGaussianRdp,
  rdpCurve,
  rdpEpsilon,
  sampledWithoutReplacementRdp,
  skellamRdp,
  type DpEvent,
} from '../../src/dp/index.js';

// dp_accounting's own values for SampledWithoutReplacementDpEvent (provenance: test/data/PROVENANCE.md).
interface WorReference {
  orders: number[];
  curves: { populationSize: number; sampleSize: number; noiseMultiplier: number; rdp: number[] }[];
  epsilons: { populationSize: number; sampleSize: number; noiseMultiplier: number; steps: number; delta: number; epsilon: number; order: number }[];
  zeroSample: { populationSize: number; sampleSize: number; noiseMultiplier: number; orders: number[]; delta: number; epsilon: number };
}
const ref = JSON.parse(readFileSync(fileURLToPath(new URL('../data/dp_wor_reference.json', import.meta.url)), 'utf8')) as WorReference;

const wor = (population: number, sample: number, event: DpEvent): DpEvent => ({ kind: 'sampled_without_replacement', populationSize: population, sampleSize: sample, event });
const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('sampling without replacement (Wang–Balle–Kasiviswanathan 2019)', () => {
  it('matches dp_accounting 0.6.0 on its RDP curves at all default orders', () => {
    expect(ref.orders).toEqual([...DEFAULT_RDP_ORDERS]);
    expect(ref.curves.length).toBeGreaterThanOrEqual(5);
    for (const c of ref.curves) {
      const got = rdpCurve(wor(c.populationSize, c.sampleSize, { kind: 'gaussian', noiseMultiplier: c.noiseMultiplier }), ref.orders);
      got.forEach((v, i) => expect(relErr(v, c.rdp[i] as number)).toBeLessThan(1e-9));
    }
  });

  it('matches dp_accounting 0.6.0 on composed ε and the optimal order', () => {
    for (const c of ref.epsilons) {
      const event: DpEvent = { kind: 'self_composed', count: c.steps, event: wor(c.populationSize, c.sampleSize, { kind: 'gaussian', noiseMultiplier: c.noiseMultiplier }) };
      const got = rdpEpsilon(event, c.delta);
      expect(relErr(got.epsilon, c.epsilon)).toBeLessThan(1e-9);
      expect(got.order).toBe(c.order);
    }
  });

  it("a sample of 0 releases nothing (dp_accounting's test_zero_fixed_batch_sample)", () => {
    const z = ref.zeroSample;
    const event = wor(z.populationSize, z.sampleSize, { kind: 'gaussian', noiseMultiplier: z.noiseMultiplier });
    expect(rdpEpsilon(event, z.delta, { orders: z.orders }).epsilon).toBe(z.epsilon);
  });

  it('a sample of everyone is the unsampled mechanism (q → 1)', () => {
    for (const sigma of [0.7, 1.3, 4]) {
      for (const a of [1.5, 2, 7, 64]) expect(gaussianWithoutReplacementRdp(1, sigma, a)).toBe(a / (2 * sigma * sigma));
    }
    const sk: DpEvent = { kind: 'skellam', mu: 5000, l1Sensitivity: 400, l2Sensitivity: 40 };
    const all = rdpCurve(wor(50, 50, sk), INTEGER_RDP_ORDERS);
    INTEGER_RDP_ORDERS.forEach((a, i) => expect(all[i]).toBe(skellamRdp(5000, 400, 40, a)));
    // and approaching q = 1 it tends to it from below for the capped generic bound
    const near = rdpCurve(wor(1000, 999, sk), INTEGER_RDP_ORDERS);
    near.forEach((v, i) => expect(v).toBeLessThanOrEqual(all[i] as number));
  });

  it('at small q its order-2 term is 4× the Poisson-subsampled Gaussian one (the constant of Theorem 9)', () => {
    // Poisson at order 2: log(1 + q²(e^{1/σ²} − 1)); Theorem 9: log(1 + q²·min(4(e^{1/σ²} − 1), 2e^{1/σ²})).
    for (const sigma of [1.5, 2, 5]) {
      const q = 1e-4;
      const x = Math.expm1(1 / (sigma * sigma));
      expect(relErr(gaussianWithoutReplacementRdp(q, sigma, 2), Math.log1p(q * q * Math.min(4 * x, 2 * (x + 1))))).toBeLessThan(1e-9);
      expect(gaussianWithoutReplacementRdp(q, sigma, 2) / poissonGaussianRdp(q, sigma, 2)).toBeCloseTo(4, 6);
    }
  });

  it('ε grows with the sample size (fixed population) and falls with the noise', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 98 }), fc.double({ min: 0.6, max: 3, noNaN: true }), (m, sigma) => {
        const at = (size: number, s: number): number =>
          rdpEpsilon({ kind: 'self_composed', count: 20, event: wor(100, size, { kind: 'gaussian', noiseMultiplier: s }) }, 1e-5).epsilon;
        expect(at(m + 1, sigma)).toBeGreaterThanOrEqual(at(m, sigma) * (1 - 1e-12));
        expect(at(m, sigma * 1.2)).toBeLessThanOrEqual(at(m, sigma) * (1 + 1e-12));
      }),
      { numRuns: 15 },
    );
  });

  it('the generic bound for Skellam never exceeds the unsampled RDP and grows with q', () => {
    const sk: DpEvent = { kind: 'skellam', mu: 2e4, l1Sensitivity: 600, l2Sensitivity: 60 };
    let prev: Float64Array = new Float64Array(INTEGER_RDP_ORDERS.length);
    for (const m of [1, 5, 20, 60, 99]) {
      const c = rdpCurve(wor(100, m, sk), INTEGER_RDP_ORDERS);
      INTEGER_RDP_ORDERS.forEach((a, i) => {
        expect(c[i]).toBeLessThanOrEqual(skellamRdp(2e4, 600, 60, a));
        expect(c[i]).toBeGreaterThanOrEqual(prev[i] as number);
      });
      prev = c;
    }
    // Theorem 9 by hand at order 3 (q = 0.1): 1 + q²C(3,2)min(4(e^{ε2}−1), 2e^{ε2}) + q³·2e^{2ε3}.
    const eps = (a: number): number => skellamRdp(2e4, 600, 60, a);
    const q = 0.1;
    const byHand = Math.log(1 + q * q * 3 * Math.min(4 * Math.expm1(eps(2)), 2 * Math.exp(eps(2))) + q ** 3 * 2 * Math.exp(2 * eps(3))) / 2;
    expect(relErr(sampledWithoutReplacementRdp(3, q, eps), byHand)).toBeLessThan(1e-12);
  });

  it('forward differences are exact where well conditioned and upper bounds where they cancel', () => {
    // h(y) = (1 + t)^y has Δ^k h(0) = t^k exactly; the alternating sums cancel more as k grows
    // and, at t = 1e-3, fall 3k nats below their terms. The bound never drops below the truth.
    for (const [t, exactUpTo] of [[1, 10], [1e-3, 2]] as const) {
      const d = logForwardDifferenceBounds((y) => y * Math.log1p(t), 60);
      d.forEach((v, k) => {
        const truth = k * Math.log(t);
        expect(v).toBeGreaterThanOrEqual(truth);
        expect(Number.isFinite(v)).toBe(true);
        if (k <= exactUpTo) expect(Math.abs(v - truth)).toBeLessThan(1e-8);
      });
    }
  });

  it('is a strict JSON event: the sample cannot exceed the population', () => {
    expect(DpEventSchema.safeParse(wor(10, 3, { kind: 'gaussian', noiseMultiplier: 1 })).success).toBe(true);
    expect(DpEventSchema.safeParse(wor(10, 11, { kind: 'gaussian', noiseMultiplier: 1 })).success).toBe(false);
    expect(DpEventSchema.safeParse({ ...wor(10, 3, { kind: 'no_op' }), samplingProbability: 0.3 }).success).toBe(false);
  });
});
