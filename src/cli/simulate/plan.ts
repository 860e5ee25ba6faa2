import { calibrateConfigNoise, checkModulusHeadroom, parseDpConfig, type CohortMethod, type DpConfig } from '../../dp/index.js';
import { parseFederationConfig, type FederationConfig } from '../../server/config.js';
import { federationDpConfig } from '../../server/federation-plan.js';
import { toHex, type KeyPair } from '../../secagg/index.js';
import { canaryCommitment } from '../../server/canary-audit.js';
import { FedveilError } from '../../secagg/util/errors.js';
import { simulatedCanaries, simulatedCoordinatorIdentity, simulatedParticipantKeys, type SimulatedCanary } from './identities.js';
import {
  clipOf,
  clippingOf,
  cohortSize,
  DEFAULT_TARGET_EPSILON,
  maxCohortOf,
  minContributorsOf,
  modelSpecOf,
  noiseProbeOf,
  populationOf,
  secaggPlusDropout,
  SIMULATED_CORRUPTION,
  thresholdOf,
  type SimulateOptions,
} from './options.js';

/** Everything the simulation decides before the first round. */
export interface SimulationPlan {
  config: FederationConfig;
  /** The DP configuration every round encodes with (noise calibrated, γ chosen). */
  dp: DpConfig;
  coordinatorIdentity: KeyPair;
  /** The population's public keys (hex), by index; secret keys are derived when a participant is drawn. */
  participants: string[];
  /** ε the noise was calibrated to, or null when --noise was given or there is no DP. */
  targetEpsilon: number | null;
  /** Whose ε `targetEpsilon` bounds. */
  epsilonAgainst: SimulateOptions['epsilonAgainst'];
  /** The audit's canary participants (population indices after the clients), with their secrets. */
  canaries: SimulatedCanary[];
}

/** The cohort method the model-observer accounting sees: a Poisson draw's seed is the coordinator's secret, a fixed draw's is public. */
export function simulatedCohortMethod(o: SimulateOptions): CohortMethod {
  const population = populationOf(o);
  if (o.draw === 'poisson') return { kind: 'poisson', rate: cohortSize(o) / population, population, secretSeed: true };
  return cohortSize(o) >= population ? { kind: 'all', population } : { kind: 'fixed', size: cohortSize(o), population, secretSeed: false };
}

/**
 * The integer resolution γ: as fine as the modulus allows. The centred aggregate must stay inside
 * ±2^(bits-1): n contributions of L2 norm ≤ C/γ each, plus the noise's tail (≈ 10 standard
 * deviations of zC/γ). A factor 2 margin covers the conditional-rounding inflation.
 */
function scaleFor(bits: number, clip: number, contributors: number, z: number): number {
  return (2 * (contributors + 10 * z + 1) * clip) / 2 ** (bits - 1);
}

/** The model's shape options as the federation config takes them (its spec less the kind). */
function modelOptions(o: SimulateOptions): Record<string, unknown> {
  const { kind: _kind, ...options } = modelSpecOf(o);
  return options;
}

/**
 * Builds the federation a simulation runs: identities, cohort and threshold, and the DP
 * parameters (γ from the bit width, noise calibrated to the target ε when one applies). Throws a
 * FedveilError that names the setting when no γ fits the modulus.
 */
export function planSimulation(o: SimulateOptions, dim: number, storagePath: string, deadlineMs: number): SimulationPlan {
  const canaries = simulatedCanaries(o);
  const participants = simulatedParticipantKeys(o);
  const federationId = `simulation-${o.seed}`;
  const coordinatorIdentity = simulatedCoordinatorIdentity(o.seed);
  // γ must leave room for the largest possible cohort (the population under a Poisson draw).
  const cohort = maxCohortOf(o);
  const threshold = thresholdOf(o);
  const minContributors = minContributorsOf(o);
  const clip = clipOf(o);
  const targetEpsilon = o.dp === 'none' || o.noise !== undefined ? null : (o.epsilon ?? DEFAULT_TARGET_EPSILON);
  // Each participant encodes the model update followed by the noise probe's zeros.
  const probe = noiseProbeOf(o);
  const encoded = dim + probe;

  // γ depends on the noise, and Skellam's calibration on γ: two passes settle both.
  let z = o.dp === 'none' ? 0 : (o.noise ?? 1);
  let scale = scaleFor(o.bits, clip, cohort, z);
  const base = (s: number) =>
    parseDpConfig({ mechanism: o.dp, clipNorm: clip, bits: o.bits, scale: s, rotation: true, minContributors, noiseMultiplier: z });
  if (targetEpsilon !== null) {
    for (let pass = 0; pass < 2; pass++) {
      z = calibrateConfigNoise({
        config: base(scale),
        epsilon: targetEpsilon,
        delta: o.delta,
        rounds: o.rounds,
        contributors: minContributors,
        colluders: o.colluders,
        dim: encoded,
        accountant: o.accountant,
        ...(o.epsilonAgainst === 'model-observer' ? { cohort: simulatedCohortMethod(o) } : {}),
      });
      scale = scaleFor(o.bits, clip, cohort, z);
    }
  }
  // The headroom bound is exact; double γ until it holds (a few times at most).
  for (let tries = 0; ; tries++) {
    try {
      checkModulusHeadroom(base(scale), encoded, cohort);
      break;
    } catch (e) {
      if (tries >= 20) {
        throw new FedveilError(
          'simulate/no-scale',
          `no integer scale fits ${o.bits}-bit aggregation of ${cohort} participants with noise multiplier ${z.toFixed(3)}: raise --bits or lower --cohort (${(e as Error).message})`,
        );
      }
      scale *= 2;
    }
  }

  const config = parseFederationConfig({
    federationId,
    participants,
    ...(canaries.length === 0
      ? {}
      : { auditCommitment: canaryCommitment(federationId, canaries.map((c) => ({ publicKey: toHex(c.identity.publicKey), secret: toHex(c.secret) }))) }),
    ...(probe > 0 ? { noiseProbe: probe } : {}),
    rounds: o.rounds,
    cohort: o.draw === 'poisson' ? { samplingRate: cohortSize(o) / populationOf(o) } : { size: cohortSize(o) },
    threshold,
    neighbours: o.neighbours === 'complete' ? { mode: 'complete' } : { mode: 'secagg+', dropoutFraction: secaggPlusDropout(o), corruptionFraction: SIMULATED_CORRUPTION },
    mode: o.mode,
    colluders: o.colluders,
    dp: {
      mechanism: o.dp,
      clipNorm: clip,
      bits: o.bits,
      scale,
      rotation: true,
      delta: o.delta,
      minContributors,
      // The config's targetEpsilon is calibrated against ledger readers; a model-observer target is
      // met by the noise calibrated here, given as such.
      ...(o.dp === 'none' ? {} : targetEpsilon !== null && o.epsilonAgainst === 'ledger-reader' ? { targetEpsilon, ...(o.accountant === 'pld' ? { accountant: 'pld' } : {}) } : { noiseMultiplier: z }),
    },
    model: { name: o.model, options: modelOptions(o) },
    ...(o.adaptiveClip ? { clipping: clippingOf(o) } : {}),
    dim,
    deadlines: {
      'advertise-keys': deadlineMs,
      'share-keys': deadlineMs,
      'masked-input': deadlineMs,
      'consistency-check': deadlineMs,
      unmask: deadlineMs,
    },
    storage: { path: storagePath },
    // A configured seed is public (anyone can replay the draws); without one the coordinator
    // draws a secret seed, as a Poisson draw that claims amplification needs.
    ...(o.draw === 'poisson' ? {} : { seed: federationId }),
    ...(o.async
      ? {
          // Groups form when the simulation's schedule says: no formation deadline in real time.
          async: { maxStaleness: o.maxStaleness, staleness: { function: 'polynomial', exponent: o.stalenessExponent }, formationTimeoutMs: 24 * 3_600_000 },
        }
      : {}),
    listen: { host: '127.0.0.1', port: o.dashboard ?? 0 },
    dashboard: o.dashboard !== undefined,
  });
  return { config, dp: federationDpConfig(config), coordinatorIdentity, participants, targetEpsilon, epsilonAgainst: o.epsilonAgainst, canaries };
}
