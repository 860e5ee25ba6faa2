import { check } from '../../../secagg/util/errors.js';
import type { LossDirection } from './gaussian.js';
import { bucketsPmf, type LossPmf } from './pmf.js';

/** A bound on the noise mass beyond the listed range; the PMFs add it to the infinite loss. */
export const UNLISTED_TAIL_BOUND = 1e-30;

/**
 * A symmetric noise distribution on the integers, as log-probabilities of the values
 * −radius..radius (index i holds value i − radius); mass outside that range is not listed and is
 * treated as unbounded privacy loss.
 */
export interface IntegerNoise {
  radius: number;
  logPmf: Float64Array;
}

function logSumExpArray(a: Float64Array): number {
  let m = -Infinity;
  for (const v of a) m = Math.max(m, v);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const v of a) s += Math.exp(v - m);
  return m + Math.log(s);
}

/**
 * Support half-width covering all but far less than {@link UNLISTED_TAIL_BOUND} of the mass of the
 * noises here (standard deviation `sd`; 12 sd holds Gaussian tails below e^−72, the 30 extra values
 * the heavier Poisson-like tails of a Skellam with small μ).
 */
function radiusFor(sd: number, sensitivity: number): number {
  return Math.ceil(12 * sd + 30 + sensitivity);
}

/**
 * The symmetric Skellam distribution Sk(μ, μ) (difference of two Poisson(μ); variance 2μ):
 * p(k) = e^{−2μ} I_k(2μ). Ratios I_{k+1}/I_k come from the backward recurrence
 * r_{k−1} = 1 / (2k/z + r_k) (stable, Miller's algorithm), so no Bessel function is evaluated;
 * the log-probabilities are normalised over a range wide enough that the rest underflows.
 */
export function skellamNoise(mu: number, sensitivity: number): IntegerNoise {
  check(Number.isFinite(mu) && mu > 0, 'dp/bad-noise', `Skellam μ must be a positive finite number, got ${mu}`);
  const radius = radiusFor(Math.sqrt(2 * mu), sensitivity);
  const z = 2 * mu;
  const top = radius + 200;
  const logRatio = new Float64Array(radius);
  // Start from the asymptotic ratio z / (k + 1 + sqrt((k + 1)² + z²)) far beyond the range.
  let r = z / (top + 1 + Math.sqrt((top + 1) ** 2 + z * z));
  for (let k = top; k >= 1; k--) {
    r = 1 / ((2 * k) / z + r); // r_{k−1}
    if (k - 1 < radius) logRatio[k - 1] = Math.log(r);
  }
  const logPmf = new Float64Array(2 * radius + 1);
  let acc = 0;
  logPmf[radius] = 0;
  for (let k = 1; k <= radius; k++) {
    acc += logRatio[k - 1] as number;
    logPmf[radius + k] = acc;
    logPmf[radius - k] = acc;
  }
  const norm = logSumExpArray(logPmf);
  for (let i = 0; i < logPmf.length; i++) logPmf[i] = (logPmf[i] as number) - norm;
  return { radius, logPmf };
}

/** The discrete Gaussian N_Z(0, σ²): p(k) ∝ exp(−k²/(2σ²)) (Canonne, Kamath, Steinke 2020). */
export function discreteGaussianNoise(sigma: number, sensitivity: number): IntegerNoise {
  check(Number.isFinite(sigma) && sigma > 0, 'dp/bad-noise', `discrete Gaussian σ must be a positive finite number, got ${sigma}`);
  const radius = radiusFor(sigma, sensitivity);
  const logPmf = new Float64Array(2 * radius + 1);
  for (let i = 0; i < logPmf.length; i++) logPmf[i] = -((i - radius) ** 2) / (2 * sigma * sigma);
  const norm = logSumExpArray(logPmf);
  for (let i = 0; i < logPmf.length; i++) logPmf[i] = (logPmf[i] as number) - norm;
  return { radius, logPmf };
}

/** Largest support (values) of a summed noise built by direct convolution. */
export const MAX_SUMMED_NOISE_SUPPORT = 1 << 15;

/**
 * The sum of `count` independent discrete Gaussians N_Z(0, σ²) (the distributed discrete Gaussian
 * of one coordinate): convolution by repeated squaring, done directly (all terms positive, so
 * every probability keeps its relative accuracy, which an FFT would not give the far tails).
 * Throws FedveilError('dp/pld-unsupported-event') when the support would exceed
 * {@link MAX_SUMMED_NOISE_SUPPORT} values.
 */
export function summedDiscreteGaussianNoise(sigma: number, count: number, sensitivity: number): IntegerNoise {
  const one = discreteGaussianNoise(sigma, 0);
  const wanted = radiusFor(sigma * Math.sqrt(count), sensitivity);
  check(2 * Math.min(wanted, one.radius * count) + 1 <= MAX_SUMMED_NOISE_SUPPORT, 'dp/pld-unsupported-event', `the sum of ${count} discrete Gaussians of σ ${sigma} has too wide a support for the PLD accountant`);
  const base = Float64Array.from(one.logPmf, Math.exp);
  const trim = (p: Float64Array, radius: number): { p: Float64Array; radius: number } => {
    if (radius <= wanted) return { p, radius };
    return { p: p.slice(radius - wanted, radius + wanted + 1), radius: wanted };
  };
  const conv = (a: { p: Float64Array; radius: number }, b: { p: Float64Array; radius: number }) => {
    const out = new Float64Array(a.p.length + b.p.length - 1);
    for (let i = 0; i < a.p.length; i++) {
      const ai = a.p[i] as number;
      if (ai === 0) continue;
      for (let j = 0; j < b.p.length; j++) out[i + j] = (out[i + j] as number) + ai * (b.p[j] as number);
    }
    return trim(out, a.radius + b.radius);
  };
  let result: { p: Float64Array; radius: number } | null = null;
  let power: { p: Float64Array; radius: number } = { p: base, radius: one.radius };
  for (let n = count; n > 0; n >>= 1) {
    if (n & 1) result = result === null ? power : conv(result, power);
    if (n > 1) power = conv(power, power);
  }
  const r = result as { p: Float64Array; radius: number };
  return { radius: r.radius, logPmf: Float64Array.from(r.p, Math.log) };
}

/**
 * The privacy-buckets PMF (pessimistic) of adding `noise` to an integer query of sensitivity
 * `shift`, Poisson-subsampled with probability q, along one direction (see
 * {@link LossDirection}): every outcome's μ_upper mass on its loss rounded up; μ_upper mass
 * outside the listed range goes to +∞. dp_accounting builds its discrete Laplace and discrete
 * Gaussian PLDs the same way (privacy buckets, not connect-the-dots).
 */
export function integerNoisePmf(noise: IntegerNoise, shift: number, q: number, direction: LossDirection, discretization: number): LossPmf {
  check(Number.isSafeInteger(shift) && shift >= 1, 'dp/pld-unsupported-event', `integer noise needs a whole positive sensitivity, got ${shift}`);
  const { radius, logPmf } = noise;
  const at = (x: number): number => (x < -radius || x > radius ? -Infinity : (logPmf[x + radius] as number));
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const mix = (a: number, b: number): number => {
    // log((1 − q)·e^a + q·e^b)
    const x = q === 1 ? -Infinity : log1mQ + a;
    const y = logQ + b;
    if (x === -Infinity) return y;
    if (y === -Infinity) return x;
    const m = Math.max(x, y);
    return m + Math.log1p(Math.exp(Math.min(x, y) - m));
  };
  const lo = -radius - shift;
  const hi = radius + shift;
  const losses = new Float64Array(hi - lo + 1);
  const masses = new Float64Array(hi - lo + 1);
  let listed = 0;
  for (let x = lo; x <= hi; x++) {
    const upper = direction === 'remove' ? mix(at(x), at(x + shift)) : at(x);
    const lower = direction === 'remove' ? at(x) : mix(at(x), at(x - shift));
    const m = Math.exp(upper);
    masses[x - lo] = m;
    listed += m;
    losses[x - lo] = upper === -Infinity ? 0 : lower === -Infinity ? Infinity : upper - lower;
  }
  return bucketsPmf(discretization, losses, masses, Math.max(0, 1 - listed) + UNLISTED_TAIL_BOUND);
}
