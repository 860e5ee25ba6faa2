import { describe, expect, it } from 'vitest';
import { verifyReport, type PrivacyReport } from '../../src/dp/index.js';
import { nodeProvider } from '../../src/secagg/providers/index.js';
import { toHex } from '../../src/secagg/util/bytes.js';
import { ledgerReportCheck, type LedgerBundle } from '../../src/server/ledger-audit.js';
import { chainLedgerEntry, type LedgerEntry, type LedgerRecord } from '../../src/server/ledger-entry.js';
import { buildPrivacyReport, entryCohortMethod } from '../../src/server/report.js';
import { coordinator, identities, sampleRecord } from './fixtures.js';

const people = identities(4, 'privacy-report');
const allowed = people.map((p) => toHex(p.publicKey));

/** Three rounds whose cohort (all four people) was drawn out of a population of 40. */
function ledger(edit: (r: LedgerRecord) => LedgerRecord = (r) => r): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  let model = '11'.repeat(32);
  for (let i = 0; i < 3; i++) {
    const after = (i + 2).toString(16).padStart(2, '0').repeat(32);
    const rec = sampleRecord(i, people, model, after, i);
    rec.cohort.draw = { ...rec.cohort.draw, samplingRate: 0.1, population: 40 };
    out.push(chainLedgerEntry(out.at(-1) ?? null, edit(rec), nodeProvider, coordinator.secretKey));
    model = after;
  }
  return out;
}

const bundle = (entries: LedgerEntry[]): LedgerBundle => ({ entries, coordinatorPublicKey: toHex(coordinator.publicKey), federationId: 'fed-test', participants: allowed, problems: [] });
const dp = { delta: 1e-5 } as never;

describe('the privacy report built from the ledger', () => {
  it('carries each round’s contributor keys and the cohort method its draw and seed imply', () => {
    // enough noise and a small enough sample that amplification pays
    const entries = ledger((r) => ({ ...r, mechanism: { ...r.mechanism, noiseMultiplier: 8 } }));
    const secret = buildPrivacyReport({ federationId: 'fed-test', dp }, entries);
    expect(secret.rounds.map((r) => r.contributorIds)).toEqual(entries.map((e) => e.contributors.map((c) => c.publicKey)));
    expect(secret.rounds[0]?.cohort).toEqual({ kind: 'fixed', size: 4, population: 40, secretSeed: true });
    expect(secret.modelObserver.epsilon as number).toBeLessThan(secret.epsilon as number);
    expect(secret.modelObserver.amplification).toBe(true);
    expect(secret.rounds[0]?.modelObserver.event.kind).toBe('sampled_without_replacement');
    expect(verifyReport(secret, { checks: [ledgerReportCheck(bundle(entries), { allowedParticipantKeys: allowed })] })).toEqual([]);

    // A configured seed is public: the same ledger earns no amplification.
    const pub = buildPrivacyReport({ federationId: 'fed-test', dp, seed: 'simulation-7' }, entries);
    expect(pub.rounds[0]?.cohort).toEqual({ kind: 'fixed', size: 4, population: 40, secretSeed: false });
    expect(pub.modelObserver.amplification).toBe(false);
    expect(pub.rounds[0]?.modelObserver.event).toEqual(pub.rounds[0]?.ledgerReader.event);
    expect(pub.epsilon).toBe(secret.epsilon);
    expect(pub.modelObserver.epsilon).toBeCloseTo(pub.epsilon as number, 12);
  });

  it('maps draws of everyone to the `all` method and Poisson draws to `poisson`', () => {
    const all = ledger((r) => ({ ...r, cohort: { ...r.cohort, draw: { ...r.cohort.draw, population: 4, samplingRate: 1 } } }));
    expect(entryCohortMethod({}, all[0] as LedgerEntry)).toEqual({ kind: 'all', population: 4 });
    const poisson = ledger((r) => ({ ...r, cohort: { ...r.cohort, draw: { ...r.cohort.draw, method: 'poisson', samplingRate: 0.1 } } }));
    expect(entryCohortMethod({ seed: 3 }, poisson[0] as LedgerEntry)).toEqual({ kind: 'poisson', rate: 0.1, population: 40, secretSeed: false });
  });

  it('the ledger check refuses a report whose contributor keys or cohort are not the ledger’s', () => {
    const entries = ledger();
    const check = ledgerReportCheck(bundle(entries), { allowedParticipantKeys: allowed });
    const report = buildPrivacyReport({ federationId: 'fed-test', dp }, entries);
    const swapped = structuredClone(report) as PrivacyReport;
    (swapped.rounds[1] as PrivacyReport['rounds'][number]).contributorIds[0] = toHex(identities(1, 'stranger')[0]!.publicKey);
    expect(check(swapped).map((d) => [d.code, d.round, d.message])).toEqual([['ledger/report-mismatch', 1, 'round 1: contributor ids differ']]);
    const resized = structuredClone(report) as PrivacyReport;
    (resized.rounds[2] as PrivacyReport['rounds'][number]).cohort = { kind: 'fixed', size: 10, population: 40, secretSeed: true };
    expect(check(resized).map((d) => d.message)).toEqual(['round 2: cohort size 10 ≠ 4 drawn']);
    const poisson = structuredClone(report) as PrivacyReport;
    (poisson.rounds[0] as PrivacyReport['rounds'][number]).cohort = { kind: 'poisson', rate: 0.1, population: 40, secretSeed: true };
    expect(check(poisson).map((d) => d.message)).toEqual(['round 0: Poisson cohort, but the ledger records a fixed-size draw']);
  });
});
