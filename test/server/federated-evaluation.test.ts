import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyReport, EVALUATION_NOISED, type PrivacyReport } from '../../src/dp/index.js';
import { toHex } from '../../src/secagg/index.js';
import type { DpConfig } from '../../src/dp/index.js';
import type { RoundSummary } from '../../src/server/coordinator.js';
import { evaluationLogLine } from '../../src/server/evaluation-log.js';
import { EvaluationSectionSchema, evaluationInput, evaluationRateNoise, evaluationNoiseStd, evaluationTotals, holdoutSplit, roundDim } from '../../src/server/federated-evaluation.js';
import { noiseWarnings } from '../../src/server/noise-outlook.js';
import { federationDpConfig } from '../../src/server/federation-plan.js';
import { ledgerReportCheck, readLedgerBundle } from '../../src/server/ledger-audit.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

const spec = EvaluationSectionSchema.parse({});

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/** A standard normal draw (Box–Muller) from a seeded uniform source. */
function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

describe('federated evaluation coordinates', () => {
  it('never lets the joint vector (update and counts) exceed the clip norm C', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 64 }),
        fc.record({ examples: fc.double({ min: -10, max: 1e7, noNaN: true }), correct: fc.double({ min: -10, max: 1e7, noNaN: true }), lossSum: fc.double({ min: -10, max: 1e9, noNaN: true }) }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        (values, counts, clipNorm, normShare) => {
          const s = { ...spec, normShare };
          const joint = evaluationInput(Float32Array.from(values), counts, s, clipNorm);
          expect(joint.length).toBe(values.length + 3);
          expect(norm(joint)).toBeLessThanOrEqual(clipNorm);
          // the counts alone stay within β·C
          expect(norm(joint.subarray(values.length))).toBeLessThanOrEqual(normShare * clipNorm);
        },
      ),
    );
  });

  it('decodes the exact totals without noise, and unbiased totals under noise of the stated deviation', () => {
    const clipNorm = 2;
    const parts = [
      { examples: 40, correct: 31, lossSum: 22.5 },
      { examples: 100, correct: 60, lossSum: 80 },
      { examples: 7, correct: 7, lossSum: 0.5 },
    ];
    const sum = new Float64Array(3);
    for (const c of parts) {
      const v = evaluationInput(new Float32Array([0.3, -0.4]), c, spec, clipNorm).subarray(2);
      for (let i = 0; i < 3; i++) sum[i]! += v[i]!;
    }
    const mean = (noise: number[]) => Float32Array.from(sum, (x, i) => (x + (noise[i] ?? 0)) / parts.length);
    const exact = evaluationTotals(mean([]), parts.length, spec, clipNorm);
    expect(exact.examples).toBeCloseTo(147, 3);
    expect(exact.correct).toBeCloseTo(98, 3);
    expect(exact.lossSum).toBeCloseTo(103, 3);

    // Gaussian noise of deviation σ per coordinate of the sum: the totals' mean over many draws
    // is the true totals, their deviation evaluationNoiseStd.
    const sigma = 0.05;
    const std = evaluationNoiseStd(spec, clipNorm, sigma);
    // mulberry32: a seeded uniform source, so the test draws the same noise every run
    let state = 0x9e3779b9;
    const rng = () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const draws = 20_000;
    let se = 0;
    let sc = 0;
    let sq = 0;
    for (let k = 0; k < draws; k++) {
      const t = evaluationTotals(mean([sigma * gaussian(rng), sigma * gaussian(rng), sigma * gaussian(rng)]), parts.length, spec, clipNorm);
      se += t.examples;
      sc += t.correct;
      sq += (t.examples - 147) ** 2;
    }
    // 5 standard errors of the mean
    const tol = (5 * std) / Math.sqrt(draws);
    expect(Math.abs(se / draws - 147)).toBeLessThan(tol);
    expect(Math.abs(sc / draws - 98)).toBeLessThan(tol);
    expect(Math.sqrt(sq / draws) / std).toBeGreaterThan(0.95);
    expect(Math.sqrt(sq / draws) / std).toBeLessThan(1.05);
  });

  it('clamps counts to their bounds so a wrong evaluator cannot add more than m examples', () => {
    const v = evaluationInput(new Float32Array(1), { examples: 1e9, correct: 2e9, lossSum: 1e12 }, spec, 1);
    const t = evaluationTotals(v.subarray(1), 1, spec, 1);
    expect(t.examples).toBeCloseTo(spec.maxExamples, 3);
    expect(t.correct).toBeCloseTo(spec.maxExamples, 3);
    expect(t.lossSum).toBeCloseTo(spec.maxExamples * spec.lossCap, 2);
  });

  it('holds out the same rows for the same identity, other rows for another, never all of them', () => {
    const [a, b] = identities(2).map((p) => p.publicKey) as [Uint8Array, Uint8Array];
    const s1 = holdoutSplit(500, 0.2, a);
    expect(s1).toEqual(holdoutSplit(500, 0.2, a));
    expect(s1.holdout).toHaveLength(100);
    expect(s1.train).toHaveLength(400);
    expect(new Set([...s1.train, ...s1.holdout]).size).toBe(500);
    expect(holdoutSplit(500, 0.2, b).holdout).not.toEqual(s1.holdout);
    expect(holdoutSplit(2, 0.9, a).train).toHaveLength(1);
    expect(holdoutSplit(1, 0.5, a).holdout).toEqual([]);
  });
});

describe('noise outlook', () => {
  it('warns that a DP federation of 4 cannot carry client-level noise, with the ratio and the cohort that would', () => {
    const people = identities(4);
    const config = smallConfig(people, {
      dim: 25,
      threshold: 3,
      evaluation: {},
      dp: { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1e-6, targetEpsilon: 8, delta: 1e-5, minContributors: 3 },
      rounds: 5,
    });
    const warnings = noiseWarnings(config, federationDpConfig(config));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/with about 4 participants per round, noise multiplier [\d.]+ and 28 coordinates, the noise in each round's mean update is expected to be [\d.]+× the clip norm/);
    expect(warnings[0]).toMatch(/about \d+ for a ratio of 1/);
    expect(warnings[1]).toMatch(/federated accuracy will be released with noise of about ±[\d.]+ percentage points/);
    // without DP there is nothing to warn about
    const plain = smallConfig(people);
    expect(noiseWarnings(plain, federationDpConfig(plain))).toEqual([]);
    // a large cohort with the same noise multiplier leaves a signal
    const many = identities(2000, 'many');
    const big = smallConfig(many, { dim: 25, threshold: 3, dp: { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1e-4, noiseMultiplier: 1, minContributors: 3 } });
    expect(noiseWarnings(big, federationDpConfig(big))).toEqual([]);
  });
});

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('federated evaluation over HTTP', () => {
  it('releases the sum of the participants’ counts (no DP), in the ledger entry, the summary and the report, which verify-report holds to the ledger', async () => {
    const people = identities(3);
    const config = smallConfig(people, { evaluation: { maxExamples: 50 } });
    expect(roundDim(config)).toBe(config.dim + 3);
    const counts = [
      { examples: 20, correct: 15, lossSum: 9 },
      { examples: 50, correct: 10, lossSum: 40 },
      { examples: 5, correct: 5, lossSum: 1 },
    ];
    const summaries: { round: number; evaluation?: { accuracy: number; examples: number; noised: boolean; modelVersion?: number } }[] = [];
    running = await startTestCoordinator(config, { onRoundEnd: (s) => summaries.push(s) });
    const clients = people.map((p, i) =>
      participant(running!.url, p, 0.1, config.dim, { train: () => ({ update: new Float32Array(config.dim).fill(0.1), examples: 10, evaluation: counts[i]! }) }),
    );
    await Promise.all(clients.map((c) => c.run()));
    await running.coordinator.finished;
    const ledger = await running.coordinator.ledger();
    const rounds = ledger.filter((e) => e.kind === 'round');
    expect(rounds).toHaveLength(2);
    for (const [i, e] of rounds.entries()) {
      const ev = e.kind === 'round' ? e.evaluation : undefined;
      expect(ev?.modelVersion).toBe(i);
      // quantised to γ = 0.001 of an encoding where m examples are β·C/√3 ≈ 1.44
      expect(ev!.examples).toBeCloseTo(75, 0);
      expect(ev!.correct).toBeCloseTo(30, 0);
      expect(ev!.lossSum).toBeCloseTo(50, -1);
    }
    // the model update is the participants' (unclipped at C = 10), the counts did not leak into it
    for (const w of new Float32Array(running.coordinator.model.weights.slice().buffer)) expect(w).toBeCloseTo(0.2, 2);
    expect(summaries.map((s) => [s.evaluation?.noised, s.evaluation?.modelVersion])).toEqual([
      [false, 0],
      [false, 1],
    ]);
    expect(summaries[0]!.evaluation!.accuracy).toBeCloseTo(0.4, 1);

    const dir = mkdtempSync(join(tmpdir(), 'fedveil-eval-'));
    const paths = await running.exportAudit(dir);
    const report = (await import('node:fs')).readFileSync(paths.report, 'utf8');
    const doc = JSON.parse(report) as PrivacyReport;
    expect(doc.rounds.map((r) => r.evaluation?.noised)).toEqual([false, false]);
    expect(doc.rounds[0]!.evaluation!.privacy).toMatch(/^RELEASED WITHOUT DIFFERENTIAL PRIVACY/);
    const check = ledgerReportCheck(readLedgerBundle({ ledger: paths.ledger, coordinatorKey: toHex(running.coordinator.publicKey) }));
    expect(verifyReport(doc, { checks: [check] })).toEqual([]);

    // tampering with the recorded totals: the rates no longer follow, or the ledger disagrees
    const tampered = structuredClone(doc);
    tampered.rounds[0]!.evaluation!.correct += 10;
    const codes = verifyReport(tampered, { checks: [check] }).map((d) => d.code);
    expect(codes).toContain('report/evaluation-mismatch');
    expect(codes).toContain('ledger/report-evaluation');
    const consistent = structuredClone(doc);
    const e0 = consistent.rounds[0]!.evaluation!;
    e0.correct += 10;
    e0.accuracy = e0.correct / e0.examples;
    expect(verifyReport(consistent, { checks: [check] }).map((d) => d.code)).toEqual(['ledger/report-evaluation']);
    // dropping the evaluation from the report
    const dropped = structuredClone(doc);
    delete dropped.rounds[1]!.evaluation;
    expect(verifyReport(dropped, { checks: [check] }).map((d) => d.code)).toEqual(['ledger/report-evaluation']);
    // un-noised totals passed off as private
    const claimed = structuredClone(doc);
    claimed.rounds[0]!.evaluation!.noised = true;
    claimed.rounds[0]!.evaluation!.privacy = EVALUATION_NOISED;
    expect(verifyReport(claimed).map((d) => d.code)).toEqual(['report/evaluation-noised']);
  });
});

describe('serve log line of a round evaluation', () => {
  const summary = { round: 3, status: 'completed', contributors: 4, modelVersion: 4, epsilon: 2.5 } as unknown as RoundSummary;
  const dp = { mechanism: 'skellam', noiseMultiplier: 0.5, clipNorm: 1, minContributors: 3 } as DpConfig;

  it('gives the noise of federated figures, says when they carry no DP, and when the noised count allows no estimate', () => {
    const federated = { source: 'federated', accuracy: 0.75, loss: 0.6, examples: 120.4, noised: true, modelVersion: 3 } as const;
    const noise = evaluationRateNoise(spec, dp, 4, 120.4);
    expect(noise.accuracy).toBeCloseTo((0.5 * Math.sqrt(4 / 3) * 100) / ((0.25 / Math.sqrt(3)) * (1 - 1e-6)) / 120.4, 9);
    expect(evaluationLogLine(summary, federated, spec, dp)).toBe(
      `round 3: accuracy 0.7500 (±${noise.accuracy.toFixed(4)} noise std) loss 0.6000 (±${noise.loss.toFixed(4)}) over ~120 held-out examples of model v3 (federated, noised), ε so far 2.5000`,
    );
    expect(evaluationLogLine({ ...summary, epsilon: null }, { ...federated, noised: false }, spec, { ...dp, mechanism: 'none', noiseMultiplier: 0 })).toBe(
      'round 3: accuracy 0.7500 loss 0.6000 over 120 held-out examples of model v3 (federated totals, released WITHOUT DP), ε so far: no DP',
    );
    expect(evaluationLogLine(summary, undefined, spec, dp)).toMatch(/^round 3: federated accuracy cannot be estimated/);
    expect(evaluationLogLine(summary, undefined, undefined, dp)).toBeNull();
    expect(evaluationLogLine(summary, { source: 'test-set', accuracy: 0.8, loss: 0.5, examples: 400, noised: false }, undefined, dp)).toBe(
      "round 3: accuracy 0.8000 loss 0.5000 over 400 examples of the operator's test set (model v4), ε so far 2.5000",
    );
  });
});
