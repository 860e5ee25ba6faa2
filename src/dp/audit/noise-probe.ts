import { check } from '../../secagg/util/errors.js';
import type { DpConfig } from '../config.js';
import { isCharged, ledgerReaderEpsilon, type NoiseAudit, type PrivacyReport, type RoundPrivacyEntry } from '../report.js';
import { logGamma, quantileByBisection } from '../special.js';

/**
 * The noise probe: every participant appends P coordinates whose input is exactly 0 after the rest
 * of its vector, so that what a round releases there is the aggregate noise alone. The released
 * values are compared with the variance the round's mechanism claims; a variance significantly
 * below it refutes the claimed ε, whatever the training signal does elsewhere. Pure.
 */

/** Default one-sided confidence of the noise audit: a false alarm has probability at most 1e-6. */
export const NOISE_PROBE_CONFIDENCE = 1 - 1e-6;

/**
 * Regularised lower incomplete gamma function P(a, x) (series below a + 1, Lentz's continued
 * fraction for Q above; Numerical Recipes §6.2), accurate far into the lower tail.
 */
export function regularizedGammaP(a: number, x: number): number {
  check(a > 0 && Number.isFinite(a), 'dp/bad-audit', `gamma shape must be finite and > 0, got ${a}`);
  if (!(x > 0)) return 0;
  if (x === Infinity) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 100_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, Math.exp(logPrefix + Math.log(sum)));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.max(0, 1 - Math.exp(logPrefix) * h);
}

/** The chi-square distribution's CDF with `k` degrees of freedom. */
export function chiSquareCdf(x: number, k: number): number {
  return regularizedGammaP(k / 2, x / 2);
}

/** The `p`-quantile of the chi-square distribution with `k` degrees of freedom (bisection of its CDF). */
export function chiSquareQuantile(p: number, k: number): number {
  check(p > 0 && p < 1, 'dp/bad-audit', `a quantile needs p in (0, 1), got ${p}`);
  check(k > 0 && Number.isFinite(k), 'dp/bad-audit', `degrees of freedom must be finite and > 0, got ${k}`);
  return quantileByBisection((x) => chiSquareCdf(x, k), p, k + 10 * Math.sqrt(2 * k) + 100);
}

/**
 * Variance, per released coordinate, of the noise the mechanism `config` claims for the mean of
 * `contributors` encodings (what the coordinator releases: the decoded sum divided by the
 * contributors), in units of the update:
 *
 * - skellam / ddg: each contributor adds integer noise of variance (z·C/γ)²/t per encoded
 *   coordinate (Skellam 2μ_local exactly; the discrete Gaussian's variance is below σ² only by a
 *   relative e^(−2π²σ²), nothing at any usable σ); the rotation, orthonormal, keeps i.i.d. noise
 *   i.i.d. with the same variance, so the sum carries n·(z·C)²/t per coordinate and the mean that
 *   over n²;
 * - central: the coordinator's N(0, (z·C)²) on the sum, over n²;
 * - none, or z = 0: 0 (nothing to test).
 *
 * The randomised rounding adds variance at most γ²/4 per contributor and coordinate (exactly 0 for
 * a probe coordinate without rotation, whose input is an integer): it is left out, so an honest
 * round's variance is at least the claim and the test stays one-sided-conservative.
 */
export function claimedProbeVariance(config: Pick<DpConfig, 'mechanism' | 'noiseMultiplier' | 'clipNorm' | 'minContributors'>, contributors: number): number {
  check(Number.isSafeInteger(contributors) && contributors >= 1, 'dp/bad-contributors', `contributors must be a positive integer, got ${contributors}`);
  const central = (config.noiseMultiplier * config.clipNorm) ** 2;
  switch (config.mechanism) {
    case 'skellam':
    case 'ddg':
      return central / (config.minContributors * contributors);
    case 'central':
      return central / (contributors * contributors);
    case 'none':
      return 0;
  }
}

/** One round's released probe values and the variance its mechanism claims for each. */
export interface ProbeSample {
  values: readonly number[];
  variance: number;
}

/** What {@link noiseProbeStatistic} returns: estimates of ρ, the released variance as a fraction of the claimed one. */
export interface NoiseProbeStatistic {
  /** Values tested (rounds whose claimed variance is 0 contribute none). */
  samples: number;
  /** Σ x²/v over the samples: ρ·χ²(samples) when each value is N(0, ρ·v). */
  sumOfSquares: number;
  /** Point estimate of ρ: sumOfSquares / samples. */
  ratio: number;
  /** One-sided upper confidence bound of ρ at `confidence`: sumOfSquares / χ²_{1−confidence}(samples). */
  ratioUpper: number;
  confidence: number;
}

/**
 * The variance ratio ρ of released probe values to their claimed variance. The noise has mean 0
 * (a shift could only add to the sum of squares), so every value is a degree of freedom: with the
 * values N(0, ρ·v_r), S = Σ x²/v_r is ρ times a chi-square with N degrees of freedom, and
 * S / χ²_{α}(N) with α = 1 − confidence is an upper bound on ρ that fails with probability α.
 */
export function noiseProbeStatistic(rounds: readonly ProbeSample[], confidence = NOISE_PROBE_CONFIDENCE): NoiseProbeStatistic {
  check(confidence > 0 && confidence < 1, 'dp/bad-audit', `confidence must be in (0, 1), got ${confidence}`);
  let s = 0;
  let n = 0;
  for (const r of rounds) {
    check(Number.isFinite(r.variance) && r.variance >= 0, 'dp/bad-audit', `a claimed variance must be finite and >= 0, got ${r.variance}`);
    if (r.variance === 0) continue;
    for (const x of r.values) {
      check(Number.isFinite(x), 'dp/bad-audit', `a released probe value must be finite, got ${x}`);
      s += (x * x) / r.variance;
      n++;
    }
  }
  check(n >= 2, 'dp/bad-audit', `the noise probe needs at least 2 noised values, got ${n}`);
  return { samples: n, sumOfSquares: s, ratio: s / n, ratioUpper: s / lowerQuantile(1 - confidence, n), confidence };
}

/** Quantiles already bisected, by `p k`: an audit or a test asks for the same few many times. */
const quantiles = new Map<string, number>();

function lowerQuantile(p: number, k: number): number {
  const key = `${p} ${k}`;
  let q = quantiles.get(key);
  if (q === undefined) {
    q = chiSquareQuantile(p, k);
    quantiles.set(key, q);
  }
  return q;
}

/** A released round with the probe values its ledger entry records. */
export type ProbedRound = RoundPrivacyEntry & { noiseProbe?: readonly number[] };

/** Relative slack for comparing two ε values computed the same way. */
const EPS_TOL = 1e-9;

function scaledEpsilon(rounds: readonly RoundPrivacyEntry[], fraction: number, o: { delta: number; colluders: number }): number | null {
  if (!(fraction > 0)) return null;
  const scaled = rounds.map((r) => ({ ...r, config: { ...r.config, noiseMultiplier: r.config.noiseMultiplier * fraction } }));
  const e = ledgerReaderEpsilon(scaled, o);
  return Number.isFinite(e) ? e : null;
}

/**
 * The noise audit of `rounds` (the report's rounds, released ones with their probe values), or
 * null when no released round carries probe values of a noised mechanism. The empirical ε is the
 * headline ledger-reader ε recomputed with every noise multiplier scaled by the measured noise
 * fraction (point) and by its upper confidence bound (lower end of ε, as ε falls with the noise).
 * Deterministic: a verifier recomputes exactly the same figures.
 */
export function noiseProbeAudit(rounds: readonly ProbedRound[], o: { delta: number; colluders: number; confidence?: number }): NoiseAudit | null {
  const probed = rounds.filter((r) => r.outcome === 'released' && r.noiseProbe !== undefined && r.noiseProbe.length > 0 && claimedProbeVariance(r.config, r.contributors) > 0);
  const values = probed.reduce((k, r) => k + (r.noiseProbe as readonly number[]).length, 0);
  if (values < 2) return null;
  const stat = noiseProbeStatistic(
    probed.map((r) => ({ values: r.noiseProbe as readonly number[], variance: claimedProbeVariance(r.config, r.contributors) })),
    o.confidence,
  );
  const entries: RoundPrivacyEntry[] = rounds.map((r) => ({ round: r.round, outcome: r.outcome, cohort: r.cohort, contributors: r.contributors, contributorIds: r.contributorIds, dim: r.dim, config: r.config }));
  const claim = ledgerReaderEpsilon(entries, o);
  const claimedEpsilon = Number.isFinite(claim) ? claim : null;
  const noiseFraction = Math.sqrt(stat.ratio);
  const noiseFractionUpper = Math.sqrt(stat.ratioUpper);
  const lower = scaledEpsilon(entries, noiseFractionUpper, o);
  const anyCharged = entries.some((r) => isCharged(r.outcome));
  return {
    method: 'noise-probe',
    rounds: probed.length,
    samples: stat.samples,
    confidence: stat.confidence,
    delta: o.delta,
    noiseFraction,
    noiseFractionUpper,
    epsilon: scaledEpsilon(entries, noiseFraction, o),
    lower,
    claimedEpsilon,
    passed: !anyCharged || claimedEpsilon === null || (lower !== null && lower <= claimedEpsilon * (1 + EPS_TOL)),
  };
}

/**
 * `report` with each released round's probe values from `probes` (round id → values, as its
 * ledger entry records them) and, when they give one, its {@link noiseProbeAudit} as `noiseAudit`.
 */
export function withNoiseProbes(report: PrivacyReport, probes: ReadonlyMap<number, readonly number[]>): PrivacyReport {
  const rounds = report.rounds.map((r) => {
    const values = r.outcome === 'released' ? probes.get(r.round) : undefined;
    return values === undefined || values.length === 0 ? r : { ...r, noiseProbe: [...values] };
  });
  const audit = noiseProbeAudit(rounds, { delta: report.delta, colluders: report.colluders });
  return { ...report, rounds, ...(audit === null ? {} : { noiseAudit: audit }) };
}
