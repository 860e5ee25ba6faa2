import { describe, expect, it } from 'vitest';
import {
  PLD_ACCOUNTANT,
  buildReport,
  ledgerReaderEvent,
  modelObserverEvent,
  pldEpsilon,
  rdpEpsilon,
  verifyReport,
  type CohortMethod,
  type DpConfig,
  type DpEvent,
  type PrivacyReport,
  type RoundPrivacyEntry,
} from '../../src/dp/index.js';

const central: DpConfig = { mechanism: 'central', clipNorm: 0.5, bits: 32, scale: 1 / 4096, rotation: false, noiseMultiplier: 3, minContributors: 1 };
const skellam: DpConfig = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1 / 4096, rotation: true, noiseMultiplier: 1.1, minContributors: 8 };
const key = (i: number): string => i.toString(16).padStart(64, '0');
const keys = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => key(from + i));
const poissonSecret: CohortMethod = { kind: 'poisson', rate: 0.05, population: 200, secretSeed: true };

function entry(round: number, config: DpConfig, ids: string[], cohort: CohortMethod = poissonSecret): RoundPrivacyEntry {
  return { round, outcome: 'released', cohort, contributors: ids.length, contributorIds: ids, dim: 5000, config };
}
const clone = (r: PrivacyReport): PrivacyReport => JSON.parse(JSON.stringify(r)) as PrivacyReport;
/** Equal to rounding: the report composes its rounds as one event, the test as another of the same mechanism. */
const near = (a: number | null | undefined, b: number): void => expect(Math.abs((a as number) - b) / b).toBeLessThan(1e-9);
const codes = (r: unknown): string[] => verifyReport(r).map((d) => d.code);

// Participants 0..9 in rounds 1–3, 5..14 in round 4: participants 5..9 are in all four rounds.
const rounds = [entry(1, central, keys(0, 10)), entry(2, central, keys(0, 10)), entry(3, central, keys(0, 10)), entry(4, central, keys(5, 10))];
const report = buildReport({ federationId: 'pld', delta: 1e-5, rounds });

describe('privacy report: the PLD ε beside the RDP ε', () => {
  it('states the PLD accountant and every PLD figure, each what the accountant gives for the report\'s events, below the RDP figure', () => {
    expect(report.pld).toEqual({ accountant: { name: PLD_ACCOUNTANT.name, version: PLD_ACCOUNTANT.version }, valueDiscretization: 1e-4 });
    const ledger = ledgerReaderEvent(central, 10, 0, 5000);
    const worst = pldEpsilon({ kind: 'self_composed', count: 4, event: ledger }, 1e-5);
    near(report.pldEpsilon, worst);
    near(report.ledgerReader.pldEpsilon, worst);
    const model = report.rounds.map((r) => r.modelObserver.event);
    expect(model[0]).toEqual(modelObserverEvent(central, poissonSecret, 10, 0, 5000, 'add-remove'));
    near(report.modelObserver.pldEpsilon, pldEpsilon({ kind: 'self_composed', count: 4, event: model[0] as DpEvent }, 1e-5));
    near(report.rounds[0]?.ledgerReader.pldEpsilon, pldEpsilon(ledger, 1e-5));
    near(report.rounds[3]?.ledgerReader.pldCumulativeEpsilon, worst);
    // After round 3 the worst participant has three rounds.
    near(report.rounds[2]?.ledgerReader.pldCumulativeEpsilon, pldEpsilon({ kind: 'self_composed', count: 3, event: ledger }, 1e-5));
    expect(report.pldEpsilon as number).toBeLessThan(report.epsilon as number);
    expect(report.modelObserver.pldEpsilon as number).toBeLessThan(report.modelObserver.epsilon as number);
    expect(report.epsilon).toBe(rdpEpsilon({ kind: 'self_composed', count: 4, event: ledger }, 1e-5).epsilon);
    expect(verifyReport(report)).toEqual([]);
  });

  it('leaves the PLD fields out for distributed noise over several coordinates, and such a report still verifies', () => {
    const r = buildReport({ federationId: 's', delta: 1e-5, rounds: [entry(1, skellam, keys(0, 10), { kind: 'all', population: 10 })] });
    expect(r.pld).toBeUndefined();
    expect(JSON.stringify(r)).not.toContain('pld');
    expect(verifyReport(r)).toEqual([]);
  });

  it('refuses an understated PLD ε wherever it stands', () => {
    const cases: [string, (r: PrivacyReport) => void][] = [
      ['report/pld-epsilon-understated', (r) => (r.pldEpsilon = (r.pldEpsilon as number) * 0.9)],
      ['report/pld-epsilon-understated', (r) => (r.ledgerReader.pldEpsilon = (r.ledgerReader.pldEpsilon as number) * 0.9)],
      ['report/pld-epsilon-understated', (r) => (r.modelObserver.pldEpsilon = (r.modelObserver.pldEpsilon as number) * 0.9)],
      ['report/pld-round-epsilon-understated', (r) => ((r.rounds[1] as PrivacyReport['rounds'][number]).modelObserver.pldEpsilon = 0)],
      ['report/pld-cumulative-epsilon-understated', (r) => ((r.rounds[2] as PrivacyReport['rounds'][number]).ledgerReader.pldCumulativeEpsilon = 0.01)],
    ];
    for (const [code, tamper] of cases) {
      const r = clone(report);
      tamper(r);
      expect(codes(r)).toEqual([code]);
    }
    // An overstated ε is conservative, not a false claim.
    const over = clone(report);
    over.pldEpsilon = (over.pldEpsilon as number) * 2;
    expect(codes(over)).toEqual([]);
  });

  it('refuses PLD figures without their accountant, a partial set, another accountant, and PLD claims for events it does not account', () => {
    const bare = clone(report);
    delete bare.pld;
    expect(codes(bare)).toEqual(['report/pld-unattributed']);
    const partial = clone(report);
    delete (partial.rounds[0] as PrivacyReport['rounds'][number]).modelObserver.pldCumulativeEpsilon;
    expect(codes(partial)).toEqual(['report/pld-epsilon-missing']);
    const other = clone(report);
    (other.pld as NonNullable<PrivacyReport['pld']>).accountant = { name: 'someone-elses-pld', version: '9' };
    expect(codes(other)).toEqual(['report/unknown-accountant']);
    const sk = clone(buildReport({ federationId: 's', delta: 1e-5, rounds: [entry(1, skellam, keys(0, 10), { kind: 'all', population: 10 })] }));
    sk.pld = report.pld as NonNullable<PrivacyReport['pld']>;
    sk.pldEpsilon = 1;
    expect(codes(sk)).toEqual(['report/pld-unsupported']);
  });

  it('recomputes on the grid the report states (a coarser grid is pessimistic, so its larger ε still verifies)', () => {
    const coarse = clone(report);
    (coarse.pld as NonNullable<PrivacyReport['pld']>).valueDiscretization = 1e-2;
    expect(codes(coarse)).toEqual(['report/pld-epsilon-understated', 'report/pld-epsilon-understated', 'report/pld-epsilon-understated', ...codes(coarse).slice(3)]);
    expect(codes(coarse).every((c) => c.startsWith('report/pld-'))).toBe(true);
  });
});
