import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { nextClipNorm, verifyReport, type AdaptiveClipRule, type PrivacyReport } from '../../src/dp/index.js';
import { toWireConfig } from '../../src/protocol/config.js';
import { fromHex, toHex } from '../../src/secagg/index.js';
import {
  adaptiveClipRule,
  appendClipBit,
  clipForEncoding,
  fractionNoiseStd,
  nextRoundClipNorm,
  releasedFraction,
  releasedUpdate,
  roundClip,
  type RoundClip,
} from '../../src/server/adaptive-clip.js';
import { drawCohort } from '../../src/server/cohort.js';
import { EvaluationSectionSchema, evaluationInput, roundDim } from '../../src/server/federated-evaluation.js';
import { ledgerReportCheck, readLedgerBundle } from '../../src/server/ledger-audit.js';
import type { LedgerEntry } from '../../src/server/ledger-entry.js';
import { publicDrawSeed } from '../../src/server/ledger-genesis.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import { entryRoundConfig, verifyLedger } from '../../src/server/ledger-verify.js';
import { checkLedgerBeforeRound } from '../../src/server/participant-ledger-check.js';
import { roundBinding, unboundWireConfig } from '../../src/server/round-binding.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { createServerOptimizer } from '../../src/trainer/serverOptimizer.js';
import { coordinator, fixtureLedger, fixtureRound, identities as fixtureIdentities, rechain } from './fixtures.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
  return Math.sqrt(s);
}

/** Share of `norms` at most `c`: the noiseless fraction b̄. */
const within = (norms: readonly number[], c: number): number => norms.filter((x) => x <= c).length / norms.length;

describe('the adaptive clipping rule', () => {
  it('moves the clip norm toward the target quantile of synthetic update norms and settles there', () => {
    fc.assert(
      fc.property(
        // n norms spread log-uniformly over [e^(μ−s), e^(μ+s)], a target quantile γ = (k + u)/n, a step,
        // a start far off. γ is either a share the norms can take (u = 0: every C in [x_k, x_(k+1)) is
        // a fixed point) or at least a quarter of 1/n away from one. Not arbitrarily close: there the
        // rule crawls at η·|b̄ − γ| per round (C one ulp off a fixed point moves by one ulp), so no
        // finite number of rounds settles it; a real round's noised b̄ never sits that still.
        fc.integer({ min: 20, max: 200 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.integer({ min: Math.ceil(0.05 * n), max: Math.floor(0.95 * n) - 1 }),
            fc.oneof(fc.constant(0), fc.double({ min: 0.25, max: 0.75, noNaN: true })),
          ),
        ),
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.double({ min: 0.3, max: 2, noNaN: true }),
        fc.double({ min: 0.1, max: 1, noNaN: true }),
        fc.double({ min: -4, max: 4, noNaN: true }),
        ([n, k, u], mu, spread, learningRate, logStart) => {
          const targetQuantile = (k + u) / n;
          const norms = Array.from({ length: n }, (_, i) => Math.exp(mu + spread * ((2 * (i + 0.5)) / n - 1)));
          const initial = Math.exp(mu + logStart);
          const rule: AdaptiveClipRule = { targetQuantile, learningRate, initial, min: initial / 1e3, max: initial * 1e3 };
          let c = initial;
          // Rounds enough for the slowest case: 4 log-units from the norms at η·0.05 a round, then the
          // last gap between norms (≤ 4/n log-units) at η/(4n) a round.
          for (let t = 0; t < 2000; t++) {
            const b = within(norms, c);
            const next = nextClipNorm(c, b, rule);
            // each step goes the right way: down when more than the quantile fit, up when fewer
            if (b > targetQuantile) expect(next).toBeLessThanOrEqual(c);
            if (b < targetQuantile) expect(next).toBeGreaterThanOrEqual(c);
            c = next;
          }
          // It ends at the quantile: between a, the smallest norm with a share γ of the norms at or
          // below it, and b, the smallest with more than γ, up to one step (a factor e^η) either side.
          // The bounds are inclusive and C can land on one exactly, so rounding is allowed for.
          const a = norms.find((x) => within(norms, x) >= targetQuantile)!;
          const b = norms.find((x) => within(norms, x) > targetQuantile)!;
          expect(c).toBeGreaterThanOrEqual(a * Math.exp(-learningRate) * (1 - 1e-12));
          expect(c).toBeLessThanOrEqual(b * Math.exp(learningRate) * (1 + 1e-12));
        },
      ),
      // The examples: C settled on a·e^(−η) itself, one ulp below the product as computed here; and
      // γ a quarter of 1/n above a share, with the last gap between norms wider than a step.
      {
        numRuns: 40,
        examples: [
          [[24, 21, 0], 0, 1.231578947368419, 0.1, 0],
          [[26, 20, 0.25], 0, 1.95, 0.1, -4],
        ],
      },
    );
  });

  it('keeps C in [min, max] whatever fractions (noised, outside [0, 1]) are released', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -5, max: 6, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0.01, max: 5, noNaN: true }), (fractions, eta) => {
        const rule: AdaptiveClipRule = { targetQuantile: 0.5, learningRate: eta, initial: 1, min: 0.2, max: 3 };
        let c = 1;
        for (const b of fractions) {
          c = nextClipNorm(c, b, rule);
          expect(c).toBeGreaterThanOrEqual(0.2);
          expect(c).toBeLessThanOrEqual(3);
        }
      }),
    );
    expect(() => nextClipNorm(1, Number.NaN, { targetQuantile: 0.5, learningRate: 0.2, initial: 1, min: 0.1, max: 10 })).toThrow(/finite/);
  });
});

describe('the clipping bit in the encoded vector', () => {
  const evaluation = EvaluationSectionSchema.parse({});
  /** The vector a participant encodes, as the participant builds it. */
  function input(update: Float32Array, c: RoundClip, withEvaluation: boolean): { v: Float32Array; bit: 0 | 1 } {
    const { scaled, bit } = clipForEncoding(update, c);
    const v = withEvaluation ? evaluationInput(scaled, { examples: 1e9, correct: 1e9, lossSum: 1e12 }, evaluation, c.referenceNorm) : scaled;
    return { v: appendClipBit(v, bit, c), bit };
  }

  it('keeps the joint vector (update, evaluation counts, bit) within the reference norm C, and the bit says whether the update fit C_t', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 64 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.double({ min: 0.001, max: 1000, noNaN: true }),
        fc.double({ min: 0.01, max: 0.9, noNaN: true }),
        fc.boolean(),
        (values, referenceNorm, clipNorm, normShare, withEvaluation) => {
          const config = { dp: { clipNorm: referenceNorm }, clipping: { adaptive: { targetQuantile: 0.5, learningRate: 0.2, normShare } }, ...(withEvaluation ? { evaluation } : {}) };
          const c = roundClip(config, clipNorm)!;
          const update = Float32Array.from(values);
          const { v, bit } = input(update, c, withEvaluation);
          expect(v.length).toBe(values.length + (withEvaluation ? 3 : 0) + 1);
          expect(norm(v)).toBeLessThanOrEqual(referenceNorm);
          expect(bit).toBe(norm(update) <= clipNorm ? 1 : 0);
          // the update decodes to itself clipped to C_t
          const back = releasedUpdate(v.subarray(0, values.length), c);
          expect(norm(back)).toBeLessThanOrEqual(clipNorm * (1 + 1e-6));
          expect(releasedFraction(v[v.length - 1]!, c)).toBeCloseTo(bit, 5);
        },
      ),
    );
  });

  it('decodes the mean clipped update and the fraction within C_t from the mean of the vectors', () => {
    const c = roundClip({ dp: { clipNorm: 2 }, clipping: { adaptive: { targetQuantile: 0.5, learningRate: 0.2, normShare: 0.3 } } }, 0.5)!;
    const updates = [new Float32Array([0.1, 0.2]), new Float32Array([3, 4]), new Float32Array([0, -0.4]), new Float32Array([0.6, 0])];
    const mean = new Float32Array(3);
    for (const u of updates) input(u, c, false).v.forEach((x, i) => (mean[i]! += x / updates.length));
    // clipped to C_t = 0.5: (0.1, 0.2), (0.3, 0.4), (0, −0.4), (0.5, 0)
    const back = releasedUpdate(mean.subarray(0, 2), c);
    expect(back[0]).toBeCloseTo((0.1 + 0.3 + 0 + 0.5) / 4, 6);
    expect(back[1]).toBeCloseTo((0.2 + 0.4 - 0.4 + 0) / 4, 6);
    expect(releasedFraction(mean[2]!, c)).toBeCloseTo(0.5, 6);
    // the noise on b̄: σ/(k·β·C), central z = 1 on 100 contributors with β = 0.2 gives 0.05
    expect(fractionNoiseStd(1 * 1, 100, { normShare: 0.2, referenceNorm: 1 })).toBeCloseTo(0.05, 6);
  });

  it('is configured in the federation: one more coordinate, shares that leave the update room, bounds in order', () => {
    const people = identities(3);
    const both = smallConfig(people, { evaluation: {}, clipping: { adaptive: {} } });
    expect(roundDim(both)).toBe(both.dim + 3 + 1);
    expect(adaptiveClipRule(both)).toEqual({ targetQuantile: 0.5, learningRate: 0.2, initial: 10, min: 0.01, max: 10_000 });
    expect(adaptiveClipRule(smallConfig(people))).toBeNull();
    expect(() => smallConfig(people, { evaluation: { normShare: 0.8 }, clipping: { adaptive: { normShare: 0.7 } } })).toThrow(/clipping\.adaptive\.normShare: the bit's and the evaluation's norm shares/);
    expect(() => smallConfig(people, { clipping: { adaptive: { initial: 1, min: 2 } } })).toThrow(/clipping\.adaptive: need 0 < min ≤ initial ≤ max/);
    // the README's section is a valid one
    const block = /```yaml\n(clipping:[\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'))?.[1];
    const fromReadme = smallConfig(people, parse(block!) as Record<string, never>);
    expect(adaptiveClipRule(fromReadme)).toMatchObject({ targetQuantile: 0.5, learningRate: 0.2 });
  });
});

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('adaptive clipping in a federation over HTTP', () => {
  // Updates of norm 0.2, 1.2 and 4 (dim 4): from C_0 = 1 a third of them fit, so C grows by e^{η/6} per round.
  const values = [0.1, 0.6, 2];
  const rule = { targetQuantile: 0.5, learningRate: 0.5, initial: 1 };

  it('follows the fraction it releases, with server momentum; the ledger and the report verify; tampering and a wrong C_t are refused', async () => {
    const people = identities(3);
    const config = smallConfig(people, { rounds: 3, clipping: { adaptive: rule } });
    const summaries: { clipping?: { clipNorm: number; fraction: number | null } }[] = [];
    running = await startTestCoordinator(config, { serverOptimizer: { kind: 'fedavgm', lr: 1, momentum: 0.9 }, onRoundEnd: (s) => summaries.push(s) });
    const clients = people.map((p, i) => participant(running!.url, p, values[i]!, config.dim));
    await Promise.all(clients.map((c) => c.run()));
    await running.coordinator.finished;
    const ledger = await running.coordinator.ledger();
    const rounds = ledger.filter((e) => e.kind === 'round');
    expect(rounds).toHaveLength(3);

    // C_t follows the released fractions: a third of the updates fit each of these clip norms
    const full: AdaptiveClipRule = { ...rule, min: 1e-3, max: 1e3 };
    let c = 1;
    const expected: number[] = [];
    for (let t = 0; t < 3; t++) {
      expected.push(c);
      c = nextClipNorm(c, 1 / 3, full);
    }
    expect(rounds.map((e) => e.clipping!.clipNorm)).toEqual(rounds.map((e, t) => (t === 0 ? 1 : nextClipNorm(rounds[t - 1]!.clipping!.clipNorm, rounds[t - 1]!.clipping!.fraction!, full))));
    rounds.forEach((e, t) => {
      expect(e.clipping!.fraction).toBeCloseTo(1 / 3, 3);
      expect(e.clipping!.clipNorm).toBeCloseTo(expected[t]!, 3);
    });
    expect(rounds[2]!.clipping!.clipNorm).toBeGreaterThan(1.15);
    expect(summaries.map((s) => s.clipping?.clipNorm)).toEqual(rounds.map((e) => e.clipping!.clipNorm));
    // C_t changes, the accounting does not: every round runs the genesis's mechanism with the same event
    expect(new Set(rounds.map((e) => JSON.stringify([e.mechanism, e.dpEvent]))).size).toBe(1);
    expect(rounds[0]!.mechanism).toEqual(ledger[0]!.kind === 'genesis' ? ledger[0]!.mechanism : null);

    // The model is the server optimiser (momentum 0.9) applied to the mean updates clipped to each C_t.
    const opt = createServerOptimizer({ kind: 'fedavgm', lr: 1, momentum: 0.9 });
    let w: Float32Array = new Float32Array(config.dim);
    for (const e of rounds) {
      const ct = e.clipping!.clipNorm;
      const clippedMean = values.map((v) => v * Math.min(1, ct / (2 * v))).reduce((a, b) => a + b, 0) / values.length;
      w = opt.apply(w, new Float32Array(config.dim).fill(clippedMean));
    }
    const model = new Float32Array(running.coordinator.model.weights.slice().buffer);
    model.forEach((x, i) => expect(x).toBeCloseTo(w[i]!, 2));

    // The ledger verifies, and so does the report against it (verify-report's check).
    const key = toHex(running.coordinator.publicKey);
    expect(verifyLedger(ledger, key, config.participants)).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-clip-'));
    const paths = await running.exportAudit(dir);
    const doc = JSON.parse(readFileSync(paths.report, 'utf8')) as PrivacyReport;
    const bundle = readLedgerBundle({ ledger: paths.ledger, coordinatorKey: key });
    expect(verifyReport(doc, { checks: [ledgerReportCheck(bundle)] })).toEqual([]);
    // The report states each round's C_t and released fraction as the ledger records them (its
    // config.clipNorm is the reference norm the noise is scaled to, the same in every round).
    expect(doc.rounds.map((r) => r.clipping)).toEqual(rounds.map((e) => e.clipping));
    expect(new Set(doc.rounds.map((r) => r.config.clipNorm))).toEqual(new Set([rounds[0]!.mechanism.clipNorm]));
    // A report that rewrites a round's C_t, or hides it, is refused against the ledger; one that
    // hides it, or drops a released round's fraction, is refused on its own too.
    const reportCodes = (r: PrivacyReport, withLedger: boolean) => verifyReport(r, withLedger ? { checks: [ledgerReportCheck(bundle)] } : {}).map((d) => `${d.code}@${d.round}`);
    const second = doc.rounds[1]!.round;
    const rewritten = structuredClone(doc);
    rewritten.rounds[1]!.clipping!.clipNorm *= 2;
    expect(reportCodes(rewritten, false)).toEqual([]);
    expect(reportCodes(rewritten, true)).toEqual([`ledger/report-clipping@${second}`]);
    const hidden = structuredClone(doc);
    delete hidden.rounds[1]!.clipping;
    expect(reportCodes(hidden, false)).toEqual([`report/clipping-mismatch@${second}`]);
    expect(reportCodes(hidden, true)).toEqual([`report/clipping-mismatch@${second}`, `ledger/report-clipping@${second}`]);
    const noFraction = structuredClone(doc);
    noFraction.rounds[1]!.clipping!.fraction = null;
    expect(reportCodes(noFraction, false)).toEqual([`report/clipping-mismatch@${second}`]);

    // A coordinator that rewrites a released fraction and re-signs: the next C_t no longer follows.
    const codes = (entries: LedgerEntry[]) => verifyLedger(entries, key, null).map((d) => `${d.code}@${d.index}`);
    const fraction = structuredClone(ledger);
    (fraction[1] as { clipping: { fraction: number } }).clipping.fraction = 0.9;
    expect(codes(rechain(fraction))).toContain('ledger/clip-mismatch@2');
    // A rewritten C_t: off the rule, and not what the contributors co-signed.
    const norm2 = structuredClone(ledger);
    (norm2[2] as { clipping: { clipNorm: number } }).clipping.clipNorm *= 1.5;
    const found = codes(rechain(norm2));
    expect(found).toContain('ledger/clip-mismatch@2');
    expect(found).toContain('ledger/binding-not-cosigned@2');
    // A dropped clipping record.
    const dropped = structuredClone(ledger);
    delete (dropped[3] as { clipping?: unknown }).clipping;
    expect(codes(rechain(dropped))).toContain('ledger/clip-mismatch@3');
    // verify-report refuses the rewritten ledger with the same code
    const tamperedBundle = { ...bundle, entries: rechain(fraction) };
    expect(verifyReport(doc, { checks: [ledgerReportCheck(tamperedBundle)] }).map((d) => d.code)).toContain('ledger/clip-mismatch');

    // A participant refuses a next round whose stated C_t does not follow from the ledger it verified.
    const last = ledger.at(-1)!;
    const head = { seq: last.seq, hash: last.hash };
    const rc = entryRoundConfig(rounds[2]!)!;
    const nextRound = rounds[2]!.round + 1;
    const members = drawCohort(config.participants, config.cohort, publicDrawSeed(config.seed)!, nextRound).members;
    const draw = rounds[2]!.cohort.draw;
    const announce = (clipNorm: number | null) => {
      const cfg = { ...rc, round: nextRound, participants: members.map((m) => fromHex(m)) };
      const binding = roundBinding({ roundConfig: unboundWireConfig(toWireConfig(cfg)), draw, genesisHash: ledger[0]!.hash, ledgerHead: head, clipNorm });
      return checkLedgerBeforeRound({ entries: ledger, self: config.participants[0]!, coordinatorKey: key, receipts: [], round: { config: { ...cfg, binding }, draw, ledgerHead: head, clipNorm } });
    };
    const next = nextRoundClipNorm(full, ledger);
    expect(next).toBeCloseTo(c, 3);
    expect(announce(next).ok).toBe(true);
    const verdict = (clipNorm: number | null) => {
      const r = announce(clipNorm);
      return r.ok ? 'ok' : r.code;
    };
    expect(verdict(next * 1.01)).toBe('client/clip-mismatch');
    expect(verdict(rounds[2]!.clipping!.clipNorm)).toBe('client/clip-mismatch');
    expect(verdict(null)).toBe('client/clip-mismatch');
  });

  it('composes with federated evaluation and a noise probe: counts, bit, probe and update each decode from their own coordinates', async () => {
    const people = identities(3);
    const config = smallConfig(people, { rounds: 1, evaluation: { maxExamples: 50 }, clipping: { adaptive: rule }, noiseProbe: 5 });
    expect(roundDim(config)).toBe(config.dim + 4 + 5);
    const counts = [
      { examples: 20, correct: 15, lossSum: 9 },
      { examples: 50, correct: 10, lossSum: 40 },
      { examples: 5, correct: 5, lossSum: 1 },
    ];
    running = await startTestCoordinator(config);
    const clients = people.map((p, i) =>
      participant(running!.url, p, values[i]!, config.dim, { train: () => ({ update: new Float32Array(config.dim).fill(values[i]!), examples: 10, evaluation: counts[i]! }) }),
    );
    await Promise.all(clients.map((c) => c.run()));
    await running.coordinator.finished;
    const round = (await running.coordinator.ledger()).find((e) => e.kind === 'round');
    expect(round?.kind).toBe('round');
    if (round?.kind !== 'round') return;
    expect(round.evaluation!.examples).toBeCloseTo(75, 0);
    expect(round.evaluation!.correct).toBeCloseTo(30, 0);
    expect(round.clipping!.clipNorm).toBe(1);
    expect(round.clipping!.fraction).toBeCloseTo(1 / 3, 3);
    // no DP noise in this federation: the probe's zeros come back as zeros, after the bit
    expect(round.noiseProbe).toHaveLength(5);
    for (const v of round.noiseProbe!) expect(Math.abs(v)).toBeLessThan(1e-3);
    // clipped to C_0 = 1: 0.1, 0.5, 0.5 in each coordinate
    for (const w of new Float32Array(running.coordinator.model.weights.slice().buffer)) expect(w).toBeCloseTo(1.1 / 3, 2);
  });

  it('a fixed-clipping federation: no bit, no clipping record, and a stated clip norm is refused', () => {
    const people = fixtureIdentities(3, 'clip-fixed');
    const { config, entries } = fixtureLedger(people, 2);
    expect(roundDim(config)).toBe(config.dim);
    expect(entries.some((e) => 'clipping' in e)).toBe(false);
    expect(verifyLedger(entries, toHex(coordinator.publicKey), null)).toEqual([]);
    const last = entries.at(-1)!;
    const head = { seq: last.seq, hash: last.hash };
    const r = fixtureRound(config, 100, entries[0]!.hash, head);
    const check = (clipNorm: number | null) => {
      const binding = roundBinding({ roundConfig: r.unbound, draw: r.drawRecord, genesisHash: entries[0]!.hash, ledgerHead: head, clipNorm });
      const v = checkLedgerBeforeRound({ entries, self: config.participants[0]!, coordinatorKey: toHex(coordinator.publicKey), receipts: [], round: { config: { ...r.config, binding }, draw: r.drawRecord, ledgerHead: head, clipNorm } });
      return v.ok ? 'ok' : v.code;
    };
    expect(check(null)).toBe('ok');
    expect(check(0.5)).toBe('client/clip-mismatch');
    // a clipping record slipped into a fixed-clipping ledger
    const slipped = structuredClone(entries);
    (slipped[1] as { clipping?: unknown }).clipping = { clipNorm: 1, fraction: 0.5 };
    expect(verifyLedger(rechain(slipped), toHex(coordinator.publicKey), null).map((d) => d.code)).toContain('ledger/clip-mismatch');
    // its report states no clip per round, and one that claims a clip is refused against the ledger
    const report = buildPrivacyReport(entries);
    expect(report.rounds.some((r) => r.clipping !== undefined)).toBe(false);
    const bundle = { path: 'ledger.jsonl', entries, pinnedKey: toHex(coordinator.publicKey), receipts: null, problems: [] };
    expect(verifyReport(report, { checks: [ledgerReportCheck(bundle)] })).toEqual([]);
    const claimed = structuredClone(report);
    claimed.rounds.forEach((r) => (r.clipping = { clipNorm: 0.1, fraction: 0.5 }));
    expect(verifyReport(claimed, { checks: [ledgerReportCheck(bundle)] }).map((d) => d.code)).toEqual(claimed.rounds.map(() => 'ledger/report-clipping'));
  });
});
