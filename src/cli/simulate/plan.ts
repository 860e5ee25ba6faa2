import { calibrateConfigNoise, checkModulusHeadroom, parseDpConfig, type DpConfig } from '../../dp/index.js';
import { parseFederationConfig, type FederationConfig } from '../../server/config.js';
import { federationDpConfig } from '../../server/federation-plan.js';
import { defaultProvider, randomBytes, seededRandom, toHex, type KeyPair } from '../../secagg/index.js';
import { canaryCommitment } from '../../server/canary-audit.js';
import { FedveilError } from '../../secagg/util/errors.js';
import { clipOf, cohortSize, DEFAULT_TARGET_EPSILON, minContributorsOf, modelSpecOf, secaggPlusDropout, SIMULATED_CORRUPTION, thresholdOf, type SimulateOptions } from './options.js';

/** Everything the simulation decides before the first round. */
export interface SimulationPlan {
  config: FederationConfig;
  /** The DP configuration every round encodes with (noise calibrated, γ chosen). */
  dp: DpConfig;
  coordinatorIdentity: KeyPair;
  participants: KeyPair[];
  /** ε the noise was calibrated to, or null when --noise was given or there is no DP. */
  targetEpsilon: number | null;
  /** The canary participants (after the clients in `participants`), with their secrets. */
  canaries: { identity: KeyPair; secret: Uint8Array }[];
}

/** Seeded identities: a simulation with `--seed` is reproducible, so it is not private — real deployments use `fedveil keygen`. */
function identity(seed: number, who: string): KeyPair {
  return defaultProvider.ed25519Keygen(seededRandom(`fedveil/simulate/${seed}/identity/${who}`));
}

/**
 * The canaries' identities and secrets, derived from the seed (reproducible, hence known to whoever
 * knows the seed: a simulation's audit shows the estimator works, not that a coordinator was honest).
 */
export function simulatedCanaries(o: Pick<SimulateOptions, 'auditCanaries' | 'seed'>): SimulationPlan['canaries'] {
  return Array.from({ length: o.auditCanaries }, (_, k) => ({
    identity: identity(o.seed, `canary-${k}`),
    secret: randomBytes(seededRandom(`fedveil/simulate/${o.seed}/canary-${k}/secret`), 32),
  }));
}

/** The participants' identities, derived from the seed. */
export function simulatedParticipants(o: Pick<SimulateOptions, 'clients' | 'seed'>): KeyPair[] {
  return Array.from({ length: o.clients }, (_, i) => identity(o.seed, `client-${i}`));
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
function modelOptions(model: SimulateOptions['model']): Record<string, unknown> {
  const { kind: _kind, ...options } = modelSpecOf(model);
  return options;
}

/**
 * Builds the federation a simulation runs: identities, cohort and threshold, and the DP
 * parameters (γ from the bit width, noise calibrated to the target ε when one applies). Throws a
 * FedveilError that names the setting when no γ fits the modulus.
 */
export function planSimulation(o: SimulateOptions, dim: number, storagePath: string, deadlineMs: number): SimulationPlan {
  const canaries = simulatedCanaries(o);
  const participants = [...simulatedParticipants(o), ...canaries.map((c) => c.identity)];
  const federationId = `simulation-${o.seed}`;
  const coordinatorIdentity = identity(o.seed, 'coordinator');
  const cohort = cohortSize(o);
  const threshold = thresholdOf(o);
  const minContributors = minContributorsOf(o);
  const clip = clipOf(o);
  const targetEpsilon = o.dp === 'none' || o.noise !== undefined ? null : (o.epsilon ?? DEFAULT_TARGET_EPSILON);

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
        dim,
      });
      scale = scaleFor(o.bits, clip, cohort, z);
    }
  }
  // The headroom bound is exact; double γ until it holds (a few times at most).
  for (let tries = 0; ; tries++) {
    try {
      checkModulusHeadroom(base(scale), dim, cohort);
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
    participants: participants.map((p) => toHex(p.publicKey)),
    ...(canaries.length === 0
      ? {}
      : { auditCommitment: canaryCommitment(federationId, canaries.map((c) => ({ publicKey: toHex(c.identity.publicKey), secret: toHex(c.secret) }))) }),
    rounds: o.rounds,
    cohort: { size: cohort },
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
      ...(o.dp === 'none' ? {} : targetEpsilon !== null ? { targetEpsilon } : { noiseMultiplier: z }),
    },
    model: { name: o.model, options: modelOptions(o.model) },
    dim,
    deadlines: {
      'advertise-keys': deadlineMs,
      'share-keys': deadlineMs,
      'masked-input': deadlineMs,
      'consistency-check': deadlineMs,
      unmask: deadlineMs,
    },
    storage: { path: storagePath },
    seed: `simulation-${o.seed}`,
    listen: { host: '127.0.0.1', port: o.dashboard ?? 0 },
    dashboard: o.dashboard !== undefined,
  });
  return { config, dp: federationDpConfig(config), coordinatorIdentity, participants, targetEpsilon, canaries };
}
