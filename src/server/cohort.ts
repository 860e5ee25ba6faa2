import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex, utf8 } from '../secagg/util/bytes.js';
import { randomBelow, randomUnit, seededRandom } from '../secagg/util/random.js';
import type { AsyncGroup } from './async-staleness.js';
import type { FederationConfig } from './config.js';

/** The recorded outcome of one round's cohort draw. */
export interface CohortDraw {
  /** Selected participants (public keys, hex) in draw order. */
  members: string[];
  /** 'ready-first': an asynchronous group, the first participants ready (self-selected, nothing drawn). */
  method: 'fixed-size' | 'poisson' | 'ready-first';
  /** Inclusion probability of each participant (size / N for a fixed-size draw). */
  samplingRate: number;
  /** SHA-256 (hex) of the federation's draw seed: lets an auditor holding the seed replay the draw. */
  seedCommitment: string;
  /** Number of allowed participants drawn from. */
  population: number;
  /** An asynchronous group's versions and staleness weights (method 'ready-first' only). */
  group?: AsyncGroup;
}

/** The per-round random stream of the draw: SHA-256 counter stream keyed by (domain, seed, round). */
function drawStream(seed: Uint8Array, round: number) {
  const r = new Uint8Array(4);
  new DataView(r.buffer).setUint32(0, round, false);
  return seededRandom(concatBytes(utf8('fedveil/cohort-draw/v1'), new Uint8Array([0]), seed, r));
}

/**
 * Draws round `round`'s cohort from the allowed participants, deterministically from `seed`:
 * a uniform subset of the configured size (partial Fisher–Yates), or Poisson sampling where each
 * participant is included independently with the configured rate (the sampling the DP accountant
 * assumes). The same seed and round always give the same cohort, so the draw can be replayed.
 */
export function drawCohort(participants: readonly string[], cohort: FederationConfig['cohort'], seed: Uint8Array, round: number): CohortDraw {
  const rng = drawStream(seed, round);
  const seedCommitment = toHex(sha256(seed));
  const population = participants.length;
  if ('size' in cohort) {
    const pool = participants.slice();
    const members: string[] = [];
    for (let i = 0; i < cohort.size; i++) {
      const j = i + randomBelow(rng, pool.length - i);
      [pool[i], pool[j]] = [pool[j] as string, pool[i] as string];
      members.push(pool[i] as string);
    }
    return { members, method: 'fixed-size', samplingRate: cohort.size / population, seedCommitment, population };
  }
  const members = participants.filter(() => randomUnit(rng) < cohort.samplingRate);
  return { members, method: 'poisson', samplingRate: cohort.samplingRate, seedCommitment, population };
}
