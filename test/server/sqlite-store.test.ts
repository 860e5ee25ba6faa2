import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src/server/ledger-entry.js';
import { modelHash, SqliteCoordinatorStore } from '../../src/server/sqlite-store.js';
import { fixtureLedger, identities } from './fixtures.js';

const people = identities(3);
const { entries: fixture } = fixtureLedger(people, 2);
const [genesis, e0, e1] = fixture as [LedgerEntry, LedgerEntry, LedgerEntry];
const weights = (v: number) => new Uint8Array(new Float32Array([v, v + 1, v + 2, v + 3]).buffer);

describe('SQLite coordinator store', () => {
  it('persists models, rounds, ledger and nonces across reopen, in WAL mode', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fedveil-store-')), 'c.db');
    let store = new SqliteCoordinatorStore(path);
    const m0 = await store.initModel(weights(0));
    expect(m0.version).toBe(0);
    expect((await store.initModel(weights(9))).hash).toBe(m0.hash); // never replaced
    expect(await store.initMeta('seed', 'abc')).toBe('abc');
    expect(await store.initMeta('seed', 'other')).toBe('abc');
    expect(await store.nextRoundId()).toBe(0);
    await store.beginRound({ round: 0, startedAt: 't0', cohort: ['a'], draw: { method: 'poisson' } });
    await store.setRoundPhase(0, 'share-keys');
    expect(await store.useNonce('s', 'n1', 0)).toBe(true);
    expect(await store.useNonce('s', 'n1', 0)).toBe(false);
    const after = weights(1);
    await store.appendGenesis(genesis);
    await expect(store.appendGenesis(genesis)).rejects.toMatchObject({ code: 'store/ledger-chain' });
    await store.completeRound(0, e0, { version: 1, hash: modelHash(after), weights: after }, 't1');
    await store.close();

    store = new SqliteCoordinatorStore(path);
    expect((await store.latestModel())!.version).toBe(1);
    expect(Array.from(new Float32Array((await store.latestModel())!.weights.slice().buffer))).toEqual([1, 2, 3, 4]);
    expect(await store.ledger()).toEqual([genesis, e0]);
    expect((await store.rounds())[0]).toMatchObject({ round: 0, status: 'completed', phase: 'share-keys', cohort: ['a'] });
    expect(await store.useNonce('s', 'n1', 0)).toBe(false);
    await store.pruneNonces(1);
    expect(await store.useNonce('s', 'n1', 0)).toBe(true);
    expect(await store.nextRoundId()).toBe(1);
    await store.close();
  });

  it('never releases a round twice and never breaks the chain (nothing changes on refusal)', async () => {
    const store = new SqliteCoordinatorStore(':memory:');
    await store.initModel(weights(0));
    await store.beginRound({ round: 0, startedAt: 't', cohort: [], draw: {} });
    const m1 = { version: 1, hash: modelHash(weights(1)), weights: weights(1) };
    await expect(store.completeRound(0, e0, m1, 't')).rejects.toMatchObject({ code: 'store/ledger-chain' });
    await store.appendGenesis(genesis);
    await store.completeRound(0, e0, m1, 't');
    await expect(store.completeRound(0, e0, m1, 't')).rejects.toMatchObject({ code: 'store/round-not-running' });
    await expect(store.beginRound({ round: 0, startedAt: 't', cohort: [], draw: {} })).rejects.toMatchObject({ code: 'store/round-id' });
    await store.beginRound({ round: 1, startedAt: 't', cohort: [], draw: {} });
    const m2 = { version: 2, hash: modelHash(weights(2)), weights: weights(2) };
    const second = { ...e1, round: 1 } as LedgerEntry;
    await expect(store.completeRound(1, { ...second, seq: 1, prevHash: genesis.hash } as LedgerEntry, m2, 't')).rejects.toMatchObject({ code: 'store/ledger-chain' });
    await expect(store.completeRound(1, second, { ...m2, version: 5 }, 't')).rejects.toMatchObject({ code: 'store/model-version' });
    expect(await store.ledger()).toHaveLength(2);
    expect((await store.latestModel())!.version).toBe(1);
    expect((await store.rounds())[1]!.status).toBe('running');
    expect(await store.abortRunningRounds('restart', 't')).toEqual([1]);
    expect((await store.rounds())[1]).toMatchObject({ status: 'aborted', abortReason: 'restart' });
    await expect(store.completeRound(1, e1, m2, 't')).rejects.toMatchObject({ code: 'store/round-not-running' });
    await store.close();
  });
});

describe('server optimiser state survives a restart', () => {
  it('is committed with each model version and restored from it (FedAvgM momentum)', async () => {
    const { identities: ids, participant, smallConfig, startTestCoordinator } = await import('./harness.js');
    const { decodeOptimizerState, encodeOptimizerState } = await import('../../src/server/coordinator.js');
    const state = { kind: 'fedavgm' as const, step: 3, m: new Float32Array([1.5, -2]), v: null };
    expect(decodeOptimizerState(encodeOptimizerState(state))).toEqual(state);

    const db = join(mkdtempSync(join(tmpdir(), 'fedveil-optim-')), 'c.db');
    const people = ids(2, 'optim');
    const config = smallConfig(people, { rounds: 1 });
    const first = await startTestCoordinator(config, { storePath: db, serverOptimizer: { kind: 'fedavgm', lr: 1, momentum: 0.9 } });
    await Promise.all(people.map((p) => participant(first.url, p, 0.5, config.dim).run()));
    const after = (first.coordinator as unknown as { optimizer: { exportState(): { step: number; m: Float32Array | null } } }).optimizer.exportState();
    expect(after.step).toBe(1);
    await first.close();

    const second = await startTestCoordinator(config, { storePath: db, serverOptimizer: { kind: 'fedavgm', lr: 1, momentum: 0.9 }, autoStart: false });
    const restored = (second.coordinator as unknown as { optimizer: { exportState(): { step: number; m: Float32Array | null } } }).optimizer.exportState();
    expect(restored.step).toBe(1);
    expect(restored.m).toEqual(after.m);
    expect((await second.coordinator.ledger()).map((e) => e.kind)).toEqual(['genesis', 'round']);
    await second.close();
  });
});
