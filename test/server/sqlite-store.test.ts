import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeProvider } from '../../src/secagg/providers/index.js';
import { chainLedgerEntry } from '../../src/server/ledger-entry.js';
import { modelHash, SqliteCoordinatorStore } from '../../src/server/sqlite-store.js';
import { coordinator, identities, sampleRecord } from './fixtures.js';

const people = identities(3);
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
    const entry = chainLedgerEntry(null, sampleRecord(0, people, m0.hash, modelHash(after), 0), nodeProvider, coordinator.secretKey);
    await store.completeRound(0, entry, { version: 1, hash: modelHash(after), weights: after }, 't1');
    await store.close();

    store = new SqliteCoordinatorStore(path);
    expect((await store.latestModel())!.version).toBe(1);
    expect(Array.from(new Float32Array((await store.latestModel())!.weights.slice().buffer))).toEqual([1, 2, 3, 4]);
    expect(await store.ledger()).toEqual([entry]);
    expect((await store.rounds())[0]).toMatchObject({ round: 0, status: 'completed', phase: 'share-keys', cohort: ['a'] });
    expect(await store.useNonce('s', 'n1', 0)).toBe(false);
    await store.pruneNonces(1);
    expect(await store.useNonce('s', 'n1', 0)).toBe(true);
    expect(await store.nextRoundId()).toBe(1);
    await store.close();
  });

  it('never releases a round twice and never breaks the chain (nothing changes on refusal)', async () => {
    const store = new SqliteCoordinatorStore(':memory:');
    const m0 = await store.initModel(weights(0));
    await store.beginRound({ round: 0, startedAt: 't', cohort: [], draw: {} });
    const m1 = { version: 1, hash: modelHash(weights(1)), weights: weights(1) };
    const e0 = chainLedgerEntry(null, sampleRecord(0, people, m0.hash, m1.hash, 0), nodeProvider, coordinator.secretKey);
    await store.completeRound(0, e0, m1, 't');
    await expect(store.completeRound(0, e0, m1, 't')).rejects.toMatchObject({ code: 'store/round-not-running' });
    await expect(store.beginRound({ round: 0, startedAt: 't', cohort: [], draw: {} })).rejects.toMatchObject({ code: 'store/round-id' });
    await store.beginRound({ round: 1, startedAt: 't', cohort: [], draw: {} });
    const m2 = { version: 2, hash: modelHash(weights(2)), weights: weights(2) };
    const unchained = chainLedgerEntry(null, sampleRecord(1, people, m1.hash, m2.hash, 1), nodeProvider, coordinator.secretKey);
    await expect(store.completeRound(1, unchained, m2, 't')).rejects.toMatchObject({ code: 'store/ledger-chain' });
    const e1 = chainLedgerEntry(e0, sampleRecord(1, people, m1.hash, m2.hash, 1), nodeProvider, coordinator.secretKey);
    await expect(store.completeRound(1, e1, { ...m2, version: 5 }, 't')).rejects.toMatchObject({ code: 'store/model-version' });
    expect(await store.ledger()).toHaveLength(1);
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

    const second = await startTestCoordinator({ ...config, rounds: 2 }, { storePath: db, serverOptimizer: { kind: 'fedavgm', lr: 1, momentum: 0.9 }, autoStart: false });
    const restored = (second.coordinator as unknown as { optimizer: { exportState(): { step: number; m: Float32Array | null } } }).optimizer.exportState();
    expect(restored.step).toBe(1);
    expect(restored.m).toEqual(after.m);
    expect((await second.coordinator.ledger()).length).toBe(1);
    await second.close();
  });
});
