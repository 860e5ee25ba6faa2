import { describe, expect, it } from 'vitest';
import {
  buildReport,
  chiSquareQuantile,
  claimedProbeVariance,
  noiseProbeStatistic,
  verifyReport,
  withNoiseProbes,
  type CohortMethod,
  type DpConfig,
  type PrivacyReport,
  type RoundPrivacyEntry,
} from '../../src/dp/index.js';
import { gaussianSamples } from '../../src/dp/noise/gaussian.js';
import { seededRandom } from '../../src/secagg/util/random.js';

const skellam: DpConfig = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1 / 4096, rotation: true, noiseMultiplier: 1.1, minContributors: 8 };
const cohort: CohortMethod = { kind: 'fixed', size: 10, population: 200, secretSeed: true };
const ids = Array.from({ length: 10 }, (_, i) => i.toString(16).padStart(64, '0'));
const rounds: RoundPrivacyEntry[] = Array.from({ length: 10 }, (_, r) => ({ round: r, outcome: 'released', cohort, contributors: 10, contributorIds: ids, dim: 5000, config: skellam }));
const base = buildReport({ federationId: 'probe', delta: 1e-5, rounds });

/** The report with P probe values per round drawn as N(0, (f·σ)²), σ² the claimed variance. */
function probed(f: number, seed: string, perRound = 64): PrivacyReport {
  const sd = f * Math.sqrt(claimedProbeVariance(skellam, 10));
  const rng = seededRandom(seed);
  return withNoiseProbes(base, new Map(rounds.map((r) => [r.round, Array.from(gaussianSamples(sd, perRound, rng))])));
}

const codes = (r: unknown): string[] => verifyReport(r).map((d) => d.code);

describe('noise probe statistic', () => {
  it('chi-square quantiles match scipy.stats.chi2.ppf', () => {
    expect(chiSquareQuantile(0.05, 10)).toBeCloseTo(3.9402991361190605, 9);
    expect(chiSquareQuantile(1e-6, 10)).toBeCloseTo(0.3381260032429545, 9);
    expect(chiSquareQuantile(1e-6, 640) / 484.08945688884796).toBeCloseTo(1, 10);
    expect(chiSquareQuantile(1e-6, 2560) / 2234.150946420859).toBeCloseTo(1, 10);
  });

  it('the claimed per-value variance of the released mean: (zC)²/(t·n) distributed, (zC)²/n² central', () => {
    expect(claimedProbeVariance(skellam, 10)).toBeCloseTo(1.21 / 80, 15);
    expect(claimedProbeVariance({ ...skellam, mechanism: 'ddg' }, 16)).toBeCloseTo(1.21 / 128, 15);
    expect(claimedProbeVariance({ ...skellam, mechanism: 'central' }, 10)).toBeCloseTo(1.21 / 100, 15);
    expect(claimedProbeVariance({ ...skellam, mechanism: 'none' }, 10)).toBe(0);
  });

  it('is calibrated: at confidence 0.9 an honest sample is refuted about 10% of the time', () => {
    const rng = seededRandom('calibration');
    let alarms = 0;
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      if (noiseProbeStatistic([{ values: Array.from(gaussianSamples(2, 64, rng)), variance: 4 }], 0.9).ratioUpper < 1) alarms++;
    }
    // Binomial(2000, 0.1): sd 0.0067; six of them either side.
    expect(alarms / trials).toBeGreaterThan(0.06);
    expect(alarms / trials).toBeLessThan(0.14);
  });

  it('has power at 1e-6 with 640 values: 80% of the noise is caught every time, honest noise never', () => {
    const rng = seededRandom('power');
    let caught = 0;
    let honestAlarms = 0;
    for (let t = 0; t < 50; t++) {
      if (noiseProbeStatistic([{ values: Array.from(gaussianSamples(0.8, 640, rng)), variance: 1 }]).ratioUpper < 1) caught++;
      if (noiseProbeStatistic([{ values: Array.from(gaussianSamples(1, 640, rng)), variance: 1 }]).ratioUpper < 1) honestAlarms++;
    }
    expect(caught).toBe(50);
    expect(honestAlarms).toBe(0);
  });

  it('refuses a sample with fewer than two noised values', () => {
    expect(() => noiseProbeStatistic([{ values: [1], variance: 1 }])).toThrow(/at least 2/);
    expect(() => noiseProbeStatistic([{ values: [1, 2, 3], variance: 0 }])).toThrow(/at least 2/);
  });
});

describe('noise audit in the privacy report', () => {
  it('an honest run passes: its point estimate sits near the claim and its lower end below it', () => {
    const r = probed(1, 'honest');
    const a = r.noiseAudit!;
    expect(a.samples).toBe(640);
    expect(a.passed).toBe(true);
    expect(a.noiseFraction).toBeGreaterThan(0.9);
    expect(a.lower!).toBeLessThanOrEqual(a.claimedEpsilon!);
    expect(a.claimedEpsilon).toBe(r.epsilon);
    expect(codes(r)).toEqual([]);
  });

  it('a run with a quarter of the noise fails with report/noise-below-claim, and says the measured fraction', () => {
    const r = probed(0.25, 'quarter');
    expect(r.noiseAudit!.passed).toBe(false);
    expect(r.noiseAudit!.lower!).toBeGreaterThan(r.epsilon!);
    const d = verifyReport(r);
    expect(d.map((x) => x.code)).toEqual(['report/noise-below-claim']);
    expect(d[0]!.message).toMatch(/carry 2\d\.\d% of the claimed noise/);
  });

  it('a verdict or figure changed, or the audit dropped, is report/noise-audit-mismatch (a failure cannot be hidden)', () => {
    const r = probed(0.25, 'quarter');
    expect(codes({ ...r, noiseAudit: { ...r.noiseAudit!, passed: true } })).toEqual(['report/noise-audit-mismatch', 'report/noise-below-claim']);
    expect(codes({ ...r, noiseAudit: { ...r.noiseAudit!, noiseFraction: 1 } })).toEqual(['report/noise-audit-mismatch', 'report/noise-below-claim']);
    const { noiseAudit: _dropped, ...bare } = r;
    expect(codes(bare)).toEqual(['report/noise-audit-mismatch', 'report/noise-below-claim']);
    const honest = probed(1, 'honest');
    expect(codes({ ...base, noiseAudit: honest.noiseAudit })).toEqual(['report/noise-audit-mismatch']);
  });
});
