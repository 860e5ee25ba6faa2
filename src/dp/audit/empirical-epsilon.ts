import { check } from '../../secagg/util/errors.js';
import type { RandomSource } from '../../secagg/util/random.js';
import { gaussianSamples } from '../noise/gaussian.js';
import { UniformStream } from '../noise/uniform-stream.js';
import { logErfc, studentTQuantile } from '../special.js';

/**
 * One-shot empirical privacy estimation (Andrew, Kairouz, Oh, Oprea, McMahan, Suriyakumar,
 * "One-shot Empirical Privacy Estimation for Federated Learning", ICLR 2024): canary participants
 * contribute random unit directions scaled to the clip norm; the cosines between each canary's
 * direction and what was released are compared with the cosines of fresh directions that were
 * never inserted. Both are fitted with Gaussians, and the separation of the two fits, in units of
 * the null's standard deviation, is read as the μ of a Gaussian mechanism whose (ε, δ) is the
 * estimate. Pure: the caller supplies the cosines and the randomness of the bootstrap.
 */

/** A uniformly random unit vector of length `dim` drawn from `rng` (normalised standard normals). */
export function randomUnitDirection(dim: number, rng: RandomSource): Float64Array {
  check(Number.isSafeInteger(dim) && dim >= 2, 'dp/bad-dimension', `a canary direction needs dimension >= 2, got ${dim}`);
  const g = gaussianSamples(1, dim, rng);
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += (g[i] as number) ** 2;
  norm = Math.sqrt(norm);
  for (let i = 0; i < dim; i++) g[i] = (g[i] as number) / norm;
  return g;
}

/** cos∠(a, b); 0 when either is the zero vector (no released change says nothing either way). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check(a.length === b.length, 'dp/bad-dimension', `cosine of vectors of lengths ${a.length} and ${b.length}`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** log Φ(x), the standard normal CDF, accurate in the far lower tail. */
function logNormalCdf(x: number): number {
  return logErfc(-x / Math.SQRT2) - Math.LN2;
}

/**
 * δ(ε) of the Gaussian mechanism with sensitivity-to-noise ratio `mu` (μ-GDP; Balle & Wang 2018,
 * Dong, Roth & Su 2022): Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2).
 */
export function gaussianDelta(mu: number, epsilon: number): number {
  if (mu <= 0) return 0;
  const a = Math.exp(logNormalCdf(-epsilon / mu + mu / 2));
  const b = Math.exp(epsilon + logNormalCdf(-epsilon / mu - mu / 2));
  return Math.max(0, a - b);
}

/** The smallest ε ≥ 0 with δ(ε) ≤ `delta` for the μ-GDP Gaussian mechanism (0 for μ ≤ 0). */
export function gaussianEpsilon(mu: number, delta: number): number {
  check(Number.isFinite(mu), 'dp/bad-audit', `μ must be finite, got ${mu}`);
  check(delta > 0 && delta < 1, 'dp/bad-delta', `δ must be in (0, 1), got ${delta}`);
  if (mu <= 0 || gaussianDelta(mu, 0) <= delta) return 0;
  let hi = Math.max(1, mu * mu);
  while (gaussianDelta(mu, hi) > delta) hi *= 2;
  let lo = 0;
  // δ(ε) is decreasing in ε: bisect to a relative precision far below any reported digit.
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (gaussianDelta(mu, mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Mean and (unbiased) standard deviation of `xs`. */
export function gaussianFit(xs: ArrayLike<number>): { mean: number; sd: number } {
  const n = xs.length;
  check(n >= 2, 'dp/bad-audit', `fitting a Gaussian needs at least 2 values, got ${n}`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i] as number;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((xs[i] as number) - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

/** μ of the fits: how many null standard deviations the canaries' mean sits above the null's. */
function separation(canary: ArrayLike<number>, nulls: ArrayLike<number>): number {
  const c = gaussianFit(canary);
  const z = gaussianFit(nulls);
  check(z.sd > 0, 'dp/bad-audit', 'the null cosines have no spread: the released changes are degenerate');
  return (c.mean - z.mean) / z.sd;
}

/** A confidence level as people write it: 0.95 → '95%', 0.999 → '99.9%'. */
export function confidencePercent(confidence: number): string {
  return `${Number((100 * confidence).toPrecision(6))}%`;
}

/** What {@link estimateEmpiricalEpsilon} returns. */
export interface EmpiricalEpsilon {
  /** Point estimate of ε at `delta`, from the fitted μ. */
  epsilon: number;
  /** Two-sided interval of ε at `confidence`: the image of μ ± t·se (see {@link estimateEmpiricalEpsilon}). */
  lower: number;
  upper: number;
  /** Fitted μ (separation of the canary and null fits in null standard deviations) and its interval. */
  mu: number;
  muLower: number;
  muUpper: number;
  canary: { count: number; mean: number; sd: number };
  null: { count: number; mean: number; sd: number };
  delta: number;
  confidence: number;
  bootstrap: number;
}

/** Options of {@link estimateEmpiricalEpsilon}. */
export interface EmpiricalEpsilonOptions {
  delta: number;
  /** Two-sided confidence level of the interval; default 0.95. */
  confidence?: number;
  /** Bootstrap resamples; default 2000. */
  bootstrap?: number;
  /** Randomness of the bootstrap resampling (seed it for a reproducible interval). */
  rng: RandomSource;
}

/**
 * The paper's estimate from the canaries' cosines and the null cosines: Gaussians fitted to both,
 * μ = (mean_canary − mean_null) / sd_null, ε = the (ε, δ) of μ-GDP. The interval is μ ± t·se:
 * se is the standard deviation of μ over bootstrap resamples of both sets (with replacement),
 * which covers the sampling error of the canary mean, of the null mean and of the null spread
 * alike, scaled by √(K/(K−1)) for the K canaries; t is Student's quantile with K − 1 degrees of
 * freedom. A percentile bootstrap is too narrow with the few canaries a real federation affords
 * (with K = 8 its 95% interval is that of a normal with the biased spread, and honest runs were
 * refuted several times as often as the 2.5% it promises); ε is increasing in μ, so the interval
 * of ε is the image of μ's.
 */
export function estimateEmpiricalEpsilon(canary: ArrayLike<number>, nulls: ArrayLike<number>, o: EmpiricalEpsilonOptions): EmpiricalEpsilon {
  const confidence = o.confidence ?? 0.95;
  const B = o.bootstrap ?? 2000;
  check(confidence > 0 && confidence < 1, 'dp/bad-audit', `confidence must be in (0, 1), got ${confidence}`);
  check(Number.isSafeInteger(B) && B >= 100, 'dp/bad-audit', `bootstrap resamples must be an integer >= 100, got ${B}`);
  const mu = separation(canary, nulls);
  const u = new UniformStream(o.rng);
  const draw = (xs: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = xs[Math.floor(u.unit() * xs.length)] as number;
    return out;
  };
  let sum = 0;
  let sumSq = 0;
  for (let b = 0; b < B; b++) {
    const m = separation(draw(canary), draw(nulls));
    sum += m;
    sumSq += m * m;
  }
  const k = canary.length;
  const bootVar = Math.max(0, (sumSq - (sum * sum) / B) / (B - 1));
  const se = Math.sqrt((bootVar * k) / (k - 1));
  const t = studentTQuantile(1 - (1 - confidence) / 2, k - 1);
  const muLower = mu - t * se;
  const muUpper = mu + t * se;
  const c = gaussianFit(canary);
  const z = gaussianFit(nulls);
  return {
    epsilon: gaussianEpsilon(mu, o.delta),
    lower: gaussianEpsilon(muLower, o.delta),
    upper: gaussianEpsilon(muUpper, o.delta),
    mu,
    muLower,
    muUpper,
    canary: { count: canary.length, ...c },
    null: { count: nulls.length, ...z },
    delta: o.delta,
    confidence,
    bootstrap: B,
  };
}
