import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrateNoiseMultiplier, pldEpsilon, poissonGaussianEvent, type DpEvent } from '../../src/dp/index.js';
import { normalCdf } from '../../src/dp/accountant/pld/gaussian.js';

// Reference values computed with Google's dp_accounting (provenance: test/data/PROVENANCE.md).
const oraclePath = fileURLToPath(new URL('../data/dp_reference.json', import.meta.url));
interface OracleCase {
  input: Record<string, unknown> & { id: string; mechanism: string };
  expected: Record<string, Record<string, unknown> | undefined>;
}
const oracle = JSON.parse(readFileSync(oraclePath, 'utf8')) as { cases: OracleCase[] };

function num(o: Record<string, unknown> | undefined, k: string): number {
  const v = o?.[k];
  if (typeof v !== 'number') throw new Error(`oracle field ${k} is not a number`);
  return v;
}

/** The event dp_accounting's PLDAccountant composed for a case. */
export function oracleEvent(c: OracleCase): DpEvent {
  const steps = num(c.input, 'steps');
  const sigma = num(c.input, 'sigma');
  if (c.input.mechanism === 'gaussian') return { kind: 'self_composed', count: steps, event: { kind: 'gaussian', noiseMultiplier: sigma } };
  return poissonGaussianEvent(num(c.input, 'q'), sigma, steps);
}

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
const pldCases = oracle.cases.filter((c) => c.expected.dp_accounting_pld !== undefined);
const calibrationCases = oracle.cases.filter((c) => c.expected.dp_accounting_pld_calibration !== undefined);
const exactCases = oracle.cases.filter((c) => c.expected.exact_gaussian !== undefined);

/**
 * δ(ε) of the Gaussian mechanism with sensitivity / σ = μ, exactly (Balle & Wang 2018, Theorem 8):
 * Φ(μ/2 − ε/μ) − e^ε Φ(−μ/2 − ε/μ). T runs of it are one run with μ√T.
 */
function analyticGaussianDelta(mu: number, eps: number): number {
  return normalCdf(mu / 2 - eps / mu) - Math.exp(eps) * normalCdf(-mu / 2 - eps / mu);
}

/** The exact ε of T runs of the Gaussian of noise multiplier σ at δ, by bisection on the exact δ(ε). */
export function analyticGaussianEpsilon(sigma: number, steps: number, delta: number): number {
  const mu = Math.sqrt(steps) / sigma;
  if (analyticGaussianDelta(mu, 0) <= delta) return 0;
  let lo = 0;
  let hi = 1;
  while (analyticGaussianDelta(mu, hi) > delta) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (analyticGaussianDelta(mu, mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

describe('PLD accountant against dp_accounting (oracle)', () => {
  it('has every reference family it is tested on', () => {
    expect(pldCases.length).toBeGreaterThanOrEqual(20);
    expect(calibrationCases.length).toBeGreaterThanOrEqual(2);
    expect(exactCases.length).toBeGreaterThanOrEqual(4);
  });

  it.each(pldCases.map((c) => [c.input.id, c] as const))('%s: ε on the 1e-4 grid agrees to 1e-3 relative', (_id, c) => {
    const want = c.expected.dp_accounting_pld;
    expect(num(want, 'value_discretization_interval')).toBe(1e-4);
    expect(relErr(pldEpsilon(oracleEvent(c), num(c.input, 'delta')), num(want, 'eps'))).toBeLessThan(1e-3);
  });

  // The full set of 1e-5 cases is test/dp/pld-oracle-fine.slow.test.ts; these are the quick ones,
  // among them P12, where the two grids differ by 2%, so the grid really is 1e-5.
  it.each(pldCases.filter((c) => ['P12', 'P13', 'P01'].includes(c.input.id)).map((c) => [c.input.id, c] as const))(
    '%s: ε on the 1e-5 grid agrees with dp_accounting_pld_fine to 1e-3 relative',
    (_id, c) => {
      const want = c.expected.dp_accounting_pld_fine;
      expect(num(want, 'value_discretization_interval')).toBe(1e-5);
      expect(relErr(pldEpsilon(oracleEvent(c), num(c.input, 'delta'), { valueDiscretization: 1e-5 }), num(want, 'eps'))).toBeLessThan(1e-3);
    },
  );

  it.each(calibrationCases.map((c) => [c.input.id, c] as const))('%s: PLD-calibrated noise multiplier agrees to 1e-3 and reaches the target', (_id, c) => {
    const want = c.expected.dp_accounting_pld_calibration;
    const delta = num(c.input, 'delta');
    const target = num(c.input, 'target_epsilon');
    const sigma = calibrateNoiseMultiplier({ epsilon: target, delta, samplingRate: num(c.input, 'q'), steps: num(c.input, 'steps'), accountant: 'pld' });
    expect(relErr(sigma, num(want, 'sigma'))).toBeLessThan(1e-3);
    expect(pldEpsilon(poissonGaussianEvent(num(c.input, 'q'), sigma, num(c.input, 'steps')), delta)).toBeLessThanOrEqual(target);
  });
});

describe('PLD accountant against the exact Gaussian (Balle & Wang 2018)', () => {
  it('reproduces the reference exact ε with the formula the test uses', () => {
    for (const c of exactCases) {
      const sigma = num(c.input, 'sigma');
      expect(relErr(analyticGaussianEpsilon(sigma, num(c.input, 'steps'), num(c.input, 'delta')), num(c.expected.exact_gaussian, 'eps'))).toBeLessThan(1e-9);
    }
  });

  it.each(exactCases.map((c) => [c.input.id, c] as const))('%s: PLD ε is never below the exact ε, and within 1e-6 of it', (_id, c) => {
    const exact = num(c.expected.exact_gaussian, 'eps');
    const pld = pldEpsilon(oracleEvent(c), num(c.input, 'delta'));
    expect(pld).toBeGreaterThanOrEqual(exact);
    expect(relErr(pld, exact)).toBeLessThan(1e-6);
  });

  it('is never below the exact ε for any noise, rounds and δ (q = 1)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 20, noNaN: true }), fc.integer({ min: 1, max: 200 }), fc.constantFrom(1e-3, 1e-5, 1e-7), fc.boolean(), (sigma, steps, delta, sampled) => {
        const event: DpEvent = sampled ? poissonGaussianEvent(1, sigma, steps) : { kind: 'self_composed', count: steps, event: { kind: 'gaussian', noiseMultiplier: sigma } };
        const exact = analyticGaussianEpsilon(sigma, steps, delta);
        const pld = pldEpsilon(event, delta, { valueDiscretization: 1e-3 });
        expect(pld).toBeGreaterThanOrEqual(exact);
        expect(pld - exact).toBeLessThan(1e-2 * Math.max(1, exact));
      }),
      { numRuns: 15 },
    );
  });
});
