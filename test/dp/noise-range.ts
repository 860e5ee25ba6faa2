import { checkModulusHeadroom, type DpConfig } from '../../src/dp/config.js';

/**
 * The largest per-client integer noise a config that passes the modulus-headroom check can ask
 * for: bits = 32, d = 1, a single contributor who carries all the noise (t = n = 1; more
 * contributors only lower each one's share), and a clip so small that the signal term is
 * negligible. Skellam: the Poisson mean μ per side; discrete Gaussian: σ.
 */
export function largestConfigNoise(mechanism: 'skellam' | 'ddg'): number {
  const config = (z: number): DpConfig => ({ mechanism, clipNorm: 1e-6, bits: 32, scale: 1, rotation: false, noiseMultiplier: z, minContributors: 1 });
  const fits = (z: number): boolean => {
    try {
      checkModulusHeadroom(config(z), 1, 1);
      return true;
    } catch {
      return false;
    }
  };
  // Bisection on z between a multiplier that fits and one that does not.
  let lo = 1;
  let hi = 1e30;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  const sigma = lo * 1e-6; // the central standard deviation zC/γ
  return mechanism === 'skellam' ? (sigma * sigma) / 2 : sigma;
}
