import { afterEach, describe, expect, it } from 'vitest';
import { packBits, toHex } from '../../src/secagg/index.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyReport, type PrivacyReport } from '../../src/dp/index.js';
import { ledgerReportCheck, readLedgerBundle } from '../../src/server/ledger-audit.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import { SqliteCoordinatorStore } from '../../src/server/sqlite-store.js';
import { until } from './signed-client.js';
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
    expect(ledger.map((e) => e.kind)).toEqual(['genesis', 'round', 'round']);
    expect(verifyLedger(ledger, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);

    // the exported audit bundle: the ledger verifies and the report holds against it
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-audit-'));
    const paths = await running.exportAudit(dir);
    const bundle = readLedgerBundle({ ledger: paths.ledger, coordinatorKey: paths.coordinatorKey });
    const check = ledgerReportCheck(bundle, { allowedParticipantKeys: config.participants });
    const report = JSON.parse(readFileSync(paths.report, 'utf8')) as PrivacyReport;
    expect(verifyReport(report, { checks: [check] })).toEqual([]);
    // a self-consistent report that leaves out the last round under-counts ε: the ledger says so
    const partial = buildPrivacyReport(ledger.slice(0, 2));
    expect(verifyReport(partial, { checks: [check] }).map((d) => d.code)).toEqual(['ledger/report-rounds', 'ledger/round-not-reported']);
  });
});

describe('participant traffic and long-polling', () => {
  it('sends only protocol messages; the update never appears unmasked in any request', async () => {
    const people = identities(3, 'unmasked');
    const config = smallConfig(people, { rounds: 1, dp: { mechanism: 'none', clipNorm: 100, bits: 24, scale: 0.5, rotation: false } });
    running = await startTestCoordinator(config);
    const sent: { url: string; body: Uint8Array }[] = [];
    const spy: typeof fetch = async (input, init) => {
      if (init?.method === 'POST') sent.push({ url: String(input), body: new Uint8Array(init.body as Uint8Array) });
      return fetch(input, init);
    };
    // with γ = 0.5 and no noise, the unmasked encoding of 3.0 is exactly 6 in every coordinate
    const update = new Float32Array(config.dim).fill(3);
    const clients = people.map((p) => participant(running!.url, p, 3, config.dim, { fetch: spy }));
    const results = await Promise.all(clients.map((c) => c.run()));
    expect(results.flat().map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(new Set(sent.map((s) => s.url.replace(/.*\/v1\/rounds\/\d+\//, '').replace(/.*\/v1\//, '')))).toEqual(new Set(['join', 'advertise-keys', 'share-keys', 'masked-input', 'unmask']));
    // besides the protocol's messages, only the join: a session token and a time
    for (const s of sent.filter((x) => x.url.endsWith('/v1/join'))) expect(Object.keys(JSON.parse(Buffer.from(s.body).toString()) as object).sort()).toEqual(['session', 'time']);
    const raw = new Uint8Array(update.buffer);
    const encoded = packBits(new Uint32Array(config.dim).fill(6), 24);
    const contains = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).includes(Buffer.from(needle));
    for (const s of sent) {
      expect(contains(s.body, raw)).toBe(false);
      expect(contains(s.body, encoded)).toBe(false);
    }
    // …while the aggregate still decodes to the mean update
    for (const w of new Float32Array(running.coordinator.model.weights.slice().buffer)) expect(w).toBeCloseTo(3, 5);
  });

  it('long-polls answer on the awaited change, or with the unchanged state at the timeout', async () => {
    const people = identities(2, 'longpoll');
    const config = smallConfig(people, { rounds: 1, longPollMs: 10_000 });
    running = await startTestCoordinator(config);
    const get = async (q: string) => (await (await fetch(new URL(`v1/round${q}`, running!.url))).json()) as { stateVersion: number; phase: string | null };
    const now = await get('');
    expect(now.phase).toBe('advertise-keys');
    // nothing changes: the poll returns the same state when its timeout expires
    const t0 = performance.now();
    const same = await get(`?since=${now.stateVersion}&timeoutMs=200`);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(same.stateVersion).toBe(now.stateVersion);
    // a poll for share-keys is answered when the participants advance the round
    const waiting = get(`?waitFor=share-keys&round=0&timeoutMs=10000`);
    const clients = people.map((p) => participant(running!.url, p, 1, config.dim));
    const [state] = await Promise.all([waiting, ...clients.map((c) => c.run())]);
    expect((state as { phase: string }).phase).not.toBe('advertise-keys');
  });

  it('a waitFor=end poll is not answered while the round is still being committed', async () => {
    const people = identities(2, 'finalizing');
    const config = smallConfig(people, { rounds: 1, longPollMs: 10_000 });
    const store = new SqliteCoordinatorStore(':memory:');
    const slowCommit = store.completeRound.bind(store);
    store.completeRound = async (...args) => {
      await new Promise((r) => setTimeout(r, 300));
      return slowCommit(...args);
    };
    running = await startTestCoordinator(config, { store });
    const clients = people.map((p) => participant(running!.url, p, 1, config.dim));
    const runs = Promise.all(clients.map((c) => c.run()));
    await until(running.url, (s) => s.phase === 'unmask' || s.phase === 'finalizing');
    const ended = (await (await fetch(new URL('v1/round?waitFor=end&round=0', running.url))).json()) as { lastRound: { round: number } | null; phase: string | null };
    expect(ended.phase).not.toBe('finalizing');
    expect(ended.lastRound?.round).toBe(0);
    await runs;
  });
});

