import { defaultProvider, randomBytes, seededRandom, toHex, type KeyPair } from '../../secagg/index.js';

/**
 * Seeded identities: a simulation with `--seed` is reproducible, so it is not private — real
 * deployments use `fedveil keygen`. Derived from the seed and the participant's index, so a
 * worker recreates a participant's key pair when it is drawn instead of anyone storing the
 * population's secret keys.
 */
export function simulatedIdentity(seed: number, client: number): KeyPair {
  return defaultProvider.ed25519Keygen(seededRandom(`fedveil/simulate/${seed}/identity/client-${client}`));
}

/** The coordinator's seeded identity. */
export function simulatedCoordinatorIdentity(seed: number): KeyPair {
  return defaultProvider.ed25519Keygen(seededRandom(`fedveil/simulate/${seed}/identity/coordinator`));
}

/** A canary of the empirical audit: its identity and the secret its direction is drawn from. */
export interface SimulatedCanary {
  identity: KeyPair;
  secret: Uint8Array;
}

/**
 * The k-th canary, derived from the seed (reproducible, hence known to whoever knows the seed: a
 * simulation's audit shows the estimator works, not that a coordinator was honest).
 */
export function simulatedCanary(seed: number, k: number): SimulatedCanary {
  return {
    identity: defaultProvider.ed25519Keygen(seededRandom(`fedveil/simulate/${seed}/identity/canary-${k}`)),
    secret: randomBytes(seededRandom(`fedveil/simulate/${seed}/canary-${k}/secret`), 32),
  };
}

/** The audit's canaries, in order. */
export function simulatedCanaries(o: { auditCanaries: number; seed: number }): SimulatedCanary[] {
  return Array.from({ length: o.auditCanaries }, (_, k) => simulatedCanary(o.seed, k));
}

/**
 * Population member `index`: clients come first, the audit's canaries after them (index
 * `clients + k` is canary k, with its secret).
 */
export function simulatedMember(seed: number, clients: number, index: number): { identity: KeyPair; canarySecret?: Uint8Array } {
  if (index < clients) return { identity: simulatedIdentity(seed, index) };
  const c = simulatedCanary(seed, index - clients);
  return { identity: c.identity, canarySecret: c.secret };
}

/** The public keys (hex) of the population, by index (clients, then canaries): what the federation config lists. */
export function simulatedParticipantKeys(o: { clients: number; auditCanaries: number; seed: number }): string[] {
  return [
    ...Array.from({ length: o.clients }, (_, i) => toHex(simulatedIdentity(o.seed, i).publicKey)),
    ...simulatedCanaries(o).map((c) => toHex(c.identity.publicKey)),
  ];
}

/**
 * A participant's session token (32 hex), the same every time it is drawn: the participant
 * object recreated for a later round renews its own session rather than being refused as a
 * second process with the same identity while the first one's lease runs.
 */
export function simulatedSession(seed: number, client: number): string {
  const bytes = new Uint8Array(16);
  seededRandom(`fedveil/simulate/${seed}/session/client-${client}`).fill(bytes);
  return toHex(bytes);
}
