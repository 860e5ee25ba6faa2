import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INTEGER_RDP_ORDERS,
  LEDGER_READER_ADVERSARY,
  LEDGER_READER_ADVERSARY_CENTRAL,
  buildReport,
  integerNoiseParameters,
  ledgerReaderEpsilon,
  ledgerReaderEvent,
  modelObserverEvent,
  participantAccounts,
  participantEpsilon,
  rdpEpsilon,
  verifyReport,
  type CohortMethod,
  type DpConfig,
  type DpEvent,
  type PrivacyReport,
  type RoundPrivacyEntry,
} from '../../src/dp/index.js';
import { errorCode as codeOf } from './error-code.js';

const skellam: DpConfig = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1 / 4096, rotation: true, noiseMultiplier: 1.1, minContributors: 8 };
const ddg: DpConfig = { ...skellam, mechanism: 'ddg' };
const central: DpConfig = { mechanism: 'central', clipNorm: 0.5, bits: 32, scale: 1 / 4096, rotation: false, noiseMultiplier: 1.2, minContributors: 1 };

/** Participant i's public key as hex. */
const key = (i: number): string => i.toString(16).padStart(64, '0');
const keys = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => key(from + i));

const fixedSecret: CohortMethod = { kind: 'fixed', size: 10, population: 200, secretSeed: true };
const poissonSecret: CohortMethod = { kind: 'poisson', rate: 0.05, population: 200, secretSeed: true };

function entry(round: number, config: DpConfig, ids: string[], cohort: CohortMethod = fixedSecret, outcome: RoundPrivacyEntry['outcome'] = 'released'): RoundPrivacyEntry {
  return { round, outcome, cohort, contributors: ids.length, contributorIds: ids, dim: 5000, config };
}

function clone(r: PrivacyReport): PrivacyReport {
  return JSON.parse(JSON.stringify(r)) as PrivacyReport;
}

const codes = (r: unknown): string[] => verifyReport(r).map((d) => d.code);

// Participants 0..9 in rounds 1–3, 5..14 in round 9: participants 5..9 are in all four rounds.
const entries = [entry(1, skellam, keys(0, 10)), entry(2, skellam, keys(0, 10)), entry(3, skellam, keys(0, 10)), entry(9, skellam, keys(5, 10))];
const report = buildReport({ federationId: 'fed-1', delta: 1e-5, rounds: entries });

describe('privacy report v2: ε against ledger readers, per participant', () => {
  it('composes each participant over only its rounds; the headline is the worst participant', () => {
    expect(report.format).toBe('fedveil.privacy-report');
    expect(report.version).toBe(2);
    expect(report.ledgerReader.adversary).toBe(LEDGER_READER_ADVERSARY);
    expect(report.ledgerReader.amplification).toBe(false);
    const once = rdpEpsilon({ kind: 'self_composed', count: 1, event: ledgerReaderEvent(skellam, 10, 0, 5000) }, 1e-5).epsilon;
    const three = rdpEpsilon({ kind: 'self_composed', count: 3, event: ledgerReaderEvent(skellam, 10, 0, 5000) }, 1e-5).epsilon;
    const four = rdpEpsilon({ kind: 'self_composed', count: 4, event: ledgerReaderEvent(skellam, 10, 0, 5000) }, 1e-5).epsilon;
    const p = report.ledgerReader.participants;
    expect(Object.keys(p)).toHaveLength(15);
    expect(p[key(0)]).toBeCloseTo(three, 12); // rounds 1–3
    expect(p[key(7)]).toBeCloseTo(four, 12); // all four
    expect(p[key(12)]).toBeCloseTo(once, 12); // round 9 only
    expect(report.epsilon).toBeCloseTo(four, 12);
    expect(report.ledgerReader.epsilon).toBe(report.epsilon);
    expect(report.rounds.map((r) => r.ledgerReader.cumulativeEpsilon)).toEqual([expect.closeTo(once, 12), expect.closeTo(rdpEpsilon({ kind: 'self_composed', count: 2, event: ledgerReaderEvent(skellam, 10, 0, 5000) }, 1e-5).epsilon, 12), expect.closeTo(three, 12), expect.closeTo(four, 12)]);
  });

  it('participantEpsilon gives one participant the ε the report lists, and 0 to a non-contributor', () => {
    for (const i of [0, 7, 12]) {
      const own = participantEpsilon(entries, key(i), { delta: 1e-5 });
      expect(own.epsilon).toBe(report.ledgerReader.participants[key(i)]);
    }
    expect(participantEpsilon(entries, key(7), { delta: 1e-5 }).rounds).toBe(4);
    expect(participantEpsilon(entries, key(99), { delta: 1e-5 })).toEqual({ epsilon: 0, order: null, rounds: 0 });
    expect(ledgerReaderEpsilon(entries, { delta: 1e-5 })).toBe(report.epsilon);
  });

  it('participantAccounts indexes the rounds once and gives each participant the report\'s figure to the bit', () => {
    const accounts = participantAccounts(entries, { delta: 1e-5 });
    for (let i = 0; i < 16; i++) {
      const own = accounts(key(i));
      expect(own).toEqual(participantEpsilon(entries, key(i), { delta: 1e-5 }));
      expect(own.epsilon).toBe(i < 15 ? report.ledgerReader.participants[key(i)] : 0);
    }
    // Counted in a round whose contributors do not name it (a round it is asked to join): participant 0 as if in round 9 too.
    const withNine = accounts(key(0), [9]);
    expect(withNine.rounds).toBe(4);
    expect(withNine.epsilon).toBe(report.ledgerReader.participants[key(7)]);
    // Already a contributor there: counted once.
    expect(accounts(key(7), [9, 1])).toEqual(accounts(key(7)));
    expect(codeOf(() => accounts(key(0), [4]))).toBe('dp/bad-report-input');
    // An uncharged round adds nothing.
    const withAborted = participantAccounts([...entries, entry(10, skellam, [], fixedSecret, 'aborted-before-unmask')], { delta: 1e-5 });
    expect(withAborted(key(0), [10])).toEqual(accounts(key(0)));
  });

  it('participantAccounts refuses malformed rounds as participantEpsilon does', () => {
    const twice = [entry(1, skellam, [key(1), key(1)])];
    expect(codeOf(() => participantAccounts(twice, { delta: 1e-5 }))).toBe('dp/bad-report-input');
    expect(codeOf(() => participantEpsilon(twice, key(1), { delta: 1e-5 }))).toBe('dp/bad-report-input');
    expect(codeOf(() => participantAccounts([entries[1]!, entries[0]!], { delta: 1e-5 }))).toBe('dp/bad-report-input');
  });

  it('counts the noise of the n − 1 − c contributors other than the protected one and the colluders', () => {
    const p = integerNoiseParameters(skellam, 5000);
    const sk = ledgerReaderEvent(skellam, 10, 2, 5000);
    expect(sk.kind === 'skellam' && sk.mu).toBeCloseTo(7 * p.localSkellamMu, 6);
    const dg = ledgerReaderEvent(ddg, 10, 2, 5000);
    expect(dg.kind === 'distributed_discrete_gaussian' && dg.contributors).toBe(7);
    // Central noise is the coordinator's: c does not enter.
    expect(ledgerReaderEvent(central, 10, 5, 5000)).toEqual(ledgerReaderEvent(central, 10, 0, 5000));
    const withC = buildReport({ federationId: 'fed-1', delta: 1e-5, colluders: 3, rounds: entries });
    expect(withC.colluders).toBe(3);
    expect(withC.epsilon as number).toBeGreaterThan(report.epsilon as number);
    expect(verifyReport(clone(withC))).toEqual([]);
  });

  it('refuses a distributed-noise round with n − 1 − c < 1', () => {
    expect(codeOf(() => ledgerReaderEvent(skellam, 1, 0, 5000))).toBe('dp/too-few-noise-shares');
    expect(codeOf(() => ledgerReaderEvent(ddg, 4, 3, 5000))).toBe('dp/too-few-noise-shares');
    expect(codeOf(() => buildReport({ federationId: 'f', delta: 1e-5, colluders: 9, rounds: entries }))).toBe('dp/too-few-noise-shares');
    // 10 contributors, 8 colluders: one share left, accepted.
    expect(() => buildReport({ federationId: 'f', delta: 1e-5, colluders: 8, rounds: entries })).not.toThrow();
  });
});

describe('privacy report v2: ε against model observers', () => {
  it('a secret fixed-size draw is sampled without replacement, never Poisson, under replace-one adjacency', () => {
    expect(report.modelObserver.adjacency).toBe('replace-one');
    expect(report.modelObserver.amplification).toBe(true);
    const ev = report.rounds[0]?.modelObserver.event as DpEvent;
    expect(ev.kind).toBe('sampled_without_replacement');
    const inner = ledgerReaderEvent(skellam, 10, 0, 5000);
    // replace-one doubles the sensitivities of the inner event
    expect(ev).toEqual({
      kind: 'sampled_without_replacement',
      populationSize: 200,
      sampleSize: 10,
      event: inner.kind === 'skellam' ? { ...inner, l1Sensitivity: 2 * inner.l1Sensitivity, l2Sensitivity: 2 * inner.l2Sensitivity } : inner,
    });
    expect(report.modelObserver.epsilon as number).toBeLessThan(report.epsilon as number);
    const g = modelObserverEvent(central, fixedSecret, 10, 0, 5000, 'replace-one');
    const plain = ledgerReaderEvent(central, 10, 0, 5000);
    expect(g.kind === 'sampled_without_replacement' && g.event).toEqual({ kind: 'gaussian', noiseMultiplier: (plain as { noiseMultiplier: number }).noiseMultiplier / 2 });
  });

  it('a secret Poisson draw is Poisson-sampled under add/remove adjacency', () => {
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: [entry(1, skellam, keys(0, 10), poissonSecret)] });
    expect(r.modelObserver.adjacency).toBe('add-remove');
    expect(r.rounds[0]?.modelObserver.event).toEqual({ kind: 'poisson_sampled', samplingProbability: 0.05, event: ledgerReaderEvent(skellam, 10, 0, 5000) });
    expect(verifyReport(clone(r))).toEqual([]);
  });

  it('a 10-of-20 fixed-size draw with a public seed claims no amplification', () => {
    const pub: CohortMethod = { kind: 'fixed', size: 10, population: 20, secretSeed: false };
    const rounds = [1, 2, 3].map((n) => entry(n, central, keys(0, 10), pub));
    const r = buildReport({ federationId: 'sim', delta: 1e-5, rounds });
    expect(r.modelObserver.amplification).toBe(false);
    expect(r.modelObserver.adjacency).toBe('add-remove');
    for (const round of r.rounds) expect(round.modelObserver.event).toEqual(ledgerReaderEvent(central, 10, 0, 5000));
    // the same participants in every round: both adversaries get the same ε
    expect(r.modelObserver.epsilon).toBeCloseTo(r.epsilon as number, 12);
    expect(r.ledgerReader.adversary).toBe(LEDGER_READER_ADVERSARY_CENTRAL);
    const all = buildReport({ federationId: 'sim', delta: 1e-5, rounds: [1, 2, 3].map((n) => entry(n, central, keys(0, 10), { kind: 'all', population: 10 })) });
    expect(all.modelObserver.amplification).toBe(false);
    expect(all.modelObserver.epsilon).toBe(r.modelObserver.epsilon);
  });

  it('states the unsampled bound when amplification does not lower it (a 10-of-20 secret draw)', () => {
    const half: CohortMethod = { kind: 'fixed', size: 10, population: 20, secretSeed: true };
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: [1, 2, 3].map((n) => entry(n, central, keys(0, 10), half)) });
    // Replace-one doubles the sensitivity; sampling half the population does not win it back.
    const amplified = rdpEpsilon({ kind: 'self_composed', count: 3, event: modelObserverEvent(central, half, 10, 0, 5000, 'replace-one') }, 1e-5).epsilon;
    expect(amplified).toBeGreaterThan(r.epsilon as number);
    expect(r.modelObserver.amplification).toBe(false);
    expect(r.modelObserver.adjacency).toBe('add-remove');
    expect(r.modelObserver.epsilon).toBeCloseTo(r.epsilon as number, 12);
    expect(verifyReport(clone(r))).toEqual([]);
  });

  it('does not amplify secret Poisson and secret fixed-size draws mixed in one report', () => {
    const mixed = [entry(1, skellam, keys(0, 10)), entry(2, skellam, keys(0, 10), poissonSecret)];
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: mixed });
    expect(r.modelObserver.amplification).toBe(false);
    expect(r.rounds.map((x) => x.modelObserver.event)).toEqual(r.rounds.map((x) => x.ledgerReader.event));
    expect(codeOf(() => modelObserverEvent(skellam, poissonSecret, 10, 0, 5000, 'replace-one'))).toBe('dp/mixed-sampling-adjacency');
    expect(verifyReport(clone(r))).toEqual([]);
  });
});

describe('privacy report v2: aborted rounds', () => {
  it('charges a round aborted after an unmask share was revealed, and not one aborted before', () => {
    const after = buildReport({ federationId: 'f', delta: 1e-5, rounds: [...entries, entry(10, skellam, keys(5, 10), fixedSecret, 'aborted-after-unmask')] });
    expect(after.rounds[4]?.charged).toBe(true);
    expect(after.epsilon as number).toBeGreaterThan(report.epsilon as number);
    expect(after.ledgerReader.participants[key(7)]).toBeCloseTo(rdpEpsilon({ kind: 'self_composed', count: 5, event: ledgerReaderEvent(skellam, 10, 0, 5000) }, 1e-5).epsilon, 12);
    expect(verifyReport(clone(after))).toEqual([]);

    const before = buildReport({ federationId: 'f', delta: 1e-5, rounds: [...entries, entry(10, skellam, [], fixedSecret, 'aborted-before-unmask')] });
    expect(before.rounds[4]?.charged).toBe(false);
    expect(before.rounds[4]?.ledgerReader.event).toEqual({ kind: 'no_op' });
    expect(before.epsilon).toBe(report.epsilon);
    expect(before.modelObserver.epsilon).toBeCloseTo(report.modelObserver.epsilon as number, 12);
    expect(verifyReport(clone(before))).toEqual([]);
  });

  it('holds an adaptive clip to the round: a fraction only where the update was released, a clip only where the round was charged, on every charged round or none', () => {
    const rounds = [...entries, entry(10, skellam, keys(5, 10), fixedSecret, 'aborted-after-unmask'), entry(11, skellam, [], fixedSecret, 'aborted-before-unmask')];
    const clipped = clone(buildReport({ federationId: 'f', delta: 1e-5, rounds }));
    clipped.rounds.forEach((r, i) => {
      if (r.charged) r.clipping = { clipNorm: 0.5 + i / 10, fraction: r.outcome === 'released' ? 0.4 - i / 10 : null };
    });
    expect(verifyReport(clone(clipped))).toEqual([]);
    const at = (mutate: (r: PrivacyReport) => void) => {
      const c = clone(clipped);
      mutate(c);
      return verifyReport(c).map((d) => `${d.code}@${d.round}`);
    };
    expect(at((c) => (c.rounds[1]!.clipping!.fraction = null))).toEqual(['report/clipping-mismatch@2']);
    expect(at((c) => (c.rounds[4]!.clipping!.fraction = 0.5))).toEqual(['report/clipping-mismatch@10']);
    expect(at((c) => (c.rounds[5]!.clipping = { clipNorm: 1, fraction: null }))).toEqual(['report/clipping-mismatch@11']);
    expect(at((c) => delete c.rounds[3]!.clipping)).toEqual(['report/clipping-mismatch@9']);
    expect(at((c) => (c.rounds[0]!.clipping!.clipNorm = 0))[0]).toBe('report/malformed@undefined');
  });
});

describe('verifyReport (v2)', () => {
  it('verifies after a JSON round trip with no discrepancies', () => {
    expect(verifyReport(clone(report))).toEqual([]);
    const c = buildReport({ federationId: 'fed-c', delta: 1e-6, rounds: [1, 2, 3, 4, 5].map((n) => entry(n, central, keys(n, 10), poissonSecret)) });
    expect(verifyReport(clone(c))).toEqual([]);
  });

  it('flags a total ε claimed too low against either adversary', () => {
    const bad = clone(report);
    bad.epsilon = (bad.epsilon as number) * 0.99;
    expect(codes(bad)).toEqual(['report/epsilon-understated']);
    const bad2 = clone(report);
    bad2.modelObserver.epsilon = (bad2.modelObserver.epsilon as number) * 0.99;
    expect(codes(bad2)).toEqual(['report/model-observer-epsilon-understated']);
  });

  it('flags a participant whose ε is claimed too low, left out, or listed without contributing', () => {
    const bad = clone(report);
    bad.ledgerReader.participants[key(3)] = 0.001;
    expect(codes(bad)).toEqual(['report/participant-epsilon-understated']);
    const missing = clone(report);
    delete missing.ledgerReader.participants[key(3)];
    expect(codes(missing)).toEqual(['report/participant-missing']);
    const extra = clone(report);
    extra.ledgerReader.participants[key(77)] = 1;
    expect(codes(extra)).toEqual(['report/participant-unknown']);
  });

  it('refuses a fixed-size draw recorded as Poisson-sampled', () => {
    const bad = clone(report);
    const round = bad.rounds[0] as PrivacyReport['rounds'][number];
    round.modelObserver.event = { kind: 'poisson_sampled', samplingProbability: 10 / 200, event: ledgerReaderEvent(skellam, 10, 0, 5000) };
    expect(verifyReport(bad).map((d) => [d.code, d.round])).toEqual([['report/cohort-event-mismatch', 1]]);
  });

  it('refuses amplification claimed for a draw with a public seed', () => {
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: [entry(1, skellam, keys(0, 10), { ...poissonSecret, secretSeed: false })] });
    const bad = clone(r);
    (bad.rounds[0] as PrivacyReport['rounds'][number]).modelObserver.event = { kind: 'poisson_sampled', samplingProbability: 0.05, event: ledgerReaderEvent(skellam, 10, 0, 5000) };
    expect(codes(bad)).toContain('report/public-seed-amplification');
    // nor may the report as a whole claim amplification when no draw is secret
    const flipped = clone(r);
    flipped.modelObserver.amplification = true;
    expect(codes(flipped)).toEqual(['report/amplification-mismatch']);
    // a report may forgo amplification: then its model-observer events are the unsampled ones
    const forgone = clone(report);
    forgone.modelObserver.amplification = false;
    expect(codes(forgone)).toEqual(expect.arrayContaining(['report/adjacency-mismatch', 'report/event-mismatch']));
  });

  it('refuses amplification claimed against ledger readers', () => {
    const bad = clone(report);
    const round = bad.rounds[1] as PrivacyReport['rounds'][number];
    round.ledgerReader.event = { kind: 'sampled_without_replacement', populationSize: 200, sampleSize: 10, event: round.ledgerReader.event };
    expect(codes(bad)).toEqual(['report/ledger-reader-amplification']);
  });

  it('refuses a contributor list whose length differs from contributors, or that repeats a key', () => {
    const bad = clone(report);
    (bad.rounds[2] as PrivacyReport['rounds'][number]).contributorIds.pop();
    expect(codes(bad)).toContain('report/contributor-count');
    const dup = clone(report);
    const ids = (dup.rounds[2] as PrivacyReport['rounds'][number]).contributorIds;
    ids[1] = ids[0] as string;
    expect(codes(dup)).toContain('report/duplicate-contributor');
  });

  it('refuses rounds with n − 1 − c < 1', () => {
    const bad = clone(report);
    bad.colluders = 9;
    expect(verifyReport(bad).filter((d) => d.code === 'report/too-few-noise-shares').map((d) => d.round)).toEqual([1, 2, 3, 9]);
  });

  it('flags a charged flag that does not follow the outcome', () => {
    const bad = clone(report);
    (bad.rounds[0] as PrivacyReport['rounds'][number]).outcome = 'aborted-before-unmask';
    expect(codes(bad)).toContain('report/charged-mismatch');
  });

  it('flags adversary, adjacency and amplification statements its rounds do not support', () => {
    const bad = clone(report);
    bad.ledgerReader.adversary = 'nobody';
    bad.modelObserver.adjacency = 'add-remove';
    expect(codes(bad)).toEqual(['report/adversary-mismatch', 'report/adjacency-mismatch']);
  });

  it('flags per-round and cumulative claims too low, naming the round', () => {
    const bad = clone(report);
    (bad.rounds[1] as PrivacyReport['rounds'][number]).ledgerReader.epsilon = 0.0001;
    (bad.rounds[2] as PrivacyReport['rounds'][number]).modelObserver.cumulativeEpsilon = 0.0001;
    expect(verifyReport(bad).map((d) => [d.code, d.round])).toEqual([
      ['report/round-epsilon-understated', 2],
      ['report/cumulative-epsilon-understated', 3],
    ]);
  });

  it('flags a round with fewer contributors than its noise assumed', () => {
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: [entry(1, skellam, keys(0, 10)), entry(2, skellam, keys(0, 5))] });
    expect(verifyReport(r).map((d) => [d.code, d.round])).toEqual([['report/too-few-contributors', 2]]);
  });

  it('flags an event that does not match its round entry', () => {
    const bad = clone(report);
    const round = bad.rounds[0] as PrivacyReport['rounds'][number];
    round.ledgerReader.event = { kind: 'skellam', mu: 1e12, l1Sensitivity: 1, l2Sensitivity: 1 };
    expect(codes(bad)).toEqual(['report/event-mismatch']);
  });

  it('claims an unbounded ε for a round without DP, and flags a finite claim for it', () => {
    const none: DpConfig = { ...central, mechanism: 'none', noiseMultiplier: 0 };
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: [entry(1, central, keys(0, 3)), entry(2, none, keys(0, 3))] });
    expect(r.epsilon).toBeNull();
    expect(r.modelObserver.epsilon).toBeNull();
    expect(r.rounds[1]?.ledgerReader.epsilon).toBeNull();
    expect(verifyReport(clone(r))).toEqual([]);
    const bad = clone(r);
    bad.epsilon = 3;
    expect(codes(bad)).toEqual(['report/epsilon-understated']);
  });

  it('flags a configuration whose aggregate could wrap the modulus', () => {
    const narrow: DpConfig = { ...central, bits: 12 };
    const r = buildReport({ federationId: 'f', delta: 1e-5, rounds: [entry(1, narrow, keys(0, 10))] });
    expect(codes(r)).toEqual(['report/modulus-overflow']);
  });

  it('returns every zod issue of a malformed report with its path; a version 1 report is malformed', () => {
    const bad = clone(report) as unknown as Record<string, unknown>;
    delete bad.delta;
    bad.version = 1;
    (bad.rounds as Record<string, unknown>[])[1]!.cohort = { kind: 'fixed', size: 300, population: 200, secretSeed: true };
    const ds = verifyReport(bad);
    expect(ds.every((d) => d.code === 'report/malformed')).toBe(true);
    const paths = ds.map((d) => (d.path ?? []).join('.'));
    expect(paths).toEqual(expect.arrayContaining(['delta', 'version', 'rounds.1.cohort.size']));
    expect(codes('not a report')).toEqual(['report/malformed']);
  });

  it('flags round numbers out of order and an unknown accountant', () => {
    const bad = clone(report);
    bad.rounds.reverse();
    bad.accountant = { name: 'other', version: '9' };
    const c = codes(bad);
    expect(c).toContain('report/unknown-accountant');
    expect(c).toContain('report/round-order');
  });

  it('flags secret Poisson and fixed-size draws mixed in one report', () => {
    const bad = clone(report);
    (bad.rounds[3] as PrivacyReport['rounds'][number]).cohort = poissonSecret;
    expect(codes(bad)).toContain('report/mixed-sampling-adjacency');
  });

  it('runs extra checks (the ledger hook) on a well-formed report', () => {
    const ds = verifyReport(clone(report), { checks: [(r) => [{ code: 'ledger/test', message: `rounds ${r.rounds.length}` }]] });
    expect(ds).toEqual([{ code: 'ledger/test', message: 'rounds 4' }]);
  });

  it('any understated cumulative claim is caught (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.constantFrom('ledgerReader', 'modelObserver'), fc.double({ min: 0, max: 0.999, noNaN: true }), (i, view, f) => {
        const bad = clone(report);
        const round = bad.rounds[i] as PrivacyReport['rounds'][number];
        round[view].cumulativeEpsilon = (round[view].cumulativeEpsilon as number) * f;
        expect(codes(bad)).toContain('report/cumulative-epsilon-understated');
      }),
      { numRuns: 15 },
    );
  });

  it('refuses to build from bad input', () => {
    expect(codeOf(() => buildReport({ federationId: 'f', delta: 2, rounds: [] }))).toBe('dp/bad-delta');
    expect(codeOf(() => buildReport({ federationId: 'f', delta: 1e-5, rounds: [...entries].reverse() }))).toBe('dp/bad-report-input');
    expect(codeOf(() => buildReport({ federationId: 'f', delta: 1e-5, rounds: [{ ...entry(1, skellam, keys(0, 10)), contributors: 11 }] }))).toBe('dp/bad-report-input');
    expect(codeOf(() => buildReport({ federationId: 'f', delta: 1e-5, rounds: [entry(1, skellam, [key(1), key(1)])] }))).toBe('dp/bad-report-input');
  });

  it('accounts on integer orders when a distributed mechanism is present', () => {
    expect(INTEGER_RDP_ORDERS).toContain(report.ledgerReader.order as number);
  });
});
