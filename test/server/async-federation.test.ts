import { afterEach, describe, expect, it } from 'vitest';
import { nodeProvider, seededRandom, toHex, type KeyPair } from '../../src/secagg/index.js';
import { signRequest } from '../../src/server/request-auth.js';
import { READY_TARGET } from '../../src/server/wire.js';
import { chargedEntries, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { rechain } from './fixtures.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const deadlines = { 'advertise-keys': 20_000, 'share-keys': 20_000, 'masked-input': 20_000, 'consistency-check': 20_000, unmask: 20_000 };

/** A promise and its resolver. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** A participant whose update is `value` everywhere, trained only once `gates(version)` resolves. */
function gated(url: string, id: KeyPair, value: number, dim: number, gates: (version: number) => Promise<void>) {
  return participant(url, id, value, dim, {
    train: async (_w, info) => {
      await gates(info.modelVersion);
      return { update: new Float32Array(dim).fill(value), examples: 10 };
    },
  });
}

describe('asynchronous federation over HTTP', () => {
  it('a stale member is down-weighted inside the secure sum; the ledger records the group and verifies; tampering is refused', async () => {
    const people = identities(3, 'async');
    const config = smallConfig(people, { rounds: 2, cohort: { size: 2 }, deadlines, async: { maxStaleness: 2 } });
    const [a, b, c] = [0.1, 0.2, 0.4];
    const slowC = gate();
    const laterA = gate();
    running = await startTestCoordinator(config, {
      // C finishes training on version 0 only once version 1 is out: it joins the second group 1 version stale.
      onRoundEnd: (s) => {
        if (s.round === 0) slowC.open();
      },
    });
    const url = running.url;
    const clients = [
      gated(url, people[0]!, a, config.dim, (v) => (v === 0 ? Promise.resolve() : laterA.wait)),
      gated(url, people[1]!, b, config.dim, () => Promise.resolve()),
      gated(url, people[2]!, c, config.dim, (v) => (v === 0 ? slowC.wait : Promise.resolve())),
    ];
    const runs = clients.map((p) => p.run());
    await running.coordinator.finished;
    laterA.open();
    const results = await Promise.all(runs);
    expect(results[2]!.map((r) => r.status)).toEqual(['completed']);

    // FedAvg with lr 1 applies the mean of the group's weighted sum: Σ sᵢ·uᵢ / K.
    const s1 = Math.pow(2, -0.5);
    const expected = (a + b) / 2 + (b + s1 * c) / 2;
    const model = new Float32Array(running.coordinator.model.weights.slice().buffer);
    for (const w of model) expect(w).toBeCloseTo(expected, 2);

    const full = await running.coordinator.ledger();
    const [g0, g1] = chargedEntries(full);
    expect(g0!.cohort.draw).toMatchObject({ method: 'ready-first', samplingRate: 1, group: { modelVersion: 0, trainedOn: [0, 0], weights: [1, 1] } });
    const cIndex = g1!.cohort.members.indexOf(toHex(people[2]!.publicKey));
    expect(g1!.cohort.draw.group?.trainedOn[cIndex]).toBe(0);
    expect(g1!.cohort.draw.group?.weights[cIndex]).toBe(s1);
    expect(full[0]).toMatchObject({ kind: 'genesis', cohort: { method: 'ready-first', size: 2 } });
    expect(verifyLedger(full, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);
    // Self-selected groups: the report claims no amplification by sampling.
    expect(buildPrivacyReport(full).rounds.every((r) => r.cohort.kind === 'all')).toBe(true);

    const tampered = (edit: (group: { trainedOn: number[]; weights: number[] }) => void): string[] => {
      const copy = structuredClone(full) as LedgerEntry[];
      const e = copy[2] as Extract<LedgerEntry, { kind: 'round' }>;
      edit(e.cohort.draw.group!);
      return verifyLedger(rechain(copy), null, null).map((d) => d.code);
    };
    expect(tampered((g) => (g.weights[cIndex] = 1))).toContain('ledger/staleness-weight-mismatch');
    expect(tampered((g) => (g.trainedOn[cIndex] = 1))).toContain('ledger/staleness-weight-mismatch');
    expect(tampered((g) => (g.trainedOn[cIndex] = 2))).toContain('ledger/stale-member');
  });

  it('a group with a dropout recovers as a synchronous round does and releases the survivors\' weighted sum', async () => {
    const people = identities(3, 'async-dropout');
    const config = smallConfig(people, { rounds: 1, cohort: { size: 3 }, deadlines, async: {} });
    running = await startTestCoordinator(config);
    const dropper = toHex(people[2]!.publicKey);
    // End a phase as soon as only the dropper is missing.
    const timer = setInterval(() => {
      const p = running?.coordinator.phaseProgress();
      if (!p) return;
      const missing = p.expected.filter((i) => !p.submitted.includes(i)).map((i) => p.members[i]);
      if (missing.length === 1 && missing[0] === dropper) running!.coordinator.expireDeadline();
    }, 10);
    // The announcement route: signed for round 0, phase 'ready'; a version not yet published is refused.
    const body = new TextEncoder().encode(JSON.stringify({ modelVersion: 3, time: Date.now() }));
    const headers = signRequest(nodeProvider, people[0]!, { federationId: config.federationId, ...READY_TARGET, method: 'POST', body }, seededRandom('ready-test'));
    const res = await fetch(new URL('v1/ready', running.url), { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('coordinator/unpublished-version');
    const clients = people.map((p, i) => participant(running!.url, p, 0.1 * (i + 1), config.dim, i === 2 ? { dropout: () => 'masked-input' } : {}));
    const results = await Promise.all(clients.map((c) => c.run()));
    clearInterval(timer);
    expect(results.map((r) => r[0]?.status)).toEqual(['completed', 'completed', 'dropped']);
    const full = await running.coordinator.ledger();
    const [entry] = chargedEntries(full);
    expect(entry!.dropouts['masked-input']).toEqual([dropper]);
    expect(entry!.contributors).toHaveLength(2);
    const model = new Float32Array(running.coordinator.model.weights.slice().buffer);
    for (const w of model) expect(w).toBeCloseTo((0.1 + 0.2) / 2, 2);
    expect(verifyLedger(full, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);
  });
});
