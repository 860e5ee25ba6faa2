import { check } from '../../../secagg/util/errors.js';
import { convolve, powerOfTwoAtLeast, selfConvolveCyclic } from './fft.js';

/**
 * Mass a composition may cut from the tails of its result (dp_accounting's default): the lower
 * tail is added to the lowest kept loss and the upper tail moved to +∞, so the cut only makes the
 * distribution more pessimistic.
 */
export const TAIL_MASS_TRUNCATION = 1e-15;

/**
 * A discretised privacy-loss distribution (one direction of a neighbouring pair): mass `probs[i]`
 * on the privacy loss (lowerLoss + i)·discretization, plus `infinityMass` on +∞. Pessimistic by
 * construction: every operation here only moves mass to higher losses.
 */
export interface LossPmf {
  readonly discretization: number;
  readonly lowerLoss: number;
  readonly probs: Float64Array;
  readonly infinityMass: number;
}

/** The PMF of a mechanism that releases nothing: all mass on loss 0. */
export function identityPmf(discretization: number): LossPmf {
  return { discretization, lowerLoss: 0, probs: Float64Array.of(1), infinityMass: 0 };
}

/**
 * Cuts the longest prefix and the longest suffix of `probs` whose masses are each at most
 * `tail / 2` (dp_accounting's `_truncate_tails`, pessimistic): the prefix's mass is added to the
 * first kept bucket (a higher loss), the suffix's goes to +∞.
 */
export function truncateTails(probs: Float64Array, tail: number): { offset: number; probs: Float64Array; toInfinity: number } {
  if (tail === 0) return { offset: 0, probs, toInfinity: 0 };
  const half = tail / 2;
  let left = probs.length;
  for (let i = 0, s = 0; i < probs.length; i++) {
    s += probs[i] as number;
    if (s > half) {
      left = i;
      break;
    }
  }
  let suffix = probs.length;
  for (let i = probs.length - 1, s = 0; i >= 0; i--) {
    s += probs[i] as number;
    if (s > half) {
      suffix = probs.length - 1 - i;
      break;
    }
  }
  let right = probs.length - suffix;
  right = Math.max(right, left + 1);
  let leftMass = 0;
  for (let i = 0; i < left; i++) leftMass += probs[i] as number;
  let rightMass = 0;
  for (let i = right; i < probs.length; i++) rightMass += probs[i] as number;
  const kept = probs.slice(left, right);
  kept[0] = (kept[0] as number) + leftMass;
  return { offset: left, probs: kept, toInfinity: rightMass };
}

function checkSameGrid(a: LossPmf, b: LossPmf): void {
  check(a.discretization === b.discretization, 'dp/pld-grid-mismatch', `cannot compose PLDs on grids ${a.discretization} and ${b.discretization}`);
}

/** The PMF of running both mechanisms (convolution of the losses), tails cut by {@link truncateTails}. */
export function composePmfs(a: LossPmf, b: LossPmf, tail = TAIL_MASS_TRUNCATION): LossPmf {
  checkSameGrid(a, b);
  const t = truncateTails(convolve(a.probs, b.probs), tail);
  return {
    discretization: a.discretization,
    lowerLoss: a.lowerLoss + b.lowerLoss + t.offset,
    probs: clampNonNegative(t.probs),
    infinityMass: a.infinityMass + b.infinityMass - a.infinityMass * b.infinityMass + t.toInfinity,
  };
}

/** FFT round-off leaves tiny negative masses; they are not probabilities. */
function clampNonNegative(p: Float64Array): Float64Array {
  for (let i = 0; i < p.length; i++) if (!((p[i] as number) > 0)) p[i] = 0;
  return p;
}

/** Chernoff orders, times 1/length: dp_accounting's ±1..±20, and larger ones that cut wide PMFs far tighter. */
const CHERNOFF_ORDERS = [1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 30, 50, 80, 120, 200, 320, 500, 800].flatMap((k) => [k, -k]);

/**
 * Bounds [lo, hi] on the index of the `times`-fold self-convolution of `probs` outside which at
 * most `tail` mass lies: Chernoff bounds, as dp_accounting's `compute_self_convolve_bounds` (whose
 * orders ±1..±20 per length are among these; the larger ones only narrow the range, and the log
 * moment generating function is computed shifted, so they do not overflow).
 */
export function selfConvolveBounds(probs: Float64Array, times: number, tail: number): { lo: number; hi: number } {
  let hi = (probs.length - 1) * times;
  let lo = 0;
  if (tail === 0) return { lo, hi };
  const n = probs.length;
  for (const k of CHERNOFF_ORDERS) {
    const order = k / n;
    const max = order > 0 ? (n - 1) * order : 0;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const p = probs[i] as number;
      if (p > 0) s += p * Math.exp(i * order - max);
    }
    const logMgf = max + Math.log(s);
    const bound = (times * logMgf + Math.log(2 / tail)) / order;
    if (!Number.isFinite(bound)) continue;
    if (order > 0) hi = Math.min(hi, Math.ceil(bound));
    else lo = Math.max(lo, Math.floor(bound));
  }
  return { lo, hi };
}

/**
 * The PMF of `times` independent runs (dp_accounting's `self_compose`): one transform raised to
 * the power `times` on a support cut by {@link selfConvolveBounds}; the infinity mass becomes
 * tail + 1 − (1 − m)^times.
 */
export function selfComposePmf(pmf: LossPmf, times: number, tail = TAIL_MASS_TRUNCATION): LossPmf {
  check(Number.isSafeInteger(times) && times >= 1, 'dp/bad-steps', `a PLD is composed a positive whole number of times, got ${times}`);
  if (times === 1) return pmf;
  const { lo, hi } = selfConvolveBounds(pmf.probs, times, tail);
  const outLen = hi - lo + 1;
  const size = powerOfTwoAtLeast(Math.max(outLen, pmf.probs.length));
  const cyclic = selfConvolveCyclic(pmf.probs, times, size);
  const probs = new Float64Array(outLen);
  for (let i = 0; i < outLen; i++) probs[i] = cyclic[(((lo + i) % size) + size) % size] as number;
  return {
    discretization: pmf.discretization,
    lowerLoss: pmf.lowerLoss * times + lo,
    probs: clampNonNegative(probs),
    infinityMass: tail - Math.expm1(times * Math.log1p(-pmf.infinityMass)),
  };
}

/** The ε-hockey-stick divergence of the PMF: infinityMass + Σ_{loss > ε} p·(1 − e^{ε − loss}). */
export function pmfDeltaForEpsilon(pmf: LossPmf, epsilon: number): number {
  let delta = pmf.infinityMass;
  const d = pmf.discretization;
  for (let i = pmf.probs.length - 1; i >= 0; i--) {
    const loss = (pmf.lowerLoss + i) * d;
    if (!(loss > epsilon)) break;
    delta += -Math.expm1(epsilon - loss) * (pmf.probs[i] as number);
  }
  return delta;
}

/**
 * The smallest ε >= 0 whose hockey-stick divergence is at most `delta` (+∞ when the infinity mass
 * alone exceeds it): dp_accounting's `_get_epsilon_for_delta`, exact for the discrete PMF.
 */
export function pmfEpsilonForDelta(pmf: LossPmf, delta: number): number {
  if (pmf.infinityMass > delta) return Infinity;
  let upper = pmf.infinityMass;
  let lower = 0;
  const d = pmf.discretization;
  for (let i = pmf.probs.length - 1; i >= 0; i--) {
    const loss = (pmf.lowerLoss + i) * d;
    if (upper > delta && lower > 0 && Math.log((upper - delta) / lower) >= loss) break;
    const p = pmf.probs[i] as number;
    upper += p;
    lower += Math.exp(-loss) * p;
    if (upper >= delta && lower === 0) return Math.max(0, loss);
  }
  if (upper <= lower + delta) return 0;
  return Math.log((upper - delta) / lower);
}

/**
 * Pessimistic connect-the-dots PMF (Doroshenko, Ghazi, Kamath, Kumar, Manurangsi 2022,
 * Algorithm 1, the fixed-gap form of dp_accounting): given the mechanism's hockey-stick curve
 * δ(ε) at ε = (lo + i)·d, i = 0..n−1, the PMF on those losses (and +∞) whose curve lies above the
 * true one everywhere and agrees with it on the grid.
 */
export function connectTheDotsPmf(discretization: number, lo: number, deltasIn: Float64Array): LossPmf {
  const n = deltasIn.length;
  check(n >= 1, 'dp/pld-bad-curve', 'connect-the-dots needs at least one point');
  const deltas = new Float64Array(n);
  let running = Infinity;
  for (let i = 0; i < n; i++) {
    const v = Math.min(1, Math.max(0, deltasIn[i] as number));
    running = Math.min(running, v);
    deltas[i] = running;
  }
  if (n === 1) return { discretization, lowerLoss: lo, probs: Float64Array.of(1 - (deltas[0] as number)), infinityMass: deltas[0] as number };
  const e = Math.exp(discretization);
  const em1 = Math.expm1(discretization);
  const probs = new Float64Array(n);
  probs[0] = 1 - (deltas[0] as number) + ((deltas[1] as number) - (deltas[0] as number)) / em1;
  for (let i = 1; i < n - 1; i++) {
    const next = (deltas[i + 1] as number) - (deltas[i] as number);
    const prev = (deltas[i] as number) - (deltas[i - 1] as number);
    probs[i] = (next - prev * e) / em1;
  }
  probs[n - 1] = ((deltas[n - 1] as number) - (deltas[n - 2] as number)) / Math.expm1(-discretization);
  return { discretization, lowerLoss: lo, probs: clampNonNegative(probs), infinityMass: deltas[n - 1] as number };
}

/**
 * Privacy-buckets PMF (pessimistic): each outcome's mass on its privacy loss rounded up to the
 * grid; `infinityMass` already holds the outcomes left out (treated as unbounded loss).
 */
export function bucketsPmf(discretization: number, losses: ArrayLike<number>, masses: ArrayLike<number>, infinityMass: number): LossPmf {
  let lo = Infinity;
  let hi = -Infinity;
  let inf = infinityMass;
  const idx = new Float64Array(losses.length);
  for (let i = 0; i < losses.length; i++) {
    const l = losses[i] as number;
    if (l === Infinity) {
      inf += masses[i] as number;
      idx[i] = NaN;
      continue;
    }
    const k = Math.ceil(l / discretization);
    idx[i] = k;
    if ((masses[i] as number) > 0) {
      lo = Math.min(lo, k);
      hi = Math.max(hi, k);
    }
  }
  if (lo === Infinity) return { discretization, lowerLoss: 0, probs: Float64Array.of(0), infinityMass: inf };
  const probs = new Float64Array(hi - lo + 1);
  for (let i = 0; i < losses.length; i++) {
    const k = idx[i] as number;
    const m = masses[i] as number;
    if (!Number.isNaN(k) && m > 0) probs[k - lo] = (probs[k - lo] as number) + m;
  }
  return { discretization, lowerLoss: lo, probs, infinityMass: inf };
}
