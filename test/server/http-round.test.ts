import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/secagg/index.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('coordinator over real HTTP', () => {
  it('runs full rounds with 4 participants and publishes the mean update', async () => {
    const people = identities(4);
    const config = smallConfig(people);
    running = await startTestCoordinator(config);
    const clients = people.map((p, i) => participant(running!.url, p, 0.1 * (i + 1), config.dim));
    const results = await Promise.all(clients.map((c) => c.run()));
    await running.coordinator.finished;
    expect(results.map((r) => r.map((x) => x.status))).toEqual(people.map(() => ['completed', 'completed']));
    const model = new Float32Array(running.coordinator.model.weights.slice().buffer);
    // two rounds of FedAvg (lr 1) with mean update 0.25 each, quantised to γ = 0.001
    for (const w of model) expect(w).toBeCloseTo(0.5, 2);
    const ledger = await running.coordinator.ledger();
    expect(ledger).toHaveLength(2);
    expect(verifyLedger(ledger, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);
  });
});
