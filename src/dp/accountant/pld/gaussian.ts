import { logErfc } from '../../special.js';
import { connectTheDotsPmf, type LossPmf } from './pmf.js';

/**
 * The privacy loss of the (subsampled) Gaussian mechanism along one direction of a neighbouring
 * pair, as dp_accounting's `GaussianPrivacyLoss`, for noise N(0, σ²), sensitivity Δ and sampling
 * probability q:
 *
 * - `remove`: μ_upper = (1 − q)·N(0, σ²) + q·N(−Δ, σ²), μ_lower = N(0, σ²);
 * - `add`: μ_upper = N(0, σ²), μ_lower = (1 − q)·N(0, σ²) + q·N(Δ, σ²).
 *
 * The loss ln(μ_upper(x)/μ_lower(x)) decreases in x, so δ(ε) = μ_upper(X ≤ x*) − e^ε·μ_lower(X ≤ x*)
 * at the x* where the loss equals ε.
 */
export type LossDirection = 'remove' | 'add';

/**
 * ln of the mass the loss PMF may leave out of the noise (dp_accounting's
 * `log_mass_truncation_bound` default): the x range is cut where each tail holds e^−50 / 2.
 */
const LOG_MASS_TRUNCATION_BOUND = -50;

/** log Φ(x) for the standard normal, accurate in both tails. */
export function logNormalCdf(x: number): number {
  return logErfc(-x / Math.SQRT2) - Math.LN2;
}

/** Φ(x) for the standard normal. */
export function normalCdf(x: number): number {
  return Math.exp(logNormalCdf(x));
}

/** Φ⁻¹(p) for tiny p (< 0.5), by Newton's method on log Φ: only the truncation point needs it. */
export function normalQuantileLower(p: number): number {
  const target = Math.log(p);
  let x = -Math.sqrt(-2 * target);
  for (let i = 0; i < 100; i++) {
    const f = logNormalCdf(x) - target;
    // d/dx log Φ(x) = φ(x)/Φ(x)
    const slope = Math.exp(-0.5 * x * x - 0.5 * Math.log(2 * Math.PI) - logNormalCdf(x));
    const step = f / slope;
    x -= step;
    if (Math.abs(step) < 1e-14 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(Math.min(a, b) - m));
}

/** One direction of the (subsampled) Gaussian's privacy loss. */
export class GaussianPrivacyLoss {
  constructor(
    readonly sigma: number,
    readonly sensitivity: number,
    readonly q: number,
    readonly direction: LossDirection,
  ) {}

  /** Loss without subsampling for the remove direction: ln(φ(x + Δ)/φ(x)). */
  private base(x: number): number {
    const d = this.sensitivity;
    return (-d * (2 * x + d)) / (2 * this.sigma * this.sigma);
  }

  /** The privacy loss at outcome x. */
  loss(x: number): number {
    const { q, sensitivity: d, sigma } = this;
    if (this.direction === 'remove') {
      const l0 = this.base(x);
      if (q === 1) return l0;
      return logAddExp(Math.log1p(-q), Math.log(q) + l0);
    }
    const m = (d * (2 * x - d)) / (2 * sigma * sigma); // ln(φ(x − Δ)/φ(x))
    if (q === 1) return -m;
    return -logAddExp(Math.log1p(-q), Math.log(q) + m);
  }

  /** The outcome x at which the loss equals ε (for ε inside the loss's range). */
  inverseLoss(eps: number): number {
    const { q, sensitivity: d, sigma } = this;
    const s2 = sigma * sigma;
    if (this.direction === 'remove') {
      const l0 = q === 1 ? eps : Math.log(Math.expm1(eps) + q) - Math.log(q);
      return (-s2 * l0) / d - d / 2;
    }
    const m = q === 1 ? -eps : Math.log(Math.expm1(-eps) + q) - Math.log(q);
    return (s2 * m) / d + d / 2;
  }

  private upperCdf(x: number): number {
    const { q, sensitivity: d, sigma } = this;
    if (this.direction === 'add') return normalCdf(x / sigma);
    if (q === 1) return normalCdf((x + d) / sigma);
    return (1 - q) * normalCdf(x / sigma) + q * normalCdf((x + d) / sigma);
  }

  private lowerLogCdf(x: number): number {
    const { q, sensitivity: d, sigma } = this;
    if (this.direction === 'remove') return logNormalCdf(x / sigma);
    if (q === 1) return logNormalCdf((x - d) / sigma);
    return logAddExp(Math.log1p(-q) + logNormalCdf(x / sigma), Math.log(q) + logNormalCdf((x - d) / sigma));
  }

  /** The exact hockey-stick divergence δ(ε) along this direction, clipped to [0, 1]. */
  deltaForEpsilon(eps: number): number {
    const q = this.q;
    if (q < 1 && this.direction === 'add' && eps >= -Math.log1p(-q)) return 0;
    if (q < 1 && this.direction === 'remove' && eps <= Math.log1p(-q)) return Math.min(1, Math.max(0, -Math.expm1(eps)));
    const x = this.inverseLoss(eps);
    const v = this.upperCdf(x) - Math.exp(eps + this.lowerLogCdf(x));
    return Math.min(1, Math.max(0, v));
  }

  /** The loss range kept before the tails go to the extreme buckets (dp_accounting's `connect_dots_bounds`). */
  epsilonBounds(): { lower: number; upper: number } {
    let lowerX = this.sigma * normalQuantileLower(0.5 * Math.exp(LOG_MASS_TRUNCATION_BOUND));
    let upperX = -lowerX;
    if (this.direction === 'add') upperX += this.sensitivity;
    else lowerX -= this.sensitivity;
    return { lower: this.loss(upperX), upper: this.loss(lowerX) };
  }
}

/** A hockey-stick curve and the loss range it is discretised on. */
export interface HockeyStickCurve {
  deltaForEpsilon(eps: number): number;
  epsilonBounds(): { lower: number; upper: number };
}

/**
 * The pessimistic connect-the-dots PMF of a hockey-stick curve on the grid of spacing
 * `discretization` covering its loss range (dp_accounting's `_create_pld_pmf_from_monotone_privacy_loss`
 * with `use_connect_dots=True` for continuous noise).
 */
export function connectTheDotsFromCurve(curve: HockeyStickCurve, discretization: number): LossPmf {
  const { lower, upper } = curve.epsilonBounds();
  const lo = Math.floor(lower / discretization);
  const hi = Math.ceil(upper / discretization);
  const deltas = new Float64Array(hi - lo + 1);
  for (let i = 0; i < deltas.length; i++) deltas[i] = curve.deltaForEpsilon((lo + i) * discretization);
  return connectTheDotsPmf(discretization, lo, deltas);
}

/**
 * The larger of two hockey-stick curves. For a fixed-size sample drawn without replacement under
 * replace-one adjacency the worst pair of output distributions is the remove-like mixture for
 * e^ε >= 1 and the add-like one for e^ε < 1 (Zhu, Dong, Wang 2022, the dominating pairs of
 * subsampling without replacement); no single one of them dominates for every ε, but the
 * pointwise maximum of their curves is convex, decreasing and >= (1 − e^ε)₊, hence the curve of
 * some pair that dominates both — the pair this accountant composes.
 */
export function maxCurve(a: HockeyStickCurve, b: HockeyStickCurve): HockeyStickCurve {
  return {
    deltaForEpsilon: (eps) => Math.max(a.deltaForEpsilon(eps), b.deltaForEpsilon(eps)),
    epsilonBounds: () => {
      const x = a.epsilonBounds();
      const y = b.epsilonBounds();
      return { lower: Math.min(x.lower, y.lower), upper: Math.max(x.upper, y.upper) };
    },
  };
}
