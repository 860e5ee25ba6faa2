/** Options of {@link epsilonFromRdp}. */
export interface ConversionOptions {
  /**
   * Take the KL branch (ε = 0) when δ² + expm1(−r) >= 0 instead of > 0. dp_accounting uses `> 0`;
   * TF Privacy 0.8's `get_privacy_spent` (used by the distributed-DP reference code) uses `>= 0`.
   */
  klInclusive?: boolean;
}

/**
 * RDP → (ε, δ) conversion of dp_accounting's `compute_epsilon` (Canonne, Kamath, Steinke 2020,
 * Prop. 12; Asoodeh et al. 2020, Eq. 20): per order a with RDP r, ε = 0 when r < 0 or when the KL
 * bound already gives δ; else r + log1p(−1/a) − log(δa)/(a − 1) for a > 1.01; else ∞. Returns
 * max(0, min) and the first order attaining the minimum.
 */
export function epsilonFromRdp(orders: readonly number[], rdp: ArrayLike<number>, delta: number, options: ConversionOptions = {}): { epsilon: number; order: number } {
  let best = Infinity;
  let bestIdx = 0;
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i] as number;
    const r = rdp[i] as number;
    let eps: number;
    const kl = delta * delta + Math.expm1(-r);
    if (r < 0) eps = 0;
    else if (options.klInclusive === true ? kl >= 0 : kl > 0) eps = 0;
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Infinity;
    // NaN never wins (numpy argmin would return it; our curves never produce NaN).
    if (eps < best) {
      best = eps;
      bestIdx = i;
    }
  }
  return { epsilon: Math.max(0, best), order: orders[bestIdx] as number };
}
