import { afterEach, describe, expect, it } from 'vitest';
import { nodeProvider, seededRandom, toHex, type KeyPair } from '../../src/secagg/index.js';
import { signRequest } from '../../src/server/request-auth.js';
import { READY_TARGET } from '../../src/server/wire.js';
import { chargedEntries, type GenesisEntry, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { genesisFederationConfig } from '../../src/server/ledger-genesis.js';
import { nextGroupEpsilon, participantEpsilon } from '../../src/server/participant-budget.js';
import { checkLedgerBeforeReady } from '../../src/server/participant-ledger-check.js';
import type { FederationConfig } from '../../src/server/config.js';
import type { RoundSummary } from '../../src/server/coordinator.js';
import type { ParticipationResult } from '../../src/server/participant.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const deadlines = { 'advertise-keys': 20_000, 'share-keys': 20_000, 'masked-input': 20_000, 'consistency-check': 20_000, unmask: 20_000 };
const dp = { mechanism: 'skellam' as const, clipNorm: 1, bits: 20, scale: 0.01, rotation: false, minContributors: 2, noiseMultiplier: 1 };

/** A federation of `people` in groups of `k`, fixed Skellam noise (finite ε per group). */
function budgetConfig(people: KeyPair[], k: number, o: { rounds: number; threshold?: number }): FederationConfig {
  return smallConfig(people, { rounds: o.rounds, threshold: o.threshold ?? 2, cohort: { size: k }, deadlines, dp, async: { maxStaleness: 10 } });
}

/** My ε if I joined the first group: the figure a participant computes before announcing. */
async function firstGroupEpsilon(r: RunningCoordinator, who: KeyPair): Promise<number> {
  const [genesis] = (await r.coordinator.ledger()) as [GenesisEntry];
  return nextGroupEpsilon(genesis, genesisFederationConfig(genesis), [genesis], toHex(who.publicKey), { dp: genesis.mechanism, dim: r.coordinator.config.dim }).epsilon;
}

/** Ends the running phase as soon as every member but `absent` has submitted (instead of waiting for its deadline). */
function expireWhenOnlyMissing(r: RunningCoordinator, absent: string): () => void {
  const timer = setInterval(() => {
    const p = r.coordinator.phaseProgress();
    if (!p) return;
    const missing = p.expected.filter((i) => !p.submitted.includes(i)).map((i) => p.members[i]);
    if (missing.length === 1 && missing[0] === absent) r.coordinator.expireDeadline();
  }, 10);
  return () => clearInterval(timer);
}

/** A signed `POST /v1/ready` as `who`: an announcement made with its key by someone other than its participant. */
async function announceAs(r: RunningCoordinator, who: KeyPair, modelVersion: number): Promise<Response> {
  const body = new TextEncoder().encode(JSON.stringify({ modelVersion, time: Date.now() }));
  const headers = signRequest(nodeProvider, who, { federationId: r.coordinator.config.federationId, ...READY_TARGET, method: 'POST', body }, seededRandom(`ready-as-${toHex(who.publicKey).slice(0, 8)}`));
  return fetch(new URL('v1/ready', r.url), { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
}

/** Resolves once `lines` holds a line containing `text`. */
async function logged(lines: string[], text: string): Promise<void> {
  for (let i = 0; i < 2000 && !lines.some((l) => l.includes(text)); i++) await new Promise((r) => setTimeout(r, 10));
  expect(lines.some((l) => l.includes(text))).toBe(true);
}

describe('over-budget participants in an asynchronous federation', () => {
  it('a participant whose next group would pass --max-epsilon stops announcing (client/epsilon-budget, once) and the groups go on without it', async () => {
    const people = identities(4, 'async-budget');
    const config = budgetConfig(people, 3, { rounds: 3 });
    running = await startTestCoordinator(config);
    const limited = people[3]!;
    const self = toHex(limited.publicKey);
    // Exactly the ε of one group: every second group costs more, so it may contribute once.
    const limit = await firstGroupEpsilon(running, limited);
    expect(Number.isFinite(limit) && limit > 0).toBe(true);
    const lines: string[] = [];
    const clients = people.map((p, i) =>
      participant(running!.url, p, 0.1 * (i + 1), config.dim, i === 3 ? { maxEpsilon: limit, log: (l) => lines.push(l) } : {}),
    );
    const results = await Promise.all(clients.map((c) => c.run()));
    await running.coordinator.finished;

    const mine = results[3]!;
    expect(mine.filter((r) => r.status === 'completed')).toHaveLength(1);
    const refusals = mine.filter((r) => r.status !== 'completed');
    // One refusal, before announcing (nothing sent), with its code; never drawn into a group again.
    expect(refusals).toEqual([expect.objectContaining({ status: 'refused', code: 'client/epsilon-budget', lastPhase: null, examples: 0 })]);
    expect(lines.filter((l) => l.includes('announced ready'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('not announcing an update:'))).toHaveLength(1);
    expect(lines.find((l) => l.startsWith('not announcing an update:'))).toMatch(/above my limit/);

    const full = await running.coordinator.ledger();
    const charged = chargedEntries(full);
    expect(charged).toHaveLength(3);
    expect(charged.filter((e) => e.cohort.members.includes(self))).toHaveLength(1);
    expect(charged.filter((e) => e.contributors.some((c) => c.publicKey === self))).toHaveLength(1);
    // The groups after it released without it, and its own ε stayed within its limit.
    expect(participantEpsilon(full[0] as GenesisEntry, full, self).epsilon).toBeLessThanOrEqual(limit);
    expect(verifyLedger(full, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);
    // The same check, on the finished ledger, still refuses it, and passes a participant with no limit.
    const ledgerCheck = (maxEpsilon?: number) =>
      checkLedgerBeforeReady({ entries: full, self, coordinatorKey: toHex(running!.coordinator.publicKey), receipts: [], ...(maxEpsilon === undefined ? {} : { maxEpsilon }) });
    expect(ledgerCheck(limit)).toMatchObject({ ok: false, code: 'client/epsilon-budget' });
    expect(ledgerCheck()).toMatchObject({ ok: true });
  });

  it('an over-budget participant announced anyway is placed in a group: it refuses with client/epsilon-budget and the group releases without it', async () => {
    const people = identities(3, 'async-budget-anyway');
    const config = budgetConfig(people, 3, { rounds: 1 });
    const ends: RoundSummary[] = [];
    running = await startTestCoordinator(config, { onRoundEnd: (s) => ends.push(s) });
    const limited = people[2]!;
    const self = toHex(limited.publicKey);
    const lines: string[] = [];
    const over = participant(running.url, limited, 0.9, config.dim, { maxEpsilon: (await firstGroupEpsilon(running, limited)) / 2, log: (l) => lines.push(l) });
    const overRun = over.run();
    await logged(lines, 'not announcing an update');
    // Its key announces all the same (another client holding it, or an older one without the check).
    const res = await announceAs(running, limited, 0);
    expect(res.status).toBe(200);
    expect(running.coordinator.readyCount).toBe(1);
    const stop = expireWhenOnlyMissing(running, self);
    const others = [people[0]!, people[1]!].map((p, i) => participant(running!.url, p, 0.1 * (i + 1), config.dim).run());
    const [a, b] = await Promise.all(others);
    stop();
    const mine = await overRun;

    const full = await running.coordinator.ledger();
    const [entry] = chargedEntries(full);
    expect(entry!.cohort.members).toContain(self);
    // Refused inside the group with the round's own checks, before sending anything.
    expect(mine).toEqual([
      expect.objectContaining({ status: 'refused', code: 'client/epsilon-budget', lastPhase: null }),
      expect.objectContaining({ round: entry!.round, status: 'refused', code: 'client/epsilon-budget', lastPhase: null }),
    ]);
    expect(lines.some((l) => l.startsWith(`round ${entry!.round}: refusing to contribute:`) && l.includes('above my limit'))).toBe(true);
    expect(a!.map((r) => r.status)).toEqual(['completed']);
    expect(b!.map((r) => r.status)).toEqual(['completed']);
    expect(entry!.contributors.map((c) => c.publicKey)).not.toContain(self);
    expect(entry!.contributors).toHaveLength(2);
    expect(entry!.dropouts['advertise-keys']).toEqual([self]);
    expect(ends.map((s) => s.status)).toEqual(['completed']);
    expect(verifyLedger(full, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);
  });

  it('a group whose quorum needs the over-budget member aborts cleanly, charges no one, and its other members keep their update', async () => {
    const people = identities(3, 'async-budget-quorum');
    // Threshold 3 in groups of 3: every member is needed.
    const config = budgetConfig(people, 3, { rounds: 1, threshold: 3 });
    const ends: RoundSummary[] = [];
    running = await startTestCoordinator(config, { onRoundEnd: (s) => ends.push(s) });
    const limited = people[2]!;
    const self = toHex(limited.publicKey);
    const lines: string[] = [];
    const mine: ParticipationResult[] = [];
    const over = participant(running.url, limited, 0.9, config.dim, { maxEpsilon: (await firstGroupEpsilon(running, limited)) / 2, log: (l) => lines.push(l), onResult: (r) => mine.push(r) });
    const overRun = over.run().catch(() => []);
    await logged(lines, 'not announcing an update');
    expect((await announceAs(running, limited, 0)).status).toBe(200);
    const stop = expireWhenOnlyMissing(running, self);
    const got: ParticipationResult[][] = [[], []];
    const others = [people[0]!, people[1]!].map((p, i) => participant(running!.url, p, 0.1, config.dim, { onResult: (r) => got[i]!.push(r) }));
    // Their coordinator closes under them below: they end unreachable, which is not under test.
    const runs = others.map((c) => c.run().catch(() => []));
    for (let i = 0; i < 2000 && ends.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    stop();
    expect(ends).toEqual([expect.objectContaining({ status: 'aborted', phase: 'advertise-keys', contributors: 0 })]);
    // The others' updates were not used: each is announced again for the next group.
    for (let i = 0; i < 2000 && running.coordinator.readyCount < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(running.coordinator.readyCount).toBe(2);
    for (const g of got) expect(g).toEqual([expect.objectContaining({ status: 'aborted', lastPhase: 'advertise-keys' })]);
    const full: LedgerEntry[] = await running.coordinator.ledger();
    expect(chargedEntries(full)).toHaveLength(0);
    expect(verifyLedger(full, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);
    await running.close();
    running = undefined;
    await Promise.all([overRun, ...runs]);
    expect(mine.map((r) => r.code)).toEqual(['client/epsilon-budget', 'client/epsilon-budget']);
  });
});
