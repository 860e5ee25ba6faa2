import { check } from '../../secagg/util/errors.js';
import type { CohortMethod } from '../cohort.js';
import { parseDpConfig, type DpConfig } from '../config.js';
import { ledgerReaderEvent, modelObserverAdjacency, modelObserverEvent, poissonGaussianEvent, type DpEvent } from '../events.js';
import { checkDelta, rdpEpsilon } from './rdp.js';
import { pldEpsilon, pldSupports } from './pld/accountant.js';

/** The accountant a calibration (or an ε) is computed with. */
export type AccountantKind = 'rdp' | 'pld';

/**
 * Grid the PLD calibration searches on. A coarser grid is pessimistic too (its connect-the-dots
 * points are a subset of the finer grid's, so its curve lies above), hence a noise multiplier
 * calibrated on it reaches the target on the default 1e-4 grid as well, with a little more noise;
 * it makes each evaluation about ten times cheaper, so calibrating 1 000 rounds stays near a second.
 */
export const PLD_CALIBRATION_DISCRETIZATION = 1e-3;
/** Relative precision to which PLD calibration pins the noise multiplier (its ε is a step function of the grid). */
const PLD_RELATIVE_TOLERANCE = 1e-6;

/** ε of `event` at `delta` under `accountant` (the PLD one on the calibration grid). */
function epsilonFor(accountant: AccountantKind, event: DpEvent, delta: number): number {
  return accountant === 'pld' ? pldEpsilon(event, delta, { valueDiscretization: PLD_CALIBRATION_DISCRETIZATION }) : rdpEpsilon(event, delta).epsilon;
}

/** Relative precision to which calibration pins the noise multiplier. */
const RELATIVE_TOLERANCE = 1e-12;

/**
 * Smallest noise multiplier z with epsilonOf(z) <= target, for an ε that decreases in z, to
 * relative precision 1e-12: bracket by doubling/halving, then the Illinois variant of regula falsi
 * on log z (superlinear on the smooth pieces, and the bracket always shrinks, so it cannot fail
 * where ε switches optimal order).
 */
function solveDecreasing(epsilonOf: (z: number) => number, target: number, tolerance = RELATIVE_TOLERANCE, start = 1): number {
  const f = (logZ: number): number => epsilonOf(Math.exp(logZ)) - target;
  let hi = Math.log(start);
  let fHi = f(hi);
  let guard = 0;
  while (!(fHi <= 0)) {
    hi += Math.LN2;
    fHi = f(hi);
    check(++guard < 80, 'dp/calibration-failed', `no noise multiplier up to ${Math.exp(hi)} reaches epsilon ${target}`);
  }
  // From a good start (the RDP multiplier for a PLD search) a narrow step brackets the root.
  const stepDown = start === 1 ? Math.LN2 : Math.log(1.25);
  let lo = hi - stepDown;
  let fLo = f(lo);
  guard = 0;
  while (fLo <= 0) {
    hi = lo;
    fHi = fLo;
    lo -= stepDown;
    fLo = f(lo);
    check(++guard < 80, 'dp/calibration-failed', `epsilon ${target} is reached with arbitrarily little noise`);
  }
  // Invariant: f(lo) > 0 >= f(hi). `side` remembers which end was kept last (Illinois halving).
  let side = 0;
  for (let iter = 0; iter < 200 && hi - lo > tolerance; iter++) {
    let mid = Number.isFinite(fLo) ? hi - (fHi * (hi - lo)) / (fHi - fLo) : (lo + hi) / 2;
    if (!(mid > lo && mid < hi)) mid = (lo + hi) / 2;
    const fMid = f(mid);
    if (fMid <= 0) {
      hi = mid;
      fHi = fMid;
      if (side === -1) fLo /= 2;
      side = -1;
    } else {
      lo = mid;
      fLo = fMid;
      if (side === 1) fHi /= 2;
      side = 1;
    }
    if (fHi > -Math.max(1e-13, tolerance * 1e-3) * target) break; // hi is the root to the precision asked
  }
  return Math.exp(hi);
}

function checkTarget(epsilon: number, delta: number, samplingRate: number, steps: number): void {
  check(Number.isFinite(epsilon) && epsilon > 0, 'dp/bad-epsilon', `target epsilon must be a finite number > 0, got ${epsilon}`);
  checkDelta(delta);
  check(samplingRate > 0 && samplingRate <= 1, 'dp/bad-sampling-rate', `sampling rate must be in (0, 1], got ${samplingRate}`);
  check(Number.isSafeInteger(steps) && steps >= 1, 'dp/bad-steps', `steps must be a positive integer, got ${steps}`);
}

/** ε of `event` at `delta` under `accountant`, as calibration computes it (see {@link calibrateConfigNoise}). */
export function calibrationEpsilon(event: DpEvent, delta: number, accountant: AccountantKind = 'rdp'): number {
  return epsilonFor(accountant, event, delta);
}

/**
 * Noise multiplier of the Poisson-subsampled Gaussian that reaches `epsilon` at `delta` after
 * `steps` compositions with sampling rate `samplingRate`, under the RDP accountant
 * (dp_accounting-compatible; the smallest such multiplier to relative 1e-12) or, with
 * `accountant: 'pld'`, the PLD accountant on the {@link PLD_CALIBRATION_DISCRETIZATION} grid (to
 * relative 1e-6; its ε on the default grid is then at most `epsilon` too).
 */
export function calibrateNoiseMultiplier(opts: { epsilon: number; delta: number; samplingRate: number; steps: number; accountant?: AccountantKind }): number {
  checkTarget(opts.epsilon, opts.delta, opts.samplingRate, opts.steps);
  const accountant = opts.accountant ?? 'rdp';
  const rdp = (z: number): number => epsilonFor('rdp', poissonGaussianEvent(opts.samplingRate, z, opts.steps), opts.delta);
  if (accountant === 'rdp') return solveDecreasing(rdp, opts.epsilon);
  // The RDP multiplier is a little above the PLD one: a start that brackets the root in a step or two.
  const start = solveDecreasing(rdp, opts.epsilon, 1e-4);
  return solveDecreasing((z) => epsilonFor('pld', poissonGaussianEvent(opts.samplingRate, z, opts.steps), opts.delta), opts.epsilon, PLD_RELATIVE_TOLERANCE, start);
}

/**
 * Noise multiplier z for `config`'s mechanism (Skellam, distributed discrete Gaussian or central)
 * at its clip norm, scale γ, β and bit-free parameters, such that a participant in all `rounds`
 * rounds, each with `contributors` encodings of length `dim` and `colluders` assumed colluders
 * (default 0), spends at most `epsilon` at `delta` — under the same rules as the privacy report:
 *
 * - without `cohort`: the ε against ledger readers (the report's headline): no amplification by
 *   sampling, n − 1 − c noise shares (see noiseShares);
 * - with `cohort`: the ε against model observers for rounds drawn that way (amplified only by a
 *   secret draw).
 *
 * For Skellam the per-client mean follows as (zC/γ)²/(2t) (see integerNoiseParameters).
 * `accountant` (default 'rdp') picks the accountant; 'pld' accounts what the PLD accountant
 * supports (see pldSupports: the central Gaussian; distributed noise over several coordinates is
 * refused with FedveilError('dp/pld-unsupported-event')).
 * Throws FedveilError('dp/too-few-noise-shares') when contributors − 1 − colluders < 1.
 */
export function calibrateConfigNoise(opts: {
  config: DpConfig;
  epsilon: number;
  delta: number;
  rounds: number;
  contributors: number;
  colluders?: number;
  dim: number;
  cohort?: CohortMethod;
  accountant?: AccountantKind;
  /**
   * Events already spent (rounds that ran before): the `rounds` new rounds are calibrated so that
   * they, composed after `spent`, reach at most `epsilon`. Refused (FedveilError
   * 'dp/budget-exhausted') when `spent` alone reaches `epsilon`.
   */
  spent?: DpEvent;
}): number {
  const base = parseDpConfig({ ...opts.config, noiseMultiplier: opts.config.mechanism === 'none' ? 0 : 1 });
  check(base.mechanism !== 'none', 'dp/bad-config', "mechanism 'none' has no noise to calibrate");
  checkTarget(opts.epsilon, opts.delta, 1, opts.rounds);
  const colluders = opts.colluders ?? 0;
  const cohort = opts.cohort;
  const roundEventFor = (config: DpConfig): DpEvent =>
    cohort === undefined
      ? ledgerReaderEvent(config, opts.contributors, colluders, opts.dim)
      : modelObserverEvent(config, cohort, opts.contributors, colluders, opts.dim, modelObserverAdjacency([cohort]));
  const accountant = opts.accountant ?? 'rdp';
  const probe = roundEventFor(base); // refuses a round the accounting cannot protect before any search
  if (accountant === 'pld') {
    check(pldSupports(probe), 'dp/pld-unsupported-event', `the PLD accountant cannot calibrate ${base.mechanism} noise over ${opts.dim} coordinates (its event ${probe.kind} is not supported); use the RDP accountant`);
  }
  const spent = opts.spent;
  if (spent !== undefined) {
    const already = epsilonFor(accountant, spent, opts.delta);
    check(already < opts.epsilon, 'dp/budget-exhausted', `the rounds already run spend epsilon ${already}, which leaves nothing of the target ${opts.epsilon}`);
  }
  const eventFor = (z: number): DpEvent => {
    const fresh: DpEvent = { kind: 'self_composed', count: opts.rounds, event: roundEventFor({ ...base, noiseMultiplier: z }) };
    return spent === undefined ? fresh : { kind: 'composed', events: [spent, fresh] };
  };
  const rdp = (z: number): number => epsilonFor('rdp', eventFor(z), opts.delta);
  if (accountant === 'rdp') return solveDecreasing(rdp, opts.epsilon);
  return solveDecreasing((z) => epsilonFor('pld', eventFor(z), opts.delta), opts.epsilon, PLD_RELATIVE_TOLERANCE, solveDecreasing(rdp, opts.epsilon, 1e-4));
}
