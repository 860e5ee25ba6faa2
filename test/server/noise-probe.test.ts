import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReport, type PrivacyReport } from '../../src/dp/index.js';
import { toHex } from '../../src/secagg/index.js';
import type { FederationConfig } from '../../src/server/config.js';
import { roundDim } from '../../src/server/federated-evaluation.js';
import { ledgerReportCheck, type LedgerBundle } from '../../src/server/ledger-audit.js';
import type { LedgerEntry, RoundEntry } from '../../src/server/ledger-entry.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { rechain } from './fixtures.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

// Real federations (coordinator on 127.0.0.1, four participants) whose participants append 64
// noise-probe zeros: honest ones, with and without rotation, and one whose participants add a
// quarter of the noise while the ledger still claims the calibrated mechanism.

const people = identities(4, 'noise-probe');
const PROBE = 64;
const configOf = (rotation: boolean): FederationConfig =>
  smallConfig(people, {
    federationId: `noise-probe-${rotation ? 'rotated' : 'plain'}`,
    rounds: 1,
    noiseProbe: PROBE,
    dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation, noiseMultiplier: 1.5, minContributors: 3 },
    deadlines: { 'advertise-keys': 60_000, 'share-keys': 60_000, 'masked-input': 60_000, 'consistency-check': 60_000, unmask: 60_000 },
  });

const running: RunningCoordinator[] = [];

async function federation(rotation: boolean, noiseScale?: number): Promise<{ ledger: LedgerEntry[]; key: string }> {
  const config = configOf(rotation);
  const r = await startTestCoordinator(config);
  running.push(r);
  await Promise.all(people.map((p) => participant(r.url, p, 0.1, config.dim, noiseScale === undefined ? {} : { noiseScale }).run()));
  return { ledger: await r.coordinator.ledger(), key: toHex(r.coordinator.publicKey) };
}

let plain: { ledger: LedgerEntry[]; key: string };
let rotated: { ledger: LedgerEntry[]; key: string };
let quarter: { ledger: LedgerEntry[]; key: string };

beforeAll(async () => {
  [plain, rotated, quarter] = await Promise.all([federation(false), federation(true), federation(true, 0.25)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
});

function verdict(f: { ledger: readonly unknown[]; key: string }, report: PrivacyReport): string[] {
  const bundle: LedgerBundle = { path: 'ledger.jsonl', entries: [...f.ledger], pinnedKey: f.key, receipts: null, problems: [] };
  return [...new Set(verifyReport(report, { checks: [ledgerReportCheck(bundle)] }).map((d) => d.code))];
}

const rounds = (l: LedgerEntry[]) => l.filter((e): e is RoundEntry => e.kind === 'round');

describe('the noise probe of a real federation', () => {
  it('is a separate last block of the round dimension: model, then evaluation counts, then the probe', () => {
    expect(roundDim({ dim: 4 })).toBe(4);
    expect(roundDim({ dim: 4, noiseProbe: PROBE })).toBe(4 + PROBE);
    expect(roundDim({ dim: 4, evaluation: { holdout: 0.2, maxExamples: 100, normShare: 0.25, lossCap: 10 }, noiseProbe: PROBE })).toBe(4 + 3 + PROBE);
  });

  it('an honest federation records P released values per round, and passes the noise audit with and without rotation', () => {
    for (const f of [plain, rotated]) {
      const rs = rounds(f.ledger);
      expect(rs.map((e) => e.noiseProbe?.length)).toEqual([PROBE]);
      expect(rs[0]!.dim).toBe(4 + PROBE);
      const report = buildPrivacyReport(f.ledger);
      const a = report.noiseAudit!;
      expect(a.samples).toBe(PROBE);
      expect(a.passed).toBe(true);
      expect(a.noiseFraction).toBeGreaterThan(0.8);
      expect(a.noiseFraction).toBeLessThan(1.2);
      expect(verdict(f, report)).toEqual([]);
    }
  });

  it('a federation whose participants add a quarter of the noise fails: report/noise-below-claim, at the measured fraction', () => {
    const report = buildPrivacyReport(quarter.ledger);
    const a = report.noiseAudit!;
    expect(a.passed).toBe(false);
    expect(a.noiseFraction).toBeGreaterThan(0.2);
    expect(a.noiseFraction).toBeLessThan(0.3);
    expect(a.claimedEpsilon).toBeCloseTo(buildPrivacyReport(rotated.ledger).epsilon!, 9);
    expect(verdict(quarter, report)).toEqual(['report/noise-below-claim']);
  });

  it('probe values the report changes or leaves out are ledger/report-noise-probe', () => {
    const report = buildPrivacyReport(quarter.ledger);
    const inflated = structuredClone(report);
    inflated.rounds = inflated.rounds.map((r) => ({ ...r, noiseProbe: r.noiseProbe!.map((x) => 4 * x) }));
    const { noiseAudit: _a, ...withoutAudit } = inflated;
    const rebuilt = buildPrivacyReport(quarter.ledger.map((e) => (e.kind === 'round' ? { ...e, noiseProbe: e.noiseProbe!.map((x) => 4 * x) } : e)));
    // The inflated report is self-consistent and passes on its own; only the ledger shows the edit.
    expect(verifyReport({ ...withoutAudit, noiseAudit: rebuilt.noiseAudit })).toEqual([]);
    expect(verdict(quarter, { ...withoutAudit, noiseAudit: rebuilt.noiseAudit! })).toEqual(['ledger/report-noise-probe']);
    const dropped = structuredClone(report);
    dropped.rounds = dropped.rounds.map(({ noiseProbe: _p, ...r }) => r);
    delete dropped.noiseAudit;
    expect(verdict(quarter, dropped)).toEqual(['ledger/report-noise-probe']);
  });

  it('a re-signed ledger whose last round drops its probe values is ledger/noise-probe-mismatch', () => {
    const last = rotated.ledger.length - 1;
    const forged = rechain(
      rotated.ledger.map((e, i) => {
        if (e.kind !== 'round' || i !== last) return e;
        const { noiseProbe: _p, ...rest } = e;
        return rest;
      }),
    );
    expect(verdict({ ledger: forged, key: rotated.key }, buildPrivacyReport(forged))).toEqual(['ledger/noise-probe-mismatch']);
  });
});
