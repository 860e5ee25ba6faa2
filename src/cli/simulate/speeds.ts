import { randomUnit, seededRandom } from '../../secagg/index.js';

/**
 * How long simulated participants take to train, in simulated seconds: participant i's k-th
 * training takes m · exp(σ·Zᵢ) · exp(0.1·Z_{i,k}), log-normal across participants with median m and
 * skew σ (σ = 0: all equally fast; σ = 1: the slowest of 100 is about 10× the median), with a
 * little jitter between one training and the next. With `availability` a < 1, a participant is
 * offline before a training with probability 1 − a, for an exponential time of mean 4m.
 */
export interface SpeedModel {
  medianSeconds: number;
  skew: number;
  availability: number;
}

/** A standard normal from two uniforms of `label`'s stream (Box–Muller). */
function normal(label: string): number {
  const rng = seededRandom(label);
  const u = 1 - randomUnit(rng);
  const v = randomUnit(rng);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Simulated seconds participant `client` spends on its `k`-th training (k from 0), offline time before it included. */
export function trainingSeconds(seed: number, client: number, k: number, m: SpeedModel): number {
  const base = m.medianSeconds * Math.exp(m.skew * normal(`fedveil/simulate/${seed}/speed/${client}`));
  const jitter = Math.exp(0.1 * normal(`fedveil/simulate/${seed}/speed/${client}/${k}`));
  let offline = 0;
  if (m.availability < 1) {
    const rng = seededRandom(`fedveil/simulate/${seed}/availability/${client}/${k}`);
    if (randomUnit(rng) >= m.availability) offline = -4 * m.medianSeconds * Math.log(1 - randomUnit(rng));
  }
  return offline + base * jitter;
}

/** Simulated seconds of a synchronous round: every member trains from the round's start, and the round waits for the slowest. */
export function synchronousRoundSeconds(seed: number, members: readonly number[], round: number, m: SpeedModel): number {
  return Math.max(0, ...members.map((c) => trainingSeconds(seed, c, round, m)));
}
