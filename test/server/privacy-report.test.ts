import { describe, expect, it } from 'vitest';
import { verifyReport, type PrivacyReport } from '../../src/dp/index.js';
import { toHex } from '../../src/secagg/util/bytes.js';
import { ledgerReportCheck, type LedgerBundle } from '../../src/server/ledger-audit.js';
import type { ChargedEntry, GenesisEntry, LedgerEntry } from '../../src/server/ledger-entry.js';
import { buildPrivacyReport, entryCohortMethod, privacyEntryOf } from '../../src/server/report.js';
import { coordinator, fixtureConfig, fixtureLedger, identities } from './fixtures.js';

// Four of forty allowed participants are drawn each round; the last of them drops.
const people = identities(40, 'privacy-report');
const { entries } = fixtureLedger(people, 3, { config: fixtureConfig(people, { cohort: { size: 4 }, mode: 'semi-honest' }) });
const genesis = entries[0] as GenesisEntry;
const rounds = entries.slice(1) as ChargedEntry[];
const bundle = (ledger: LedgerEntry[]): LedgerBundle => ({ path: 'ledger.jsonl', entries: ledger, pinnedKey: toHex(coordinator.publicKey), receipts: null, problems: [] });

describe('the privacy report built from the ledger', () => {
  it('carries each round’s contributor keys, and the cohort method its draw and the genesis’s seed imply', () => {
    const report = buildPrivacyReport(entries);
    expect(report.colluders).toBe(genesis.colluders);
    expect(report.delta).toBe(genesis.delta);
    expect(report.rounds.map((r) => r.contributorIds)).toEqual(rounds.map((e) => e.contributors.map((c) => c.publicKey)));
    // The fixture federation configures a seed: its draws are public and earn no amplification.
    expect(genesis.cohort.seed).toBe('public');
    expect(report.rounds[0]?.cohort).toEqual({ kind: 'fixed', size: 4, population: 40, secretSeed: false });
    expect(report.modelObserver.amplification).toBe(false);
    expect(report.rounds[0]?.modelObserver.event).toEqual(report.rounds[0]?.ledgerReader.event);
    expect(verifyReport(report, { checks: [ledgerReportCheck(bundle(entries))] })).toEqual([]);
  });

  it('a secret seed makes the same draw a sample without replacement; Poisson draws map to `poisson`, draws of everyone to `all`', () => {
    const secret = { ...genesis, cohort: { ...genesis.cohort, seed: 'secret' as const } };
    expect(privacyEntryOf(secret, rounds[0]!).cohort).toEqual({ kind: 'fixed', size: 4, population: 40, secretSeed: true });
    const poissonEntry = { ...rounds[0]!, cohort: { ...rounds[0]!.cohort, draw: { ...rounds[0]!.cohort.draw, method: 'poisson' as const, samplingRate: 0.1 } } };
    expect(entryCohortMethod(genesis, poissonEntry)).toEqual({ kind: 'poisson', rate: 0.1, population: 40, secretSeed: false });
    const everyone = { ...rounds[0]!, cohort: { ...rounds[0]!.cohort, draw: { ...rounds[0]!.cohort.draw, population: 4, samplingRate: 1 } } };
    expect(entryCohortMethod(genesis, everyone)).toEqual({ kind: 'all', population: 4 });
  });

  it('the ledger check refuses a report whose contributor keys, cohort or colluders are not the ledger’s', () => {
    const check = ledgerReportCheck(bundle(entries));
    const report = buildPrivacyReport(entries);
    const swapped = structuredClone(report) as PrivacyReport;
    (swapped.rounds[1] as PrivacyReport['rounds'][number]).contributorIds[0] = toHex(identities(1, 'stranger')[0]!.publicKey);
    expect(check(swapped).map((d) => [d.code, d.round, d.message])).toEqual([['ledger/report-mismatch', rounds[1]!.round, `round ${rounds[1]!.round}: contributor ids differ`]]);
    const resized = structuredClone(report) as PrivacyReport;
    (resized.rounds[2] as PrivacyReport['rounds'][number]).cohort = { kind: 'fixed', size: 10, population: 40, secretSeed: false };
    expect(check(resized).map((d) => d.code)).toEqual(['ledger/report-mismatch']);
    // A claim of a secret draw where the genesis says the seed is public.
    const claimed = structuredClone(report) as PrivacyReport;
    (claimed.rounds[0] as PrivacyReport['rounds'][number]).cohort = { kind: 'fixed', size: 4, population: 40, secretSeed: true };
    expect(check(claimed).map((d) => d.message)).toEqual([
      `round ${rounds[0]!.round}: cohort {"kind":"fixed","population":40,"secretSeed":true,"size":4} is not {"kind":"fixed","population":40,"secretSeed":false,"size":4}, what the ledger's draw and the genesis's seed imply`,
    ]);
    const colluders = structuredClone(report) as PrivacyReport;
    colluders.colluders = 1;
    expect(check(colluders).map((d) => d.code)).toContain('ledger/report-colluders');
  });
});
