import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inputsArb, roundCommandsArb, roundSpecArb, runRoundModel, structuralTestProvider } from '../../src/protocol/testing/index.js';
import { defaultProvider } from '../../src/secagg/index.js';
import { checkScenario, scenarioArb } from './scenario.js';
import type { ClientMessage, ServerMessage } from '../../src/protocol/messages.js';

/**
 * The core properties of the round, over arbitrary shapes (n = 3..8, complete and SecAgg+ graphs,
 * both modes, b = 12..32 bits, d = 1..16, none/Skellam DP), inputs, dropout schedules and delivery
 * orders, with the real curves. The model-based run uses the structural test provider (hash-based
 * stand-ins for X25519/Ed25519; KDF, PRG, Shamir and the AEAD are real) so that its corruption
 * commands stay cheap; test/protocol/properties.slow.test.ts runs many more of both.
 */

const CORE_RUNS = 1000;


describe('round properties', () => {
  it(`correctness, abort and never-both over ${CORE_RUNS} arbitrary rounds (real X25519/Ed25519)`, () => {
    const seen = { completed: 0, aborted: 0, sparse: 0, malicious: 0 };
    fc.assert(
      fc.property(scenarioArb(), (s) => {
        const { result } = checkScenario(s, defaultProvider);
        seen[result.outcome.status]++;
        if (s.spec.graph.kind === 'secagg-plus') seen.sparse++;
        if (s.spec.mode === 'malicious') seen.malicious++;
      }),
      { numRuns: CORE_RUNS },
    );
    // The generators must exercise both outcomes, both graphs and both modes.
    expect(seen.completed).toBeGreaterThan(CORE_RUNS / 10);
    expect(seen.aborted).toBeGreaterThan(CORE_RUNS / 20);
    expect(seen.sparse).toBeGreaterThan(CORE_RUNS / 10);
    expect(seen.malicious).toBeGreaterThan(CORE_RUNS / 10);
    // ~30 s alone on two cores; allow for the rest of the suite running beside it.
  }, 300_000);

  it('model-based: deliveries, dropouts, deadlines, replays and corruptions agree with the model (structural provider)', () => {
    fc.assert(
      fc.property(
        roundSpecArb().chain((spec) => fc.tuple(fc.constant(spec), inputsArb(spec))),
        roundCommandsArb(40),
        ([spec, data], commands) => {
          runRoundModel(spec, data, commands, structuralTestProvider);
        },
      ),
      { numRuns: CORE_RUNS },
    );
  });
});

describe('robustness: arbitrary values never throw and never change state', () => {
  it('server and clients at every phase reject 1000 arbitrary values and corrupted messages', async () => {
    const { world, start, toServer, toClients } = await import('./helpers.js');
    const { clientMessageMutationArb, mutateClientMessage, serverMessageMutationArb, mutateServerMessage } = await import('../../src/protocol/testing/index.js');
    const w = world({ mode: 'malicious', seed: 'robust' });
    const snapshot = () => `${w.server.status}|${w.server.submitted.join(',')}|${w.server.retainedBytes()}|` + w.clients.map((c) => `${c.status}:${c.revealed.size}`).join(',');
    let clientMsgs = start(w);
    let serverMsgs = new Map<number, ServerMessage>();
    const history: ClientMessage[] = [];
    for (let phase = 0; phase < 5; phase++) {
      const before = snapshot();
      const pool = [...clientMsgs.values(), ...history];
      fc.assert(
        fc.property(fc.anything(), clientMessageMutationArb(), serverMessageMutationArb(), fc.nat(), (junk, cm, sm, pick) => {
          const base = pool[pick % pool.length] as (typeof pool)[number];
          expect(w.server.receive(junk as never).kind).toBe('rejected');
          expect(w.server.receive(mutateClientMessage(base, cm, w.plan.n) as never).kind).toBe('rejected');
          const c = w.clients[pick % w.clients.length] as (typeof w.clients)[number];
          expect(c.receive(junk as never).kind).toBe('rejected');
          const sent = [...serverMsgs.values()];
          if (sent.length > 0) expect(c.receive(mutateServerMessage(sent[pick % sent.length] as never, sm) as never).kind).toBe('rejected');
          expect(snapshot()).toBe(before);
        }),
        { numRuns: 200 },
      );
      history.push(...clientMsgs.values());
      serverMsgs = toServer(w, clientMsgs);
      if (serverMsgs.size === 0) break;
      clientMsgs = toClients(w, serverMsgs);
    }
    expect(w.server.outcome?.status).toBe('completed');
  });
});
