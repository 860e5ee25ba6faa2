import { logBinomial, logSumExp } from '../special.js';

/**
 * RDP at order α of the Skellam mechanism Sk(mu, mu) per coordinate (variance V = 2mu) on an
 * integer query with sensitivities Δ1, Δ2 (integer units), Agarwal, Kairouz, Liu (NeurIPS 2021):
 *
 *   α Δ2² / (2V) + min( ((2α − 1) Δ2² + 6 Δ1) / (4 V²),  3 Δ1 / (2V) )
 *
 * (the official code's `_skellam_rdp` with scale 1, i.e. everything already in integer units).
 */
export function skellamRdp(mu: number, l1: number, l2: number, alpha: number): number {
  if (mu === 0) return Infinity;
  const v = 2 * mu;
  return (alpha * l2 * l2) / (2 * v) + Math.min(((2 * alpha - 1) * l2 * l2 + 6 * l1) / (4 * v * v), (3 * l1) / (2 * v));
}

/**
 * RDP at order α of the distributed discrete Gaussian: the sum of n discrete Gaussians of local
 * stddev σ (integer units) in d coordinates, KLS 2021 Proposition 14 with τ from Theorem 1:
 * τ = 10 Σ_{k=1}^{n-1} exp(−2π²σ² k/(k+1)); scales are sensitivity / (√n σ).
 */
export function distributedDiscreteGaussianRdp(localStddev: number, contributors: number, l1: number, l2: number, dim: number, alpha: number): number {
  if (localStddev === 0) return Infinity;
  let tau = 0;
  for (let k = 1; k < contributors; k++) tau += Math.exp(-2 * (Math.PI * localStddev) ** 2 * (k / (k + 1)));
  tau *= 10;
  const denom = Math.sqrt(contributors) * localStddev;
  const l1s = l1 / denom;
  const l2s = l2 / denom;
  const t1 = (alpha / 2) * l2s * l2s + tau * dim;
  const t2 = (alpha / 2) * (l2s * l2s + 2 * l1s * tau + tau * tau * dim);
  const t3 = (alpha / 2) * (l2s + Math.sqrt(dim) * tau) ** 2;
  return Math.min(t1, t2, t3);
}

/**
 * RDP at integer order α >= 2 of a mechanism with RDP curve `eps` under Poisson subsampling with
 * rate γ: the general upper bound of Zhu & Wang, "Poisson Subsampled Rényi Differential Privacy"
 * (ICML 2019), Theorem 5, in the form of the official distributed-DP accounting code
 * (`_compute_rdp_subsampled`, upper_bound=True). Non-integer orders give +∞ (excluded).
 */
export function zhuWangSubsampledRdp(alpha: number, gamma: number, eps: (order: number) => number): number {
  if (!Number.isInteger(alpha) || alpha < 2) return Infinity;
  const a: number[] = [0, eps(2)];
  const b: number[] = [(1 - gamma) ** (alpha - 1) * (alpha * gamma - gamma + 1), ((alpha * (alpha - 1)) / 2) * gamma * gamma * (1 - gamma) ** (alpha - 2)];
  const log1mg = Math.log(1 - gamma);
  const logG = Math.log(gamma);
  for (let l = 3; l <= alpha; l++) {
    a.push((l - 1) * eps(l) + logBinomial(alpha, l) + (alpha - l) * log1mg + l * logG);
    b.push(3);
  }
  return logSumExp(a, b) / (alpha - 1);
}
