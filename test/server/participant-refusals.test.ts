import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { accountRounds, ledgerReaderEvent } from '../../src/dp/index.js';
import { toHex } from '../../src/secagg/index.js';
import { chargedEntries } from '../../src/server/ledger-entry.js';
import { ReceiptStore } from '../../src/server/receipt-store.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const slow = { 'advertise-keys': 60_000, 'share-keys': 60_000, 'masked-input': 60_000, 'consistency-check': 60_000, unmask: 60_000 };

/** Ends advertise-keys as soon as everyone but `silent` advertised and `silent` has refused the round. */
function closeWithout(r: RunningCoordinator, silent: string, refused: (round: number) => boolean): () => void {
  const timer = setInterval(() => {
    const p = r.coordinator.phaseProgress();
    if (p === null || p.phase !== 'advertise-keys') return;
    const missing = p.expected.filter((i) => !p.submitted.includes(i)).map((i) => p.members[i]);
    if (missing.length === 1 && missing[0] === silent && refused(p.round)) r.coordinator.expireDeadline();
  }, 10);
  return () => clearInterval(timer);
}

describe('participants refuse what their ledger does not back (real coordinator on 127.0.0.1)', () => {
  it('a participant with --max-epsilon below the planned spend stops contributing at the right round', async () => {
    const people = identities(3, 'budget');
    const dp = { mechanism: 'skellam' as const, clipNorm: 1, bits: 24, scale: 0.01, rotation: false, noiseMultiplier: 2 };
    const config = smallConfig(people, { rounds: 5, dp, deadlines: slow });
    running = await startTestCoordinator(config);
    // What it would spend by taking part in k rounds: k − 1 rounds of 3 contributors, and the
    // next at the fewest contributors it could be released with (the quorum, 2), at q = 1.
    const cfg = running.coordinator.dp;
    const spend = (k: number) =>
      accountRounds([...Array.from({ length: k - 1 }, () => ledgerReaderEvent(cfg, 3, 0, config.dim)), ledgerReaderEvent(cfg, 2, 0, config.dim)], config.dp.delta).total.epsilon;
    const limit = (spend(3) + spend(4)) / 2;
    const thrifty = toHex(people[2]!.publicKey);
    const clients = people.map((p, i) => participant(running!.url, p, 0.1, config.dim, i === 2 ? { maxEpsilon: limit } : {}));
    const stop = closeWithout(running, thrifty, (round) => clients[2]!.participations.some((r) => r.round === round && r.status === 'refused'));
    const results = await Promise.all(clients.map((c) => c.run()));
    stop();
    expect(results[2]!.map((r) => [r.round, r.status, r.code ?? null])).toEqual([
      [0, 'completed', null],
      [1, 'completed', null],
      [2, 'completed', null],
      [3, 'refused', 'client/epsilon-budget'],
      [4, 'refused', 'client/epsilon-budget'],
    ]);
    for (const r of results.slice(0, 2)) expect(r.map((x) => x.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
    // the ledger agrees: it contributed to exactly three rounds, within its limit
    const ledger = chargedEntries(await running.coordinator.ledger());
    const mine = ledger.filter((e) => e.contributors.some((c) => c.publicKey === thrifty));
    expect(mine.map((e) => e.round)).toEqual([0, 1, 2]);
    const own = accountRounds(mine.map((e) => ledgerReaderEvent(e.mechanism, e.contributors.length, 0, e.dim)), config.dp.delta).total.epsilon;
    expect(own).toBeLessThanOrEqual(limit);
  }, 60_000);

  it('a coordinator restarted on a fresh store is refused: new key (pinned key) or same key (receipts)', async () => {
    const people = identities(2, 'fresh-store');
    const config = smallConfig(people, { rounds: 1 });
    const dirs = people.map(() => mkdtempSync(join(tmpdir(), 'fedveil-receipts-')));
    const run = (more: { maxDelta?: number } = {}) =>
      Promise.all(people.map((p, i) => participant(running!.url, p, 0.1, config.dim, { receipts: new ReceiptStore(dirs[i]!), maxRounds: 1, ...more }).run()));

    running = await startTestCoordinator(config);
    expect((await run()).map((r) => r[0]!.status)).toEqual(['completed', 'completed']);
    const store = new ReceiptStore(dirs[0]!);
    expect(store.receipts(config.federationId).map((r) => r.round)).toEqual([0]);
    expect(store.pinnedKey(config.federationId)).toBe(toHex(running.coordinator.publicKey));
    await running.close();

    // the same key on a fresh store: round 0 again, ε 0, but the ledger lacks the receipt of round 0
    running = await startTestCoordinator(config);
    expect((await run()).map((r) => r[0]!.code)).toEqual(['client/ledger-behind-receipt', 'client/ledger-behind-receipt']);
    await running.close();

    // a new key: the participants pinned the first one
    const other = identities(1, 'fresh-store-coordinator')[0]!;
    running = await startTestCoordinator(config, { identity: other });
    expect((await run()).map((r) => r[0]!.code)).toEqual(['client/coordinator-key-changed', 'client/coordinator-key-changed']);
    await running.close();

    // and a federation whose δ exceeds a participant's limit is refused before anything is sent
    running = await startTestCoordinator({ ...config, federationId: 'fed-http-2' });
    const refused = await run({ maxDelta: 1e-6 });
    expect(refused.map((r) => r[0]!.code)).toEqual(['client/delta-above-limit', 'client/delta-above-limit']);
  }, 60_000);
});
