import { logAdd, logBinomial, logErfc } from '../special.js';

/** Iteration cap of the fractional-order series, as in dp_accounting (`_MAX_STEPS_LOG_A_FRAC`). */
const MAX_STEPS_LOG_A_FRAC = 1000;

/** log A_α for integer α (exact binomial expansion in log space), 0 < q < 1. */
function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const logQ = Math.log(q);
  const log1mq = Math.log1p(-q);
  for (let i = 0; i <= alpha; i++) {
    const s = logBinomial(alpha, i) + i * logQ + (alpha - i) * log1mq + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, s);
  }
  return logA;
}

/**
 * log A_α for fractional α: the two-sided erfc series of Mironov, Talwar, Zhang (2019), Sec. 3.3,
 * computed as dp_accounting ≥ 0.5 does it: every term added by absolute value (log|C(α,i)| via
 * log-gamma, an upper bound on A_α), stopping once both terms decrease and fall 30 nats below the
 * running total; +∞ (the order is then excluded) if that has not happened in 1000 terms.
 */
function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mq = Math.log1p(-q);
  const sqrt2Sigma = Math.sqrt(2) * sigma;
  const twoSigma2 = 2 * sigma * sigma;
  const logHalf = Math.log(0.5);
  let lastS0 = -Infinity;
  let lastS1 = -Infinity;
  for (let i = 0; i < MAX_STEPS_LOG_A_FRAC; i++) {
    const logCoef = logBinomial(alpha, i);
    const j = alpha - i;
    const logT0 = logCoef + i * logQ + j * log1mq;
    const logT1 = logCoef + j * logQ + i * log1mq;
    const logE0 = logHalf + logErfc((i - z0) / sqrt2Sigma);
    const logE1 = logHalf + logErfc((z0 - j) / sqrt2Sigma);
    const logS0 = logT0 + (i * i - i) / twoSigma2 + logE0;
    const logS1 = logT1 + (j * j - j) / twoSigma2 + logE1;
    logA0 = logAdd(logA0, logS0);
    logA1 = logAdd(logA1, logS1);
    const total = logAdd(logA0, logA1);
    if (logS0 < lastS0 && logS1 < lastS1 && Math.max(logS0, logS1) < total - 30) return total;
    lastS0 = logS0;
    lastS1 = logS1;
  }
  return Infinity;
}

/**
 * RDP at order `alpha` of the Poisson-subsampled Gaussian mechanism with sampling rate `q` and
 * noise multiplier `sigma`, as dp_accounting's `_compute_rdp_poisson_subsampled_gaussian`.
 */
export function poissonGaussianRdp(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (alpha === Infinity || sigma === 0) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** RDP of the (unsampled) Gaussian mechanism: α / (2σ²). */
export function gaussianRdp(sigma: number, alpha: number): number {
  if (sigma === 0) return Infinity;
  return alpha / (2 * sigma * sigma);
}
