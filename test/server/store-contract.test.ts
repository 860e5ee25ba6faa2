import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeProvider } from '../../src/secagg/index.js';
import { amendmentFacts, amendmentRecord, currentTerms } from '../../src/server/ledger-amendment.js';
import { chainLedgerEntry, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { PostgresCoordinatorStore } from '../../src/server/postgres-store.js';
import { modelHash, SqliteCoordinatorStore } from '../../src/server/sqlite-store.js';
import type { CoordinatorStore } from '../../src/server/store.js';
import { postgres } from '../services.js';
import { coordinator, fixtureLedger, identities } from './fixtures.js';
import { dropSchemas, freshSchema } from './pg-schema.js';

const people = identities(3);
const { entries: fixture } = fixtureLedger(people, 2);
const [genesis, e0, e1] = fixture as [LedgerEntry, LedgerEntry, LedgerEntry];
/** An amendment after round 0 (two more rounds, same terms otherwise), chained onto e0. */
function amendmentAfter(previous: LedgerEntry): LedgerEntry {
  const g = genesis as Extract<LedgerEntry, { kind: 'genesis' }>;
  const terms = currentTerms(g, [genesis, previous]);
  const amended = { rounds: terms.rounds + 2, epsilonBudget: terms.epsilonBudget };
  const facts = amendmentFacts(g, [genesis, previous], amended, 'rdp');
  const record = amendmentRecord({ genesis: g, facts, amended, mechanism: terms.mechanism, fromRound: 1, timestamp: '2026-12-06T00:00:00.000Z', reason: 'store contract' });
  return chainLedgerEntry(previous, record, nodeProvider, coordinator.secretKey);
}
const weights = (v: number) => new Uint8Array(new Float32Array([v, v + 1, v + 2, v + 3]).buffer);

/** A backend under the contract: `fresh()` makes an empty store and a way to reopen the same one. */
interface Backend {
  name: string;
  skip: string | false;
  fresh(): Promise<{ open(): Promise<CoordinatorStore> }>;
}

const pg = postgres();
const backends: Backend[] = [
  {
    name: 'SQLite',
    skip: false,
    async fresh() {
      const path = join(mkdtempSync(join(tmpdir(), 'fedveil-store-')), 'c.db');
      return { open: async () => new SqliteCoordinatorStore(path) };
    },
  },
  {
    name: 'Postgres',
    skip: pg.available ? false : pg.skipReason,
    async fresh() {
      const schema = await freshSchema(pg.location);
      return { open: () => PostgresCoordinatorStore.open({ url: pg.location, schema }) };
    },
  },
];

afterAll(async () => {
  if (pg.available) await dropSchemas(pg.location);
});

describe.each(backends)('$name coordinator store (CoordinatorStore contract)', ({ skip, fresh }) => {
  it.skipIf(skip)('persists models, rounds, ledger and nonces across reopen', async () => {
    const at = await fresh();
    let store = await at.open();
    const m0 = await store.initModel(weights(0));
    expect(m0.version).toBe(0);
    expect((await store.initModel(weights(9))).hash).toBe(m0.hash); // never replaced
    expect(await store.initMeta('seed', 'abc')).toBe('abc');
    expect(await store.initMeta('seed', 'other')).toBe('abc');
    expect(await store.getMeta('nothing')).toBeUndefined();
    expect(await store.nextRoundId()).toBe(0);
    await store.beginRound({ round: 0, startedAt: 't0', cohort: ['a'], draw: { method: 'poisson' } });
    await store.setRoundPhase(0, 'share-keys');
    expect(await store.useNonce('s', 'n1', 0)).toBe(true);
    expect(await store.useNonce('s', 'n1', 0)).toBe(false);
    const after = weights(1);
    await store.appendGenesis(genesis);
    await expect(store.appendGenesis(genesis)).rejects.toMatchObject({ code: 'store/ledger-chain' });
    await store.completeRound(0, e0, { version: 1, hash: modelHash(after), weights: after, optimizerState: new Uint8Array([7, 8]) }, 't1');
    await store.close();

    store = await at.open();
    expect((await store.latestModel())!.version).toBe(1);
    expect((await store.latestModel())!.optimizerState).toEqual(new Uint8Array([7, 8]));
    expect((await store.getModel(0))!.optimizerState).toBeNull();
    expect(await store.getModel(2)).toBeNull();
    expect(Array.from(new Float32Array((await store.latestModel())!.weights.slice().buffer))).toEqual([1, 2, 3, 4]);
    expect(await store.ledger()).toEqual([genesis, e0]);
    expect((await store.rounds())[0]).toMatchObject({ round: 0, status: 'completed', phase: 'share-keys', cohort: ['a'], draw: { method: 'poisson' } });
    expect(await store.useNonce('s', 'n1', 0)).toBe(false);
    await store.pruneNonces(1);
    expect(await store.useNonce('s', 'n1', 0)).toBe(true);
    expect(await store.nextRoundId()).toBe(1);
    await store.close();
  });

  it.skipIf(skip)('never releases a round twice and never breaks the chain (nothing changes on refusal)', async () => {
    const store = await (await fresh()).open();
    await store.initModel(weights(0));
    await store.beginRound({ round: 0, startedAt: 't', cohort: [], draw: {} });
    const m1 = { version: 1, hash: modelHash(weights(1)), weights: weights(1) };
    await expect(store.completeRound(0, e0, m1, 't')).rejects.toMatchObject({ code: 'store/ledger-chain' });
    await store.appendGenesis(genesis);
    await expect(store.completeRound(0, { ...e0, round: 3 } as LedgerEntry, m1, 't')).rejects.toMatchObject({ code: 'store/ledger-round' });
    await expect(store.completeRound(7, e0, m1, 't')).rejects.toMatchObject({ code: 'store/unknown-round' });
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
    await expect(store.chargeAbortedRound(1, e1, 'late', 't')).rejects.toMatchObject({ code: 'store/round-not-running' });
    await store.close();
  });

  it.skipIf(skip)('charges an aborted round in one step, and aborting leaves other rounds alone', async () => {
    const store = await (await fresh()).open();
    await store.initModel(weights(0));
    await store.appendGenesis(genesis);
    await store.beginRound({ round: 0, startedAt: 't', cohort: [], draw: {} });
    await store.chargeAbortedRound(0, e0, 'protocol/too-few-survivors', 't2');
    expect((await store.rounds())[0]).toMatchObject({ status: 'aborted', abortReason: 'protocol/too-few-survivors', endedAt: 't2' });
    expect(await store.ledger()).toEqual([genesis, e0]);
    expect((await store.latestModel())!.version).toBe(0); // a charged abort releases no model
    await store.abortRound(0, 'again', 't3'); // not running: no effect
    expect((await store.rounds())[0]!.abortReason).toBe('protocol/too-few-survivors');
    await store.beginRound({ round: 1, startedAt: 't', cohort: [], draw: {} });
    await store.abortRound(1, 'cohort-too-small', 't4');
    expect(await store.abortRunningRounds('restart', 't')).toEqual([]);
    expect((await store.rounds()).map((r) => r.status)).toEqual(['aborted', 'aborted']);
    await store.close();
  });

  it.skipIf(skip)('concurrent releases of one round: exactly one commits', async () => {
    const at = await fresh();
    const [a, b] = [await at.open(), await at.open()];
    await a.initModel(weights(0));
    await a.appendGenesis(genesis);
    await a.beginRound({ round: 0, startedAt: 't', cohort: [], draw: {} });
    const m1 = { version: 1, hash: modelHash(weights(1)), weights: weights(1) };
    const results = await Promise.allSettled([a.completeRound(0, e0, m1, 't'), b.completeRound(0, e0, m1, 't')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await b.ledger()).toEqual([genesis, e0]);
    await a.close();
    await b.close();
  });
  it.skipIf(skip)('appends an amendment between rounds only when it extends the chain, and keeps it across reopen', async () => {
    const at = await fresh();
    let store = await at.open();
    await store.initModel(weights(0));
    await store.appendGenesis(genesis);
    await store.beginRound({ round: 0, startedAt: 't', cohort: [], draw: {} });
    await store.completeRound(0, e0, { version: 1, hash: modelHash(weights(1)), weights: weights(1) }, 't');
    const amendment = amendmentAfter(e0);
    await expect(store.appendAmendment(e1)).rejects.toMatchObject({ code: 'store/ledger-chain' }); // not an amendment
    await expect(store.appendAmendment(amendmentAfter(genesis))).rejects.toMatchObject({ code: 'store/ledger-chain' }); // does not extend e0
    expect(await store.ledger()).toEqual([genesis, e0]);
    await store.appendAmendment(amendment);
    await expect(store.appendAmendment(amendment)).rejects.toMatchObject({ code: 'store/ledger-chain' });
    await store.close();
    store = await at.open();
    expect(await store.ledger()).toEqual([genesis, e0, amendment]);
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
