import fc from 'fast-check';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerReaderEpsilon, verifyReport, type PrivacyReport, type RoundPrivacyEntry } from '../../src/dp/index.js';
import { toHex } from '../../src/secagg/index.js';
import type { FederationConfig, FederationConfigInput } from '../../src/server/config.js';
import { maxCohortSize } from '../../src/server/federation-plan.js';
import { amendedMechanism, amendmentFacts, currentTerms } from '../../src/server/ledger-amendment.js';
import { chargedEntries, type AmendmentEntry, type GenesisEntry, type LedgerEntry } from '../../src/server/ledger-entry.js';
import { ledgerReportCheck, readLedgerBundle } from '../../src/server/ledger-audit.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { participantEpsilon } from '../../src/server/participant-budget.js';
import { privacyEntryOf } from '../../src/server/report.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { coordinator, fixtureConfig, fixtureLedger, rechain } from './fixtures.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const dp = { mechanism: 'skellam' as const, clipNorm: 1, bits: 20, scale: 0.01, rotation: false, minContributors: 2 };
const people = identities(3, 'amend');
const configWith = (rounds: number, targetEpsilon: number, more: Partial<FederationConfigInput> = {}): FederationConfig =>
  smallConfig(people, { rounds, dp: { ...dp, targetEpsilon }, ...more });

async function runAll(config: FederationConfig, storePath: string, extra: { amend?: { reason?: string } | null; limits?: (number | undefined)[] } = {}) {
  running = await startTestCoordinator(config, { storePath, ...(extra.amend === undefined ? {} : { amend: extra.amend }) });
  const url = running.url;
  const results = await Promise.all(
    people.map((p, i) => participant(url, p, 0.1, config.dim, extra.limits?.[i] === undefined ? {} : { maxEpsilon: extra.limits[i] as number }).run()),
  );
  await running.coordinator.finished;
  const ledger = await running.coordinator.ledger();
  const eps = running.coordinator.epsilonSpent();
  await running.close();
  running = undefined;
  return { results, ledger, eps };
}

async function refusalOf(config: FederationConfig, storePath: string, amend: { reason?: string } | null = null): Promise<{ code: string; message: string }> {
  const err = await startTestCoordinator(config, { storePath, amend }).then(
    async (r) => {
      await r.close();
      return null;
    },
    (e: unknown) => e as { code: string; message: string },
  );
  expect(err).not.toBeNull();
  return err as { code: string; message: string };
}

describe('amending the rounds or the ε target of a running federation', () => {
  it('is refused without consent, stays within the target with it, and is signed into a ledger that verifies', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'fedveil-amend-')), 'coordinator.db');
    const first = await runAll(configWith(2, 4), db);
    expect(first.ledger.map((e) => e.kind)).toEqual(['genesis', 'round', 'round']);
    const spent = first.eps as number;
    expect(spent).toBeLessThanOrEqual(4);

    // more rounds without --amend: refused, saying what would be spent against the target
    const refused = await refusalOf(configWith(4, 4), db);
    expect(refused.code).toBe('coordinator/amendment-required');
    expect(refused.message).toMatch(/rounds 2 → 4, ε target 4 \(unchanged\)/);
    expect(refused.message).toMatch(/would spend ε [0-9.]+ in total, against the target 4/);
    const naive = Number(/would spend ε ([0-9.]+)/.exec(refused.message)?.[1]);
    expect(naive).toBeGreaterThan(4);
    // a target at or below what was spent, or any other privacy-relevant change: refused even with consent
    expect((await refusalOf(configWith(4, spent * 0.5), db, {})).code).toBe('coordinator/amendment-below-spent');
    const clip = await refusalOf(smallConfig(people, { rounds: 4, dp: { ...dp, clipNorm: 2, targetEpsilon: 4 } }), db, {});
    expect(clip.code).toBe('coordinator/store-mismatch');
    expect(clip.message).toMatch(/dp\.clipNorm/);
    expect((await refusalOf(smallConfig(people, { rounds: 4, threshold: 3, dp: { ...dp, targetEpsilon: 4 } }), db, {})).message).toMatch(/threshold/);

    // with consent: an amendment entry, then two more rounds within the (raised) target
    const amendedConfig = configWith(4, 6);
    // the participant with its own budget at what it has spent so far refuses every further round
    const mine = participantEpsilon(first.ledger[0] as GenesisEntry, first.ledger, toHex(people[0]!.publicKey)).epsilon;
    const second = await runAll(amendedConfig, db, { amend: { reason: 'more data arrived' }, limits: [mine * 1.0001] });
    expect(second.ledger.map((e) => e.kind)).toEqual(['genesis', 'round', 'round', 'amendment', 'round', 'round']);
    const amendment = second.ledger[3] as AmendmentEntry;
    expect(amendment).toMatchObject({ previous: { rounds: 2, epsilonBudget: 4 }, amended: { rounds: 4, epsilonBudget: 6 }, releasedRounds: 2, reason: 'more data arrived' });
    expect(amendment.fromRound).toBeGreaterThan((second.ledger[2] as { round: number }).round);
    expect(amendment.epsilonSpent).toBeGreaterThanOrEqual(spent);
    const before = (second.ledger[1] as { mechanism: { noiseMultiplier: number } }).mechanism.noiseMultiplier;
    expect(amendment.mechanism.noiseMultiplier).not.toBe(before);
    for (const e of chargedEntries(second.ledger).slice(2)) expect(e.mechanism).toEqual(amendment.mechanism);
    expect(second.results[0]!.map((r) => r.code)).toEqual(['client/epsilon-budget', 'client/epsilon-budget']);
    expect(second.eps as number).toBeLessThanOrEqual(6);
    expect(verifyLedger(second.ledger, toHex(coordinator.publicKey), amendedConfig.participants)).toEqual([]);

    // a restart with the amended config amends nothing again; restoring the old config is now an amendment itself
    const third = await runAll(amendedConfig, db, { amend: {} });
    expect(third.ledger.filter((e) => e.kind === 'amendment')).toHaveLength(1);
    expect((await refusalOf(configWith(2, 4), db, {})).code).toBe('coordinator/amendment-invalid');

    // the audit bundle's report holds against the ledger; a re-signed ledger with a raised target or less noise does not
    running = await startTestCoordinator(amendedConfig, { storePath: db });
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-amend-audit-'));
    const paths = await running.exportAudit(dir);
    const report = JSON.parse(readFileSync(paths.report, 'utf8')) as PrivacyReport;
    const check = (entries: LedgerEntry[]) => {
      const bundle = readLedgerBundle({ ledger: paths.ledger, coordinatorKey: paths.coordinatorKey });
      return verifyReport(report, { checks: [ledgerReportCheck({ ...bundle, entries }, { allowedParticipantKeys: amendedConfig.participants })] }).map((d) => d.code);
    };
    expect(check(second.ledger)).toEqual([]);
    const tamper = (f: (a: AmendmentEntry) => void): LedgerEntry[] => {
      const copy = structuredClone(second.ledger);
      f(copy[3] as AmendmentEntry);
      return rechain(copy);
    };
    expect(check(tamper((a) => (a.amended.epsilonBudget = 60)))).toContain('ledger/amendment-mismatch');
    expect(check(tamper((a) => (a.amended.epsilonBudget = 60)))).toContain('ledger/amendment-mechanism');
    expect(check(tamper((a) => (a.mechanism.noiseMultiplier = before)))).toContain('ledger/amendment-mechanism');
    expect(check(tamper((a) => (a.epsilonSpent = 0.01)))).toContain('ledger/amendment-mismatch');
    expect(check(tamper((a) => (a.amended.epsilonBudget = (a.epsilonSpent as number) / 2)))).toContain('ledger/amendment-overspent');
    const unsigned = structuredClone(second.ledger);
    (unsigned[3] as AmendmentEntry).reason = 'rewritten';
    expect(check(unsigned)).toContain('ledger/bad-hash');
  }, 120_000);
});

describe('the rounds after an amendment', () => {
  it('never take the federation past its amended target, whatever was spent before', () => {
    const four = identities(4, 'amend-property');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.double({ min: 1, max: 2, noNaN: true }),
        (released, extraPlanned, extraRounds, target, raise) => {
          const config = fixtureConfig(four, {
            rounds: released + extraPlanned,
            dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: false, targetEpsilon: target, minContributors: 2 },
          });
          const { entries } = fixtureLedger(four, released, { config });
          const genesis = entries[0] as GenesisEntry;
          const amended = { rounds: released + extraRounds, epsilonBudget: target * raise };
          const facts = amendmentFacts(genesis, entries, amended, 'rdp');
          const mechanism = amendedMechanism(genesis, currentTerms(genesis, entries).mechanism, facts, amended, { accountant: 'rdp', dim: config.dim, maxCohort: maxCohortSize(config) });
          // the worst case: every remaining round released with only minContributors contributors, one of them always the same participant
          const rounds: RoundPrivacyEntry[] = chargedEntries(entries).map((e) => privacyEntryOf(genesis, e));
          const self = rounds[0]!.contributorIds[0] as string;
          const other = four.map((p) => toHex(p.publicKey)).find((k) => k !== self) as string;
          for (let r = 0; r < extraRounds; r++) {
            rounds.push({ round: 100 + r, outcome: 'released', cohort: { kind: 'all', population: 4 }, contributors: 2, contributorIds: [self, other], dim: config.dim, config: mechanism });
          }
          const total = ledgerReaderEpsilon(rounds, { delta: genesis.delta, colluders: genesis.colluders });
          expect(total).toBeLessThanOrEqual(amended.epsilonBudget * (1 + 1e-9));
          expect(total).toBeGreaterThan(amended.epsilonBudget * 0.5);
        },
      ),
      { numRuns: 6, seed: 14 },
    );
  }, 60_000);
});
