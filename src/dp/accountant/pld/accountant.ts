import { FedveilError, check } from '../../../secagg/util/errors.js';
import type { DpEvent } from '../../events.js';
import { checkDelta } from '../rdp.js';
import { integerNoisePmf, skellamNoise, summedDiscreteGaussianNoise, type IntegerNoise } from './discrete.js';
import { GaussianPrivacyLoss, connectTheDotsFromCurve, maxCurve, type LossDirection } from './gaussian.js';
import { composePmfs, identityPmf, pmfDeltaForEpsilon, pmfEpsilonForDelta, selfComposePmf, type LossPmf } from './pmf.js';

/** Name and version of the PLD accountant, recorded in privacy reports. */
export const PLD_ACCOUNTANT = { name: 'fedveil-pld', version: '1' } as const;

/** dp_accounting's default value discretisation interval. */
export const DEFAULT_VALUE_DISCRETIZATION = 1e-4;

/**
 * A privacy-loss distribution: the remove-direction and add-direction PMFs (the same object when
 * the mechanism is symmetric). δ(ε) is the larger of the two, as in dp_accounting.
 */
export interface Pld {
  remove: LossPmf;
  add: LossPmf;
}

function symmetric(p: LossPmf): Pld {
  return { remove: p, add: p };
}

function nonPrivate(d: number): Pld {
  return symmetric({ discretization: d, lowerLoss: 0, probs: Float64Array.of(0), infinityMass: 1 });
}

function selfCompose(p: Pld, times: number): Pld {
  if (times === 1) return p;
  const remove = selfComposePmf(p.remove, times);
  return p.add === p.remove ? symmetric(remove) : { remove, add: selfComposePmf(p.add, times) };
}

/** Runs both mechanisms: the remove PMFs convolved together, and the add PMFs. */
export function composePld(a: Pld, b: Pld): Pld {
  const remove = composePmfs(a.remove, b.remove);
  if (a.add === a.remove && b.add === b.remove) return symmetric(remove);
  return { remove, add: composePmfs(a.add, b.add) };
}

function gaussianPmf(sigma: number, q: number, direction: LossDirection, d: number): LossPmf {
  return connectTheDotsFromCurve(new GaussianPrivacyLoss(sigma, 1, q, direction), d);
}

/** PLD of integer noise with shift `shift`, Poisson-subsampled with probability q. */
function integerPld(noise: IntegerNoise, shift: number, q: number, d: number): Pld {
  const remove = integerNoisePmf(noise, shift, q, 'remove', d);
  // Symmetric noise at q = 1: the add direction is the remove direction mirrored.
  return q === 1 ? symmetric(remove) : { remove, add: integerNoisePmf(noise, shift, q, 'add', d) };
}

function unsupported(event: DpEvent, why: string): never {
  throw new FedveilError('dp/pld-unsupported-event', `the PLD accountant cannot account ${event.kind === 'poisson_sampled' || event.kind === 'sampled_without_replacement' ? `${event.kind}(${event.event.kind})` : `'${event.kind}'`}: ${why}`);
}

/**
 * The number of unit shifts a Skellam event's integer sensitivity is split into, when the PLD
 * accountant can bound it: a shift vector v with ‖v‖₁ <= K (K = ⌊Δ₁⌋) is K unit shifts, and
 * Sk(μ) = Σ of K independent Sk(μ/K), so releasing the sum is post-processing of K releases each
 * shifted by at most one unit in one coordinate: K-fold composition of the one-dimensional
 * unit-shift PLD of Sk(μ/K). That bound is as tight as the one-coordinate PLD only when the L1
 * bound adds nothing to the L2 one (⌊Δ₁⌋ = ⌊Δ₂⌋, a one-dimensional query); for a d-dimensional
 * update Δ₁ ≈ √d·Δ₂ and the bound would be far looser than the RDP one, so it is refused.
 */
function skellamUnitShifts(event: Extract<DpEvent, { kind: 'skellam' }>): number {
  const k = Math.floor(event.l1Sensitivity);
  if (k !== Math.floor(event.l2Sensitivity) || k < 1) {
    unsupported(event, `its L1 sensitivity ${event.l1Sensitivity} exceeds its L2 sensitivity ${event.l2Sensitivity}: the update spreads over several coordinates, and no PMF-based PLD of the vector Skellam is implemented (use the RDP accountant)`);
  }
  return k;
}

/**
 * PLD of `event` run `count` times, following dp_accounting's PLDAccountant: a Gaussian run
 * `count` times is one Gaussian of σ/√count; a Poisson-subsampled Gaussian is the connect-the-dots
 * PMF of each direction self-composed `count` times (at q = 1, the Gaussian run `count` times,
 * the same mechanism without an FFT over a wide support). Beyond dp_accounting:
 *
 * - `sampled_without_replacement(gaussian)` (replace-one, σ relative to the replace-one
 *   sensitivity): the connect-the-dots PMF of the larger of the remove-like and add-like curves
 *   of the mixture with q = m/N (see {@link maxCurve}), self-composed;
 * - `skellam`: see {@link skellamUnitShifts}; Poisson-subsampled only when K = 1;
 * - `distributed_discrete_gaussian` of one coordinate (dim 1): the PMF of the sum of the
 *   contributors' discrete Gaussians, shifted by ⌊min(Δ₁, Δ₂)⌋, Poisson-subsampled or not.
 *
 * Throws FedveilError('dp/pld-unsupported-event') for anything else.
 */
function eventPld(event: DpEvent, count: number, d: number): Pld {
  switch (event.kind) {
    case 'no_op':
      return symmetric(identityPmf(d));
    case 'non_private':
      return nonPrivate(d);
    case 'self_composed':
      if (event.count === 0) return symmetric(identityPmf(d));
      return eventPld(event.event, count * event.count, d);
    case 'composed': {
      let acc = symmetric(identityPmf(d));
      for (const e of event.events) acc = composePld(acc, eventPld(e, count, d));
      return acc;
    }
    case 'gaussian':
      if (event.noiseMultiplier === 0) return nonPrivate(d);
      return symmetric(gaussianPmf(event.noiseMultiplier / Math.sqrt(count), 1, 'remove', d));
    case 'skellam': {
      if (event.mu === 0) return nonPrivate(d);
      const k = skellamUnitShifts(event);
      return selfCompose(integerPld(skellamNoise(event.mu / k, 1), 1, 1, d), k * count);
    }
    case 'distributed_discrete_gaussian':
      return selfCompose(discreteGaussianPld(event, 1, d), count);
    case 'poisson_sampled': {
      const q = event.samplingProbability;
      const inner = event.event;
      if (q === 0 || inner.kind === 'no_op') return symmetric(identityPmf(d));
      if (inner.kind === 'non_private') return nonPrivate(d);
      if (inner.kind === 'gaussian') {
        if (inner.noiseMultiplier === 0) return nonPrivate(d);
        // Sampling everyone is the Gaussian itself, and `count` runs of it one Gaussian of σ/√count.
        if (q === 1) return eventPld(inner, count, d);
        const remove = gaussianPmf(inner.noiseMultiplier, q, 'remove', d);
        return selfCompose({ remove, add: gaussianPmf(inner.noiseMultiplier, q, 'add', d) }, count);
      }
      if (inner.kind === 'skellam') {
        if (inner.mu === 0) return nonPrivate(d);
        const k = skellamUnitShifts(inner);
        if (k !== 1 && q !== 1) unsupported(event, 'a subsampled Skellam is accounted only for a unit sensitivity (the split into unit shifts does not commute with sampling)');
        return selfCompose(integerPld(skellamNoise(inner.mu / k, 1), 1, q, d), k * count);
      }
      if (inner.kind === 'distributed_discrete_gaussian') return selfCompose(discreteGaussianPld(inner, q, d), count);
      return unsupported(event, 'only Gaussian, Skellam and discrete Gaussian mechanisms are subsampled');
    }
    case 'sampled_without_replacement': {
      const q = event.sampleSize / event.populationSize;
      const inner = event.event;
      if (q === 0 || inner.kind === 'no_op') return symmetric(identityPmf(d));
      if (inner.kind === 'non_private') return nonPrivate(d);
      if (inner.kind !== 'gaussian') return unsupported(event, 'sampling without replacement is accounted for the Gaussian mechanism only');
      if (inner.noiseMultiplier === 0) return nonPrivate(d);
      if (q === 1) return eventPld(inner, count, d);
      const sigma = inner.noiseMultiplier;
      const curve = maxCurve(new GaussianPrivacyLoss(sigma, 1, q, 'remove'), new GaussianPrivacyLoss(sigma, 1, q, 'add'));
      return selfCompose(symmetric(connectTheDotsFromCurve(curve, d)), count);
    }
  }
}

function discreteGaussianPld(event: Extract<DpEvent, { kind: 'distributed_discrete_gaussian' }>, q: number, d: number): Pld {
  if (event.localStddev === 0) return nonPrivate(d);
  if (event.dim !== 1) unsupported(event, `it spreads over ${event.dim} coordinates; the PMF-based PLD is implemented for one coordinate (use the RDP accountant)`);
  const shift = Math.floor(Math.min(event.l1Sensitivity, event.l2Sensitivity));
  check(shift >= 1, 'dp/pld-unsupported-event', `an integer sensitivity below 1 (${event.l2Sensitivity}) is not an integer shift`);
  return integerPld(summedDiscreteGaussianNoise(event.localStddev, event.contributors, shift), shift, q, d);
}

/** Options of the PLD accountant. */
export interface PldOptions {
  /** Grid spacing of the privacy losses (default {@link DEFAULT_VALUE_DISCRETIZATION}); smaller is tighter and slower. */
  valueDiscretization?: number;
}

function discretizationOf(options: PldOptions): number {
  const d = options.valueDiscretization ?? DEFAULT_VALUE_DISCRETIZATION;
  check(Number.isFinite(d) && d > 0 && d <= 1, 'dp/bad-discretization', `value discretization must be in (0, 1], got ${d}`);
  return d;
}

/** The PLD of `event` (see eventPld for what is supported). */
export function pldOf(event: DpEvent, options: PldOptions = {}): Pld {
  return eventPld(event, 1, discretizationOf(options));
}

/** δ at `epsilon` of a PLD: the larger of its two directions' hockey-stick divergences. */
export function pldDelta(pld: Pld, epsilon: number): number {
  const r = pmfDeltaForEpsilon(pld.remove, epsilon);
  return pld.add === pld.remove ? r : Math.max(r, pmfDeltaForEpsilon(pld.add, epsilon));
}

/** The smallest ε >= 0 with δ(ε) <= delta for a PLD (+∞ when none is finite). */
export function pldEpsilonOf(pld: Pld, delta: number): number {
  checkDelta(delta);
  const r = pmfEpsilonForDelta(pld.remove, delta);
  return pld.add === pld.remove ? r : Math.max(r, pmfEpsilonForDelta(pld.add, delta));
}

/**
 * ε of `event` at `delta` with the PLD accountant (pessimistic: never below the true ε of the
 * events it supports). +∞ for a non-private event. Throws FedveilError('dp/pld-unsupported-event')
 * for events it cannot account, 'dp/bad-delta' unless 0 < δ < 1.
 */
export function pldEpsilon(event: DpEvent, delta: number, options: PldOptions = {}): number {
  checkDelta(delta);
  return pldEpsilonOf(pldOf(event, options), delta);
}

/** δ of `event` at `epsilon` with the PLD accountant. */
export function pldDeltaForEpsilon(event: DpEvent, epsilon: number, options: PldOptions = {}): number {
  check(!Number.isNaN(epsilon), 'dp/bad-epsilon', 'epsilon must be a number');
  return pldDelta(pldOf(event, options), epsilon);
}

/** True when the PLD accountant supports `event` (it would not throw 'dp/pld-unsupported-event'). */
export function pldSupports(event: DpEvent): boolean {
  switch (event.kind) {
    case 'no_op':
    case 'non_private':
    case 'gaussian':
      return true;
    case 'self_composed':
      return event.count === 0 || pldSupports(event.event);
    case 'composed':
      return event.events.every(pldSupports);
    case 'skellam':
      return event.mu === 0 || (Math.floor(event.l1Sensitivity) === Math.floor(event.l2Sensitivity) && event.l1Sensitivity >= 1);
    case 'distributed_discrete_gaussian':
      return event.localStddev === 0 || (event.dim === 1 && Math.min(event.l1Sensitivity, event.l2Sensitivity) >= 1);
    case 'poisson_sampled': {
      const inner = event.event;
      if (event.samplingProbability === 0 || inner.kind === 'no_op' || inner.kind === 'non_private' || inner.kind === 'gaussian') return true;
      if (inner.kind === 'skellam') return pldSupports(inner) && (inner.mu === 0 || event.samplingProbability === 1 || Math.floor(inner.l1Sensitivity) === 1);
      if (inner.kind === 'distributed_discrete_gaussian') return pldSupports(inner);
      return false;
    }
    case 'sampled_without_replacement': {
      const inner = event.event;
      return event.sampleSize === 0 || inner.kind === 'no_op' || inner.kind === 'non_private' || inner.kind === 'gaussian';
    }
  }
}
