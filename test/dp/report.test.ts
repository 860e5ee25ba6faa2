import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildReport, rdpEpsilon, verifyReport, type DpConfig, type PrivacyReport, type RoundPrivacyEntry } from '../../src/dp/index.js';
import { FedveilError } from '../../src/secagg/util/errors.js';

const skellam: DpConfig = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1 / 4096, rotation: true, noiseMultiplier: 1.1, minContributors: 8 };
const central: DpConfig = { mechanism: 'central', clipNorm: 0.5, bits: 32, scale: 1 / 4096, rotation: false, noiseMultiplier: 1.2, minContributors: 1 };

function rounds(n: number, config: DpConfig, contributors = 10): RoundPrivacyEntry[] {
  return Array.from({ length: n }, (_, i) => ({ round: i + 1, samplingRate: 0.05, contributors, dim: 5000, config }));
}

function clone(r: PrivacyReport): PrivacyReport {
  return JSON.parse(JSON.stringify(r)) as PrivacyReport;
}

const codes = (r: unknown): string[] => verifyReport(r).map((d) => d.code);

describe('privacy report', () => {
  const report = buildReport({ federationId: 'fed-1', delta: 1e-5, rounds: [...rounds(3, skellam), { round: 9, samplingRate: 0.05, contributors: 12, dim: 5000, config: skellam }] });

  it('claims cumulative ε that grows and equals the accountant on the composed tree', () => {
    expect(report.format).toBe('fedveil.privacy-report');
    expect(report.version).toBe(1);
    expect(report.rounds).toHaveLength(4);
    const cums = report.rounds.map((r) => r.cumulativeEpsilon as number);
    for (let i = 1; i < cums.length; i++) expect(cums[i]).toBeGreaterThan(cums[i - 1] as number);
    expect(report.epsilon).toBe(cums[3]);
    expect(report.epsilon).toBeCloseTo(rdpEpsilon(report.event, 1e-5).epsilon, 12);
    // Identical rounds have identical events and per-round ε.
    expect(report.rounds[0]?.epsilon).toBe(report.rounds[1]?.epsilon);
  });

  it('verifies after a JSON round trip with no discrepancies', () => {
    expect(verifyReport(clone(report))).toEqual([]);
    const c = buildReport({ federationId: 'fed-c', delta: 1e-6, rounds: rounds(5, central) });
    expect(verifyReport(clone(c))).toEqual([]);
  });

  it('flags a total ε claimed too low', () => {
    const bad = clone(report);
    bad.epsilon = (bad.epsilon as number) * 0.99;
    expect(codes(bad)).toEqual(['report/epsilon-understated']);
  });

  it('flags per-round and cumulative claims too low, naming the round', () => {
    const bad = clone(report);
    (bad.rounds[1] as PrivacyReport['rounds'][number]).epsilon = 0.0001;
    (bad.rounds[2] as PrivacyReport['rounds'][number]).cumulativeEpsilon = 0.0001;
    const ds = verifyReport(bad);
    expect(ds.map((d) => [d.code, d.round])).toEqual([
      ['report/round-epsilon-understated', 2],
      ['report/cumulative-epsilon-understated', 3],
    ]);
  });

  it('flags a round with fewer contributors than its noise assumed', () => {
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: [...rounds(1, skellam), { round: 2, samplingRate: 0.05, contributors: 5, dim: 5000, config: skellam }] });
    const ds = verifyReport(r);
    expect(ds.map((d) => [d.code, d.round])).toEqual([['report/too-few-contributors', 2]]);
  });

  it('flags an event that does not match its round entry, and the tree that holds it', () => {
    const bad = clone(report);
    const round = bad.rounds[0] as PrivacyReport['rounds'][number];
    round.event = { kind: 'poisson_sampled', samplingProbability: 0.05, event: { kind: 'skellam', mu: 1e12, l1Sensitivity: 1, l2Sensitivity: 1 } };
    expect(codes(bad)).toEqual(['report/event-mismatch', 'report/event-tree-mismatch']);
    const bad2 = clone(report);
    (bad2.rounds[0] as PrivacyReport['rounds'][number]).contributors = 100; // entry says more noise than the event
    expect(codes(bad2)).toContain('report/event-mismatch');
  });

  it('claims an unbounded ε for a round without DP, and flags a finite claim for it', () => {
    const none: DpConfig = { ...central, mechanism: 'none', noiseMultiplier: 0 };
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: [...rounds(1, central), { round: 2, samplingRate: 1, contributors: 3, dim: 10, config: none }] });
    expect(r.epsilon).toBeNull();
    expect(r.rounds[1]?.epsilon).toBeNull();
    expect(verifyReport(clone(r))).toEqual([]);
    const bad = clone(r);
    bad.epsilon = 3;
    expect(codes(bad)).toEqual(['report/epsilon-understated']);
  });

  it('flags a configuration whose aggregate could wrap the modulus', () => {
    const narrow: DpConfig = { ...central, bits: 12 };
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: rounds(1, narrow, 50) });
    expect(codes(r)).toEqual(['report/modulus-overflow']);
  });

  it('returns every zod issue of a malformed report with its path', () => {
    const bad = clone(report) as unknown as Record<string, unknown>;
    delete bad.delta;
    bad.version = 2;
    (bad.rounds as Record<string, unknown>[])[1]!.samplingRate = 1.5;
    const ds = verifyReport(bad);
    expect(ds.every((d) => d.code === 'report/malformed')).toBe(true);
    const paths = ds.map((d) => (d.path ?? []).join('.'));
    expect(paths).toEqual(expect.arrayContaining(['delta', 'version', 'rounds.1.samplingRate']));
    expect(codes('not a report')).toEqual(['report/malformed']);
    expect(codes(null)).toEqual(['report/malformed']);
  });

  it('flags round numbers out of order and an unknown accountant', () => {
    const bad = clone(report);
    bad.rounds.reverse();
    bad.event = { kind: 'composed', events: bad.rounds.map((r) => r.event) };
    bad.accountant = { name: 'other', version: '9' };
    const c = codes(bad);
    expect(c).toContain('report/unknown-accountant');
    expect(c).toContain('report/round-order');
  });

  it('runs extra checks (the ledger hook) on a well-formed report', () => {
    const ds = verifyReport(clone(report), { checks: [(r) => [{ code: 'ledger/test', message: `rounds ${r.rounds.length}` }]] });
    expect(ds).toEqual([{ code: 'ledger/test', message: 'rounds 4' }]);
  });

  it('any understated claim is caught (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (i, f) => {
        const bad = clone(report);
        const round = bad.rounds[i] as PrivacyReport['rounds'][number];
        round.cumulativeEpsilon = (round.cumulativeEpsilon as number) * f;
        expect(codes(bad)).toContain('report/cumulative-epsilon-understated');
      }),
      { numRuns: 15 },
    );
  });

  it('refuses to build from bad input', () => {
    expect(() => buildReport({ federationId: 'f', delta: 2, rounds: [] })).toThrow(FedveilError);
    try {
      buildReport({ federationId: 'f', delta: 1e-5, rounds: [...rounds(2, central)].reverse() });
      expect.unreachable();
    } catch (e) {
      expect((e as FedveilError).code).toBe('dp/bad-report-input');
    }
  });
});
