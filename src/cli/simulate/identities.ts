import { defaultProvider, seededRandom, toHex, type KeyPair } from '../../secagg/index.js';

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

/** The public keys (hex) of the population, by index: what the federation config lists. */
export function simulatedParticipantKeys(o: { clients: number; seed: number }): string[] {
  return Array.from({ length: o.clients }, (_, i) => toHex(simulatedIdentity(o.seed, i).publicKey));
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
