import type { Phase } from '../../protocol/phases.js';
import { randomBelow, randomUnit, seededRandom } from '../../secagg/index.js';

/**
 * Where (if anywhere) simulated participant `client` drops out of `round`: with probability
 * `rate`, at a phase drawn uniformly from `phases`; silent from that phase to the end of the
 * round. Reproducible from the seed, so the workers (who act on it) and the main thread (who
 * closes a phase once only the dropped are missing) agree without talking.
 */
export function simulatedDropout(seed: number, rate: number, phases: readonly Phase[], client: number, round: number): Phase | undefined {
  if (rate === 0) return undefined;
  const rng = seededRandom(`fedveil/simulate/${seed}/dropout/${client}/${round}`);
  if (randomUnit(rng) >= rate) return undefined;
  return phases[randomBelow(rng, phases.length)];
}

/** Whether a participant that drops at `dropPhase` is silent in `phase`. */
export function silentIn(phases: readonly Phase[], dropPhase: Phase | undefined, phase: Phase): boolean {
  return dropPhase !== undefined && phases.indexOf(dropPhase) <= phases.indexOf(phase);
}
