import { logAdd, logBinomial } from '../special.js';

/** Unit roundoff of binary64. */
const UNIT_ROUNDOFF = 2 ** -53;
const LOG2 = Math.LN2;
const LOG4 = 2 * Math.LN2;

/**
 * Orders up to which the forward-difference refinement is used for the Gaussian, as in
 * dp_accounting (`max_alpha = 256` in `_compute_rdp_sample_wor_gaussian_int`); above it the cost is
 * O(α²) per order for little gain, and only the Theorem 9 terms are used.
 */
export const WOR_FORWARD_DIFFERENCE_MAX_ORDER = 256;

/**
 * Upper bounds on log |Δ^k h(0)| for k = 0..n, where h(y) = exp(logH(y)) and Δ is the forward
 * difference (Δh(y) = h(y+1) − h(y)). The differences are taken n times in log space with signs
 * (as dp_accounting's `_get_forward_diffs`), and each value carries a bound on its accumulated
 * rounding error. Differences of a slowly growing h cancel catastrophically (large σ), and there
 * the computed difference can fall below the true one; returning |value| + error bound keeps every
 * entry an upper bound, which is what the RDP bound needs.
 */
export function logForwardDifferenceBounds(logH: (y: number) => number, n: number): Float64Array {
  const mag = new Float64Array(n + 1);
  const sign = new Int8Array(n + 1);
  const err = new Float64Array(n + 1);
  for (let y = 0; y <= n; y++) {
    const v = logH(y);
    mag[y] = v;
    sign[y] = 1;
    // logH(y) carries a few roundings relative to its size: as a value, that is a relative error.
    err[y] = v + Math.log(2 * UNIT_ROUNDOFF * (Math.abs(v) + 2));
  }
  const out = new Float64Array(n + 1);
  out[0] = logAdd(mag[0] as number, err[0] as number);
  for (let k = 1; k <= n; k++) {
    for (let j = 0; j <= n - k; j++) {
      const a = mag[j + 1] as number; // the new value is v[j+1] − v[j]
      const sa = sign[j + 1] as number;
      const b = mag[j] as number;
      const sb = sign[j] as number;
      let r: number;
      let sr: number;
      if (sa === 0) {
        r = b;
        sr = -sb;
      } else if (sb === 0) {
        r = a;
        sr = sa;
      } else if (sa !== sb) {
        r = logAdd(a, b);
        sr = sa;
      } else if (a > b) {
        r = a + Math.log1p(-Math.exp(b - a));
        sr = sa;
      } else if (a < b) {
        r = b + Math.log1p(-Math.exp(a - b));
        sr = -sa;
      } else {
        r = -Infinity;
        sr = 0;
      }
      // The log-space subtraction or addition is accurate to a few ulps of the operands' log size.
      const scale = Math.max(Number.isFinite(a) ? Math.abs(a) : 0, Number.isFinite(b) ? Math.abs(b) : 0);
      const fresh = r === -Infinity ? -Infinity : r + Math.log(4 * UNIT_ROUNDOFF * (scale + 2));
      err[j] = logAdd(logAdd(err[j] as number, err[j + 1] as number), fresh);
      mag[j] = r;
      sign[j] = sr;
    }
    out[k] = logAdd(mag[0] as number, err[0] as number);
  }
  return out;
}

/** log(e^x − 1) for x >= 0 (−∞ at 0). */
function logExpm1(x: number): number {
  return x + Math.log1p(-Math.exp(-x));
}

/**
 * log A_α at integer α >= 1 for subsampling without replacement with sampling fraction q = m/N,
 * where RDP = log A_α / (α − 1): the bound of Wang, Balle & Kasiviswanathan, "Subsampled Rényi
 * Differential Privacy and Analytical Moments Accountant" (AISTATS 2019), Theorem 9, with
 * ε(∞) = ∞ (true of every mechanism here), so min{2, (e^{ε(∞)} − 1)^j} = 2:
 *
 *   A_α = 1 + q² C(α,2) min{4(e^{ε(2)} − 1), 2e^{ε(2)}} + Σ_{j=3..α} q^j C(α,j) · 2e^{(j−1)ε(j)}.
 *
 * With `logForward` (log upper bounds on |Δ^k h(0)| for h(y) = e^{(y−1)ε(y)}, the Gaussian
 * refinement dp_accounting applies up to order 256, the paper's Theorem 27 in its arXiv version),
 * each j >= 3 term is the smaller of 2e^{(j−1)ε(j)} and 4·sqrt(|Δ^{2⌊j/2⌋}h(0)|·|Δ^{2⌈j/2⌉}h(0)|).
 */
function logAWithoutReplacement(alpha: number, logQ: number, eps: (order: number) => number, logForward: Float64Array | null): number {
  if (alpha === 1) return 0;
  const e2 = eps(2);
  let logA = 2 * logQ + logBinomial(alpha, 2) + Math.min(LOG4 + logExpm1(e2), e2 + LOG2);
  logA = logAdd(0, logA);
  const forward = logForward !== null && alpha <= WOR_FORWARD_DIFFERENCE_MAX_ORDER ? logForward : null;
  for (let j = 3; j <= alpha; j++) {
    let term = LOG2 + (j - 1) * eps(j);
    if (forward !== null) {
      const lo = forward[2 * Math.floor(j / 2)] as number;
      const hi = forward[2 * Math.ceil(j / 2)] as number;
      term = Math.min(term, LOG4 + 0.5 * (lo + hi));
    }
    logA = logAdd(logA, term + j * logQ + logBinomial(alpha, j));
  }
  return logA;
}

/**
 * RDP at order α of a mechanism with RDP curve `eps` (under replace-one adjacency, on samples of
 * the fixed size m) applied to a uniformly random m-subset of N records, sampling fraction
 * q = m/N: Theorem 9 of Wang, Balle & Kasiviswanathan (2019) at integer α; at fractional α the
 * cumulant (α − 1)·RDP is interpolated linearly between ⌊α⌋ and ⌈α⌉ (their Corollary 10, the
 * cumulant being convex). q = 0 gives 0; q = 1 the unsampled curve. `logForward` enables the
 * Gaussian refinement (see {@link gaussianWithoutReplacementRdp}).
 */
export function sampledWithoutReplacementRdp(alpha: number, q: number, eps: (order: number) => number, logForward: Float64Array | null = null): number {
  if (q === 0) return 0;
  if (q === 1) return eps(alpha);
  if (alpha === Infinity) return Infinity;
  const logQ = Math.log(q);
  if (Number.isInteger(alpha)) return logAWithoutReplacement(alpha, logQ, eps, logForward) / (alpha - 1);
  const lo = Math.floor(alpha);
  const hi = Math.ceil(alpha);
  const t = alpha - lo;
  const x = logAWithoutReplacement(lo, logQ, eps, logForward);
  const y = logAWithoutReplacement(hi, logQ, eps, logForward);
  return ((1 - t) * x + t * y) / (alpha - 1);
}

/**
 * The forward-difference table the Gaussian refinement needs: log upper bounds on |Δ^k h(0)|,
 * k = 0..257, for h(y) = exp(y(y−1)/(2σ²)) (the Gaussian's e^{(y−1)ε(y)}). Compute once per σ
 * and pass to {@link gaussianWithoutReplacementRdp} for every order.
 */
export function gaussianForwardDifferences(sigma: number): Float64Array {
  return logForwardDifferenceBounds((y) => (y * (y - 1)) / (2 * sigma * sigma), WOR_FORWARD_DIFFERENCE_MAX_ORDER + 1);
}

/**
 * RDP at order α of the Gaussian mechanism with noise multiplier σ (relative to its replace-one
 * sensitivity) on a fixed-size sample without replacement, fraction q: what dp_accounting's
 * `_compute_rdp_sample_wor_gaussian` computes (Theorem 9 with the forward-difference refinement up
 * to order 256, interpolated at fractional orders), except that forward differences lost to
 * cancellation are replaced by an upper bound instead of a rounding artefact.
 */
export function gaussianWithoutReplacementRdp(q: number, sigma: number, alpha: number, forward?: Float64Array): number {
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  const eps = (a: number): number => a / (2 * sigma * sigma);
  if (q === 1) return eps(alpha);
  return sampledWithoutReplacementRdp(alpha, q, eps, forward ?? gaussianForwardDifferences(sigma));
}
