import { check } from '../../secagg/util/errors.js';
import type { CohortMethod } from '../cohort.js';
import { parseDpConfig, type DpConfig } from '../config.js';
import { ledgerReaderEvent, modelObserverAdjacency, modelObserverEvent, poissonGaussianEvent, type DpEvent } from '../events.js';
import { checkDelta, rdpEpsilon } from './rdp.js';

/** Relative precision to which calibration pins the noise multiplier. */
const RELATIVE_TOLERANCE = 1e-12;

/**
 * Smallest noise multiplier z with epsilonOf(z) <= target, for an ε that decreases in z, to
 * relative precision 1e-12: bracket by doubling/halving, then the Illinois variant of regula falsi
 * on log z (superlinear on the smooth pieces, and the bracket always shrinks, so it cannot fail
 * where ε switches optimal order).
 */
function solveDecreasing(epsilonOf: (z: number) => number, target: number): number {
  const f = (logZ: number): number => epsilonOf(Math.exp(logZ)) - target;
  let hi = 0;
  let fHi = f(hi);
  let guard = 0;
  while (!(fHi <= 0)) {
    hi += Math.LN2;
    fHi = f(hi);
    check(++guard < 60, 'dp/calibration-failed', `no noise multiplier up to ${Math.exp(hi)} reaches epsilon ${target}`);
  }
  let lo = hi - Math.LN2;
  let fLo = f(lo);
  guard = 0;
  while (fLo <= 0) {
    hi = lo;
    fHi = fLo;
    lo -= Math.LN2;
    fLo = f(lo);
    check(++guard < 60, 'dp/calibration-failed', `epsilon ${target} is reached with arbitrarily little noise`);
  }
  // Invariant: f(lo) > 0 >= f(hi). `side` remembers which end was kept last (Illinois halving).
  let side = 0;
  for (let iter = 0; iter < 200 && hi - lo > RELATIVE_TOLERANCE; iter++) {
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
    if (fHi > -1e-13 * target) break; // hi is the root to double precision
  }
  return Math.exp(hi);
}

function checkTarget(epsilon: number, delta: number, samplingRate: number, steps: number): void {
  check(Number.isFinite(epsilon) && epsilon > 0, 'dp/bad-epsilon', `target epsilon must be a finite number > 0, got ${epsilon}`);
  checkDelta(delta);
  check(samplingRate > 0 && samplingRate <= 1, 'dp/bad-sampling-rate', `sampling rate must be in (0, 1], got ${samplingRate}`);
  check(Number.isSafeInteger(steps) && steps >= 1, 'dp/bad-steps', `steps must be a positive integer, got ${steps}`);
}

/**
 * Noise multiplier of the Poisson-subsampled Gaussian that reaches `epsilon` at `delta` after
 * `steps` compositions with sampling rate `samplingRate`, under the RDP accountant
 * (dp_accounting-compatible). Returns the smallest such multiplier to relative 1e-12.
 */
export function calibrateNoiseMultiplier(opts: { epsilon: number; delta: number; samplingRate: number; steps: number }): number {
  checkTarget(opts.epsilon, opts.delta, opts.samplingRate, opts.steps);
  return solveDecreasing((z) => rdpEpsilon(poissonGaussianEvent(opts.samplingRate, z, opts.steps), opts.delta).epsilon, opts.epsilon);
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
  roundEventFor(base); // refuses a round the accounting cannot protect before any search
  const eventFor = (z: number): DpEvent => ({ kind: 'self_composed', count: opts.rounds, event: roundEventFor({ ...base, noiseMultiplier: z }) });
  return solveDecreasing((z) => rdpEpsilon(eventFor(z), opts.delta).epsilon, opts.epsilon);
}
