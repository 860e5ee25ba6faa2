import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/secagg/index.js';
import { drawCohort } from '../../src/server/cohort.js';
import { parseFederationConfig } from '../../src/server/config.js';
import { federationDpConfig, roundGraph } from '../../src/server/federation-plan.js';

const keys = Array.from({ length: 100 }, (_, i) => i.toString(16).padStart(64, '0'));
const seed = utf8('seed');

describe('cohort draw', () => {
  it('fixed size: deterministic per (seed, round), distinct members, varies across rounds', () => {
    const a = drawCohort(keys, { size: 10 }, seed, 3);
    expect(drawCohort(keys, { size: 10 }, seed, 3)).toEqual(a);
    expect(new Set(a.members).size).toBe(10);
    expect(a.members.every((k) => keys.includes(k))).toBe(true);
    expect(a).toMatchObject({ method: 'fixed-size', samplingRate: 0.1, population: 100 });
    expect(drawCohort(keys, { size: 10 }, seed, 4).members).not.toEqual(a.members);
    expect(drawCohort(keys, { size: 10 }, utf8('other'), 3).members).not.toEqual(a.members);
    expect(a.seedCommitment).toMatch(/^[0-9a-f]{64}$/);
  });

  it('poisson: each participant independently with the rate (mean over rounds close to q·N)', () => {
    let total = 0;
    for (let r = 0; r < 200; r++) total += drawCohort(keys, { samplingRate: 0.2 }, seed, r).members.length;
    // mean 20, sd of the mean over 200 rounds = sqrt(16/200) ≈ 0.28
    expect(total / 200).toBeGreaterThan(18.5);
    expect(total / 200).toBeLessThan(21.5);
  });
});

const base = {
  federationId: 'f',
  participants: keys.slice(0, 10),
  rounds: 20,
  cohort: { size: 10 },
  threshold: 5,
  model: { name: 'm' },
  dim: 1000,
  storage: { path: ':memory:' },
};

describe('federation plan', () => {
  it('calibrates the noise to the target ε over all rounds (worst case: threshold contributors)', () => {
    const dp = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 0.001, rotation: true, delta: 1e-5 };
    const loose = federationDpConfig(parseFederationConfig({ ...base, dp: { ...dp, targetEpsilon: 8 } }));
    const tight = federationDpConfig(parseFederationConfig({ ...base, dp: { ...dp, targetEpsilon: 2 } }));
    expect(loose.minContributors).toBe(5);
    expect(tight.noiseMultiplier).toBeGreaterThan(loose.noiseMultiplier);
    expect(loose.noiseMultiplier).toBeGreaterThan(0);
  });

  it('dp.minContributors sets the noise share and the calibration, and may not exceed the cohort', () => {
    const dp = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 0.001, rotation: true, delta: 1e-5, targetEpsilon: 4 };
    const byThreshold = federationDpConfig(parseFederationConfig({ ...base, dp }));
    const byMin = federationDpConfig(parseFederationConfig({ ...base, dp: { ...dp, minContributors: 9 } }));
    expect(byMin.minContributors).toBe(9);
    // Calibrated for t contributors per round, the noise that protects a participant is the other
    // t − 1 shares, a fraction (t − 1)/t of the variance: that part of z·C is what the ε fixes, so
    // z·sqrt((t − 1)/t) is the same for t = 5 and t = 9 (to Skellam's small non-Gaussian terms).
    expect(byMin.noiseMultiplier).toBeLessThan(byThreshold.noiseMultiplier);
    expect(byMin.noiseMultiplier * Math.sqrt(8 / 9)).toBeCloseTo(byThreshold.noiseMultiplier * Math.sqrt(4 / 5), 3);
    expect(() => parseFederationConfig({ ...base, dp: { ...dp, minContributors: 11 } })).toThrow(/dp\.minContributors: minContributors 11 exceeds the largest possible cohort/);
  });

  it('refuses a modulus the largest cohort could wrap', () => {
    expect(() =>
      federationDpConfig(parseFederationConfig({ ...base, dp: { mechanism: 'skellam', clipNorm: 1, bits: 8, scale: 0.0001, noiseMultiplier: 1 } })),
    ).toThrow(expect.objectContaining({ code: 'dp/modulus-overflow' }));
  });

  it('SecAgg+ graph for large cohorts, complete graph when the cohort is small', () => {
    const cfg = parseFederationConfig({
      ...base,
      participants: keys,
      cohort: { size: 100 },
      neighbours: { mode: 'secagg+', dropoutFraction: 0.1, corruptionFraction: 0.1 },
      dp: { mechanism: 'none', clipNorm: 1, bits: 20, scale: 0.01 },
    });
    const big = roundGraph(cfg, 100);
    expect(big.graph).toEqual({ kind: 'secagg-plus', degree: 32 });
    expect(big.threshold).toBe(17);
    // a small cohort: the configured threshold 5 is kept, the degree grows to make room
    const small = roundGraph(cfg, 6);
    expect(small.threshold).toBe(5);
    expect(small.graph.kind === 'complete' || small.graph.degree + 1 >= 5).toBe(true);
    expect(roundGraph(cfg, 5).graph).toEqual({ kind: 'complete' });
  });
});
