import { afterEach, describe, expect, it } from 'vitest';
import type { Phase } from '../../src/protocol/phases.js';
import { toHex } from '../../src/secagg/index.js';
import { chargedEntries } from '../../src/server/ledger-entry.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

// Long deadlines: phases end on quorum, or when the test sees that only the dropper is missing.
const deadlines = { 'advertise-keys': 60_000, 'share-keys': 60_000, 'masked-input': 60_000, 'consistency-check': 60_000, unmask: 60_000 };

type Progress = NonNullable<ReturnType<RunningCoordinator['coordinator']['phaseProgress']>>;

/** Ends each phase as soon as every expected participant but the silent ones (public keys) has submitted. */
function expireWhenOnlySilentMissing(r: RunningCoordinator, silent: (p: Progress) => readonly string[]): () => void {
  const timer = setInterval(() => {
    const p = r.coordinator.phaseProgress();
    if (p === null) return;
    const missing = p.expected.filter((i) => !p.submitted.includes(i)).map((i) => p.members[i] as string);
    const quiet = silent(p);
    if (missing.length > 0 && missing.every((k) => quiet.includes(k))) r.coordinator.expireDeadline();
  }, 10);
  return () => clearInterval(timer);
}

const ORDER: readonly Phase[] = ['advertise-keys', 'share-keys', 'masked-input', 'consistency-check', 'unmask'];

describe('rounds over HTTP with dropouts', () => {
  it('malicious mode: a participant dropping at each phase in turn; every round still releases', async () => {
    const people = identities(5, 'dropouts');
    const schedule: Phase[] = ['advertise-keys', 'share-keys', 'masked-input', 'consistency-check', 'unmask'];
    const config = smallConfig(people, {
      rounds: schedule.length,
      threshold: 3,
      mode: 'malicious',
      deadlines,
      dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: false, noiseMultiplier: 0.5 },
    });
    running = await startTestCoordinator(config);
    const dropper = toHex(people[4]!.publicKey);
    // the dropper stays silent from its scheduled phase on
    const stop = expireWhenOnlySilentMissing(running, (p) =>
      schedule[p.round] !== undefined && ORDER.indexOf(p.phase) >= ORDER.indexOf(schedule[p.round]!) ? [dropper] : [],
    );
    const clients = people.map((p, i) =>
      participant(running!.url, p, 0.05, config.dim, i === 4 ? { dropout: (round) => schedule[round] } : {}),
    );
    const results = await Promise.all(clients.map((c) => c.run()));
    await running.coordinator.finished;
    stop();

    expect(results[4]!.map((r) => [r.round, r.status])).toEqual(schedule.map((_, r) => [r, 'dropped']));
    for (const r of results.slice(0, 4)) expect(r.map((x) => x.status)).toEqual(schedule.map(() => 'completed'));

    const full = await running.coordinator.ledger();
    const ledger = chargedEntries(full);
    expect(full[0]!.kind).toBe('genesis');
    expect(ledger.map((e) => e.round)).toEqual([0, 1, 2, 3, 4]);
    schedule.forEach((phase, round) => {
      const e = ledger[round]!;
      expect(e.dropouts[phase]).toEqual([dropper]);
      for (const other of schedule.filter((p) => p !== phase)) expect(e.dropouts[other]).toEqual([]);
      // dropped before masking: not a contributor; after: a contributor (its input is in the sum)
      const contributed = phase === 'consistency-check' || phase === 'unmask';
      expect(e.contributors.some((c) => c.publicKey === dropper)).toBe(contributed);
      expect(e.contributors).toHaveLength(contributed ? 5 : 4);
    });
    expect(verifyLedger(full, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);
    const report = buildPrivacyReport(full);
    expect(report.rounds.map((r) => r.contributors)).toEqual([4, 4, 4, 5, 5]);
    expect(report.epsilon).toBeGreaterThan(0);
    expect(running.coordinator.epsilonSpent()).toBeCloseTo(report.epsilon as number, 10);
  });

  it('aborts a round below quorum before unmask: nothing released, no ledger entry but the genesis, clients told why', async () => {
    const people = identities(3, 'abort');
    const config = smallConfig(people, { rounds: 1, threshold: 3, deadlines });
    running = await startTestCoordinator(config, { maxConsecutiveAborts: 1 });
    const stop = expireWhenOnlySilentMissing(running, (p) => (p.phase === 'masked-input' ? [toHex(people[0]!.publicKey)] : []));
    const clients = people.map((p, i) => participant(running!.url, p, 0.1, config.dim, i === 0 ? { dropout: () => 'masked-input', maxRounds: 1 } : { maxRounds: 1 }));
    const results = await Promise.all(clients.map((c) => c.run()));
    stop();
    expect(results[0]![0]!.status).toBe('dropped');
    expect(results[1]![0]).toMatchObject({ status: 'aborted', code: 'protocol/quorum-not-met' });
    const summary = running.coordinator.summaries[0]!;
    expect(summary).toMatchObject({ round: 0, status: 'aborted', code: 'protocol/quorum-not-met', phase: 'masked-input' });
    expect((await running.coordinator.ledger()).map((e) => e.kind)).toEqual(['genesis']);
    expect(running.coordinator.model.version).toBe(0);
    await running.coordinator.finished; // one abort is the limit: the federation stops
    expect(running.coordinator.state().status).toBe('finished');
  });

  it('charges a round that aborts during unmask after shares were revealed: an aborted-after-unmask entry', async () => {
    const people = identities(4, 'charged');
    const config = smallConfig(people, {
      rounds: 1,
      threshold: 3,
      deadlines,
      dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: false, noiseMultiplier: 0.5 },
    });
    running = await startTestCoordinator(config, { maxConsecutiveAborts: 1 });
    // three of four go silent at unmask: one revealed its shares, the quorum of 3 is not met
    const silent = people.slice(1).map((p) => toHex(p.publicKey));
    const stop = expireWhenOnlySilentMissing(running, (p) => (p.phase === 'unmask' ? silent : []));
    const clients = people.map((p, i) => participant(running!.url, p, 0.1, config.dim, { maxRounds: 1, ...(i === 0 ? {} : { dropout: () => 'unmask' as const }) }));
    await Promise.all(clients.map((c) => c.run()));
    stop();
    await running.coordinator.finished;
    expect(running.coordinator.summaries[0]).toMatchObject({ status: 'aborted', phase: 'unmask', code: 'protocol/quorum-not-met' });
    const ledger = await running.coordinator.ledger();
    expect(ledger.map((e) => e.kind)).toEqual(['genesis', 'aborted-after-unmask']);
    const charged = ledger[1] as Extract<(typeof ledger)[number], { kind: 'aborted-after-unmask' }>;
    expect(charged.unmaskResponders).toEqual([toHex(people[0]!.publicKey)]);
    expect(charged.contributors).toHaveLength(4);
    expect(charged.modelVersion).toBe(0);
    expect(verifyLedger(ledger, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);
    // nothing was published, yet the round's ε is spent
    expect(running.coordinator.model.version).toBe(0);
    const report = buildPrivacyReport(ledger);
    expect(report.rounds.map((r) => r.round)).toEqual([charged.round]);
    expect(running.coordinator.epsilonSpent()).toBeGreaterThan(0);
    expect(running.coordinator.epsilonSpent()).toBeCloseTo(report.epsilon as number, 10);
  });

  it('never starts a round that could take the federation past its ε target: a round charged without release costs a round', async () => {
    const people = identities(4, 'over-target');
    const dp = { mechanism: 'skellam' as const, clipNorm: 1, bits: 20, scale: 0.01, rotation: false, minContributors: 3, targetEpsilon: 4 };
    const config = smallConfig(people, { rounds: 2, threshold: 3, deadlines, dp });
    const lines: string[] = [];
    running = await startTestCoordinator(config, { log: (l) => lines.push(l) });
    // round 0: three of four go silent at unmask after one revealed its shares, so it is charged
    // and releases nothing; the noise was calibrated for two charged rounds in all
    const silent = people.slice(1).map((p) => toHex(p.publicKey));
    const stop = expireWhenOnlySilentMissing(running, (p) => (p.round === 0 && p.phase === 'unmask' ? silent : []));
    const clients = people.map((p, i) => participant(running!.url, p, 0.1, config.dim, i === 0 ? {} : { dropout: (round) => (round === 0 ? ('unmask' as const) : undefined) }));
    await Promise.all(clients.map((c) => c.run()));
    stop();
    await running.coordinator.finished;
    const ledger = await running.coordinator.ledger();
    // round 1 fits in what is left; a third charged round would not, so it never starts
    expect(ledger.map((e) => e.kind)).toEqual(['genesis', 'aborted-after-unmask', 'round']);
    expect(running.coordinator.state().status).toBe('finished');
    expect(running.coordinator.epsilonSpent()).toBeLessThanOrEqual(4);
    expect(lines.some((l) => /federation finished: 1 of 2 rounds released \(ε target reached: one more round could bring ε to [0-9.]+, above the target 4/.test(l))).toBe(true);
    expect(verifyLedger(ledger, toHex(running.coordinator.publicKey), config.participants)).toEqual([]);
  });
});
