import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientMessage } from '../../src/protocol/messages.js';
import { encodeClientMessage } from '../../src/protocol/wire/serialize.js';
import { packedLength } from '../../src/secagg/index.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { fuzzEndpoints, requestArbitrary } from './fuzz-harness.js';
import { identities, smallConfig, startTestCoordinator } from './harness.js';
import { ManualClient, until } from './signed-client.js';

const long = { 'advertise-keys': 60_000, 'share-keys': 60_000, 'masked-input': 60_000, 'consistency-check': 60_000, unmask: 60_000 };
const people = identities(4, 'fuzz');
const config = smallConfig(people, { cohort: { size: 3 }, deadlines: long, rounds: 1, maxBodyBytes: 4096, longPollMs: 30 });
const RUNS = Number(process.env.FEDVEIL_FUZZ_RUNS ?? 200);

let running: RunningCoordinator;
let members: ManualClient[];

beforeAll(async () => {
  running = await startTestCoordinator(config);
  await until(running.url, (s) => s.phase === 'advertise-keys');
  const all = people.map((p) => new ManualClient(running.url, p, config.dim));
  const joined = await Promise.all(all.map((c) => c.join()));
  members = all.filter((_, i) => joined[i]);
});
afterAll(async () => {
  await running.close();
});

const json = (m: ClientMessage) => encodeClientMessage(m).json;

describe('fuzzing every endpoint', () => {
  it(`${RUNS} generated requests during advertise-keys: no 5xx, no state change on rejection`, async () => {
    const ads = members.map((m) => (m.round.start() as { message: ClientMessage }).message);
    const { tried, statuses } = await fuzzEndpoints(running, requestArbitrary(ads.map(json), 0, 16, 'advertise-keys'), people, RUNS, 6001);
    console.log(`fuzz (advertise-keys): ${tried} requests, statuses ${JSON.stringify(statuses)}`);
    expect(tried).toBe(RUNS);
    // the round still works after the barrage
    for (let i = 0; i < members.length; i++) {
      const a = await members[i]!.post(ads[i]!);
      expect([202, 409]).toContain(a.status);
    }
  });

  it(`${RUNS} generated requests during masked-input, with mutated signed envelopes`, async () => {
    await until(running.url, (s) => s.phase === 'share-keys');
    for (const m of members) expect((await m.post(await m.next('share-keys'))).status).toBe(202);
    await until(running.url, (s) => s.phase === 'masked-input');
    const masked = await Promise.all(members.map((m) => m.next('masked-input')));
    const plan = running.coordinator.plan(0);
    const { tried, statuses } = await fuzzEndpoints(
      running,
      requestArbitrary(masked.map(json), 0, packedLength(plan.vectorLength, plan.bits), 'masked-input'),
      members.map((m) => m.id),
      RUNS,
      6002,
    );
    console.log(`fuzz (masked-input): ${tried} requests, statuses ${JSON.stringify(statuses)}`);
    expect(tried).toBe(RUNS);
  });
});
