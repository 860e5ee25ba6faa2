import { regularizedGammaP } from '../../src/dp/index.js';
import { logErfc, logGamma } from '../../src/dp/special.js';

/*
 * Goodness-of-fit figures for the noise samplers: Pearson's chi-square against exact bin
 * probabilities, and the sample variance with its 99% confidence interval. The reference
 * probabilities here are computed independently of the samplers (a different series for the
 * Poisson log-pmf, erfc for the Gaussians).
 */

/** Regularised upper incomplete gamma Q(a, x) = 1 − P(a, x), for chi-square p-values (P: src/dp/audit/noise-probe.ts). */
export function gammaQ(a: number, x: number): number {
  return 1 - regularizedGammaP(a, x);
}

/** z with P(|N(0,1)| <= z) = 0.99. */
export const Z99 = 2.5758293035489004;

/** The sample variance over a claimed variance, with the 99% confidence interval of that ratio. */
export interface VarianceRatio {
  ratio: number;
  lo: number;
  hi: number;
}

/**
 * s²/v for samples `x` (mean estimated, or `mean` when known), with the 99% interval
 * ratio ± z·SE, SE² = (m4 − s⁴)/n from the sample's own fourth central moment: the claimed
 * variance lies in the sample variance's interval exactly when lo <= 1 <= hi.
 */
export function varianceRatio(x: ArrayLike<number>, claimed: number, mean?: number): VarianceRatio {
  const n = x.length;
  let m = mean ?? 0;
  if (mean === undefined) {
    for (let i = 0; i < n; i++) m += (x[i] as number) / n;
  }
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = (x[i] as number) - m;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  const s2 = m2 / (mean === undefined ? n - 1 : n);
  m4 /= n;
  const se = Math.sqrt(Math.max(0, m4 - s2 * s2) / n) / claimed;
  const ratio = s2 / claimed;
  return { ratio, lo: ratio - Z99 * se, hi: ratio + Z99 * se };
}

/** An integer distribution for the chi-square test: P(a <= X <= b), and a centre and scale to place bins. */
export interface IntegerLaw {
  /** P(a <= X <= b) for integers a <= b (a may be -Infinity, b +Infinity). */
  mass(a: number, b: number): number;
  centre: number;
  sd: number;
}

/** Result of {@link chiSquare}. */
export interface ChiSquare {
  p: number;
  stat: number;
  bins: number;
  /** Σ of the bin probabilities: 1 up to the reference's own error. */
  total: number;
}

/** Standard normal quantile (Acklam's rational approximation, ~1e-9: only used to place bin edges). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - 0.02425) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/**
 * Pearson's chi-square test of integer samples against `law`: about `target` bins of equal
 * probability under the normal approximation (edges at its quantiles, so the test has power in
 * the tails as well as the centre), each bin's probability from the exact `law.mass`; bins with
 * an expected count below 5 are merged into their neighbour. The two end bins reach to ±∞.
 */
export function chiSquare(samples: ArrayLike<number>, law: IntegerLaw, target = 200): ChiSquare {
  const n = samples.length;
  const cuts = new Set<number>();
  for (let i = 1; i < target; i++) cuts.add(Math.round(law.centre + law.sd * normalQuantile(i / target)));
  // A narrow law gets every integer near its centre as an edge (sparse bins are merged below).
  for (let i = -8; i <= 8; i++) cuts.add(Math.round(law.centre) + i);
  // Bin i holds [edges[i], edges[i + 1] − 1].
  const edges = [-Infinity, ...[...cuts].sort((x, y) => x - y), Infinity];
  const probs = edges.slice(0, -1).map((e, i) => law.mass(e, (edges[i + 1] as number) - 1));
  const counts = new Float64Array(probs.length);
  for (let s = 0; s < n; s++) {
    const x = samples[s] as number;
    // Binary search for the last edge <= x.
    let lo = 0;
    let hi = edges.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if ((edges[mid] as number) <= x) lo = mid;
      else hi = mid;
    }
    counts[lo] = (counts[lo] as number) + 1;
  }
  const merged: { e: number; o: number }[] = [];
  let e = 0;
  let o = 0;
  for (let i = 0; i < probs.length; i++) {
    e += n * (probs[i] as number);
    o += counts[i] as number;
    if (e >= 5) {
      merged.push({ e, o });
      e = 0;
      o = 0;
    }
  }
  if (merged.length === 0) merged.push({ e, o });
  else {
    const last = merged[merged.length - 1]!;
    last.e += e;
    last.o += o;
  }
  let stat = 0;
  for (const b of merged) stat += (b.o - b.e) ** 2 / b.e;
  const total = probs.reduce((s, p) => s + p, 0);
  const p = merged.length > 1 ? gammaQ((merged.length - 1) / 2, stat / 2) : 1;
  return { p, stat, bins: merged.length, total };
}

/** An {@link IntegerLaw} from a pointwise pmf, summed over [centre − width, centre + width] (mass outside neglected). */
export function pointwiseLaw(pmf: (k: number) => number, centre: number, sd: number, width = Math.ceil(40 * sd + 60)): IntegerLaw {
  const from = Math.floor(centre - width);
  const to = Math.ceil(centre + width);
  return {
    centre,
    sd,
    mass(a, b) {
      let s = 0;
      for (let k = Math.max(a, from); k <= Math.min(b, to); k++) s += pmf(k);
      return s;
    },
  };
}

/** 10-point Gauss–Legendre nodes and weights on [-1, 1], by Newton's method on P_10. */
const GL = ((): { x: number[]; w: number[] } => {
  const n = 10;
  const x: number[] = [];
  const w: number[] = [];
  for (let i = 1; i <= n; i++) {
    let z = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x.push(z);
    w.push(2 / ((1 - z * z) * dp * dp));
  }
  return { x, w };
})();

/** ∫ f over [a, b] by 10-point Gauss–Legendre on pieces no wider than `piece`. */
export function integrate(f: (y: number) => number, a: number, b: number, piece: number): number {
  const parts = Math.max(1, Math.ceil((b - a) / piece));
  const h = (b - a) / parts;
  let s = 0;
  for (let j = 0; j < parts; j++) {
    const mid = a + (j + 0.5) * h;
    for (let i = 0; i < GL.x.length; i++) s += (GL.w[i] as number) * f(mid + (0.5 * h * (GL.x[i] as number)));
  }
  return (s * h) / 2;
}

/** φ(t) = (1 + t)·log(1 + t) − t, by its Taylor series Σ_{m>=0} (−1)^m t^{m+2}/((m+1)(m+2)) for small |t|. */
function phi(t: number): number {
  if (Math.abs(t) > 0.01) return (1 + t) * Math.log1p(t) - t;
  let s = 0;
  let p = t * t;
  for (let m = 0; m < 40; m++) {
    const term = p / ((m + 1) * (m + 2));
    s += m % 2 === 0 ? term : -term;
    if (Math.abs(term) < 1e-18 * Math.abs(s)) break;
    p *= t;
  }
  return s;
}

/**
 * log of the Poisson(λ) density extended to real x = λ + y (x >= 30), without cancellation:
 * log(e^{-λ} λ^x / Γ(x+1)) = −λ·φ(y/λ) − ½·log(2πx) − δ(x), with Stirling's correction
 * δ(x) = 1/(12x) − 1/(360x³) + 1/(1260x⁵) (truncation below 1e-14 at x >= 30). Written from the
 * series of φ, not from the sampler's deviance function.
 */
export function referencePoissonLogDensity(lambda: number, y: number): number {
  const x = lambda + y;
  const inv = 1 / x;
  const delta = inv * (1 / 12 - inv * inv * (1 / 360 - (inv * inv) / 1260));
  return -lambda * phi(y / lambda) - 0.5 * Math.log(2 * Math.PI * x) - delta;
}

/** P(X = k), X ~ Poisson(λ): directly for small k, else by {@link referencePoissonLogDensity}. */
export function referencePoissonPmf(lambda: number, k: number): number {
  if (k < 0) return 0;
  if (k < 30) return Math.exp(-lambda + k * Math.log(lambda) - logGamma(k + 1));
  return Math.exp(referencePoissonLogDensity(lambda, k - lambda));
}

/**
 * The law of X − ⌊λ⌋ for X ~ Poisson(λ), λ >= 1e6: bin masses Σ_{j=a}^{b} P(⌊λ⌋ + j) as the
 * integral of the continuous density over [a − ½, b + ½] (the midpoint rule's error relative to the
 * sum is ~1/(24λ) per bin edge), the tails cut at ±60σ.
 */
export function poissonDeviationLaw(lambda: number): IntegerLaw {
  const m = Math.floor(lambda);
  const f = lambda - m;
  const sd = Math.sqrt(lambda);
  const density = (y: number): number => Math.exp(referencePoissonLogDensity(lambda, y));
  const cut = 60 * sd;
  return {
    centre: f,
    sd,
    mass(a, b) {
      const lo = Math.max(a - 0.5 - f, -cut);
      const hi = Math.min(b + 0.5 - f, cut);
      return hi > lo ? integrate(density, lo, hi, sd / 8) : 0;
    },
  };
}

/** Φ(x) − Φ(y) for y <= x, accurately in both tails (via log erfc). */
function normalMass(y: number, x: number): number {
  // P(Z > t)
  const upper = (t: number): number => (t === Infinity ? 0 : t === -Infinity ? 1 : 0.5 * Math.exp(logErfc(t / Math.SQRT2)));
  if (y >= 0) return upper(y) - upper(x);
  if (x <= 0) return upper(-x) - upper(-y);
  return 1 - upper(x) - upper(-y);
}

/**
 * The discrete Gaussian N_Z(0, σ²) for σ >= 1e4: Σ_{a}^{b} e^{-k²/2σ²}/Z as Φ((b + ½)/σ) − Φ((a − ½)/σ)
 * (Z = σ√(2π) to double precision by Poisson summation; the midpoint error is ~1/(24σ²)).
 */
export function wideDiscreteGaussianLaw(sigma: number): IntegerLaw {
  return { centre: 0, sd: sigma, mass: (a, b) => normalMass((a - 0.5) / sigma, (b + 0.5) / sigma) };
}

/** The continuous N(0, σ²) binned at integer multiples of σ/50 (samples are mapped by ⌊x·50/σ⌋). */
export function binnedNormalLaw(): IntegerLaw {
  return { centre: 0, sd: 50, mass: (a, b) => normalMass(a / 50, (b + 1) / 50) };
}
