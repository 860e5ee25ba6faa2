import { createServer } from 'node:net';
import { toHex, type KeyPair } from '../../src/secagg/index.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { parseFederationConfig, type FederationConfig, type FederationConfigInput } from '../../src/server/config.js';
import { Participant, type ParticipantOptions } from '../../src/server/participant.js';
import { startCoordinator, type RunningCoordinator, type StartCoordinatorOptions } from '../../src/server/start.js';
import { coordinator as coordinatorKey, identities } from './fixtures.js';

/** A small federation config over `people` (overrides merged on top). */
export function smallConfig(people: KeyPair[], overrides: Partial<FederationConfigInput> = {}): FederationConfig {
  return parseFederationConfig({
    federationId: 'fed-http',
    participants: people.map((p) => toHex(p.publicKey)),
    rounds: 2,
    cohort: { size: people.length },
    threshold: 2,
    dp: { mechanism: 'none', clipNorm: 10, bits: 24, scale: 0.001, rotation: false },
    model: { name: 'test' },
    dim: 4,
    deadlines: { 'advertise-keys': 3000, 'share-keys': 3000, 'masked-input': 3000, 'consistency-check': 3000, unmask: 3000 },
    storage: { path: ':memory:' },
    seed: 'test-seed',
    longPollMs: 2000,
    ...overrides,
  });
}

/** Starts a coordinator on an ephemeral loopback port. */
export async function startTestCoordinator(
  config: FederationConfig,
  extra: { storePath?: string } & Partial<StartCoordinatorOptions> = {},
): Promise<RunningCoordinator> {
  const { storePath, ...more } = extra;
  const cfg = storePath ? { ...config, storage: { path: storePath } } : config;
  return startCoordinator({
    ...more,
    config: cfg,
    identity: more.identity ?? coordinatorKey,
    initialModel: new Float32Array(cfg.dim),
    random: seededRandom('coordinator-random'),
  });
}

/** A participant whose update is `value` in every coordinate. */
export function participant(url: string, id: KeyPair, value: number, dim: number, more: Partial<ParticipantOptions> = {}): Participant {
  return new Participant({
    coordinator: url,
    identity: id,
    train: () => ({ update: new Float32Array(dim).fill(value), examples: 10 }),
    random: seededRandom(`participant-${toHex(id.publicKey).slice(0, 8)}`),
    retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
    ...more,
  });
}

export { identities };

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

