import { ClientRound } from '../../src/protocol/client/client-round.js';
import { planRound, type GraphSpec, type RoundPlan } from '../../src/protocol/config.js';
import type { ClientMessage, ServerMessage } from '../../src/protocol/messages.js';
import type { RoundMode } from '../../src/protocol/phases.js';
import type { ClientStep, ServerStep } from '../../src/protocol/results.js';
import { ServerRound } from '../../src/protocol/server/server-round.js';
import { testFederation } from '../../src/protocol/testing/fixtures.js';
import type { KeyPair } from '../../src/secagg/index.js';
import { seededRandom } from '../../src/secagg/util/random.js';

/** A small hand-driven round for unit tests. */
export interface World {
  plan: RoundPlan;
  server: ServerRound;
  clients: ClientRound[];
  identities: KeyPair[];
  /** A fresh client for `index` with the same key, input and randomness as `clients[index]`: fed the same messages, it sends the same bytes. */
  client(index: number): ClientRound;
}

export function world(
  opts: { n?: number; t?: number; mode?: RoundMode; graph?: GraphSpec; round?: number; dim?: number; seed?: string; colluders?: number; minSurvivors?: number } = {},
): World {
  const n = opts.n ?? 4;
  const dim = opts.dim ?? 3;
  const fed = testFederation({
    n,
    threshold: opts.t ?? 3,
    dim,
    mode: opts.mode ?? 'semi-honest',
    graph: opts.graph ?? { kind: 'complete' },
    round: opts.round ?? 5,
    seed: opts.seed ?? 'unit',
    extraCoordinates: 1,
    ...(opts.colluders !== undefined ? { colluders: opts.colluders } : {}),
    ...(opts.minSurvivors !== undefined ? { minSurvivors: opts.minSurvivors } : {}),
  });
  const plan = planRound(fed.config);
  const server = new ServerRound(plan, { rng: seededRandom('server') });
  const client = (index: number): ClientRound =>
    new ClientRound(plan, {
      index,
      identitySecretKey: (fed.identities[index] as KeyPair).secretKey,
      input: Float32Array.from({ length: dim }, (_, i) => index + i),
      extra: [index],
      rng: seededRandom(`${opts.seed ?? 'unit'}/client/${index}`),
    });
  return { plan, server, clients: fed.identities.map((_, i) => client(i)), identities: fed.identities, client };
}

export function sent(step: ClientStep): ClientMessage {
  if (step.kind !== 'send') throw new Error(`expected a message, got ${step.kind} ${step.code}`);
  return step.message;
}

/** Every client's advertise-keys message. */
export function start(w: World): Map<number, ClientMessage> {
  return new Map(w.clients.map((c, i) => [i, sent(c.start())]));
}

/** Delivers `msgs` (all of them accepted) and returns the last step's outbox by recipient. */
export function toServer(w: World, msgs: Map<number, ClientMessage>): Map<number, ServerMessage> {
  let last: ServerStep | undefined;
  for (const m of msgs.values()) {
    const s = w.server.receive(m);
    if (s.kind !== 'accepted') throw new Error(`rejected ${m.type} of ${m.header.sender}: ${s.code} ${s.message}`);
    last = s;
  }
  return new Map((last?.kind === 'accepted' ? last.outbox : []).map((o) => [o.to, o.message]));
}

/** Each recipient's answer to its server message. */
export function toClients(w: World, msgs: Map<number, ServerMessage>): Map<number, ClientMessage> {
  return new Map([...msgs].map(([to, m]) => [to, sent((w.clients[to] as ClientRound).receive(m))]));
}

export function codeOf(step: ServerStep | ClientStep): string {
  return step.kind === 'rejected' || step.kind === 'refused' ? `${step.kind}:${step.code}` : step.kind;
}
