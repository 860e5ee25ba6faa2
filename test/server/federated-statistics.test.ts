import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/secagg/index.js';
import type { KeyPair } from '../../src/secagg/index.js';
import { spentEpsilon, withinTarget } from '../../src/server/budget-guard.js';
import type { FederationConfig, FederationConfigInput } from '../../src/server/config.js';
import { DataSchemaSchema, type FederatedStandardizationSpec, type FixedStandardization } from '../../src/server/data-schema.js';
import { releasedNoiseStd } from '../../src/server/federated-evaluation.js';
import {
  localMoments,
  releasedMoments,
  standardizationOf,
  statisticsInput,
  statisticsNoiseStd,
  type UnitMoments,
} from '../../src/server/federated-statistics.js';
import { federationDpConfig } from '../../src/server/federation-plan.js';
import { chargedEntries, entryEvent, type LedgerEntry, type StatisticsEntry } from '../../src/server/ledger-entry.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { FederationInfoSchema } from '../../src/server/wire.js';
import type { ParticipantOptions } from '../../src/server/participant.js';
import type { Dataset } from '../../src/trainer/data/dataset.js';
import { coordinator as coordinatorKey, fixtureConfig, fixtureLedger, rechain } from './fixtures.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

const SPEC: FederatedStandardizationSpec = { lower: [0, -10], upper: [10, 10], stdFloor: 0.01 };
const DATA = { features: ['a', 'b'], label: 'y', classes: ['no', 'yes'], standardize: { federated: { lower: SPEC.lower, upper: SPEC.upper } } };

/** A two-feature dataset of the given rows. */
function rows(values: readonly (readonly [number, number])[]): Dataset {
  return { features: Float32Array.from(values.flat()), labels: new Uint8Array(values.length), size: values.length, featureShape: [2], numClasses: 2 };
}

/** Three participants' rows, one of them partly outside the declared range of feature a. */
const SHARDS = [
  rows([
    [1, -2],
    [2, 0],
    [3, 4],
  ]),
  rows([
    [5, 5],
    [7, -5],
  ]),
  rows([
    [12, 1],
    [9, 1],
    [8, 2],
    [6, 3],
  ]),
];

function average(ms: readonly UnitMoments[]): UnitMoments {
  const avg = (k: keyof UnitMoments) => (ms[0] as UnitMoments)[k].map((_, j) => ms.reduce((s, m) => s + (m[k][j] as number), 0) / ms.length);
  return { mean: avg('mean'), meanSquare: avg('meanSquare') };
}

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

function federatedConfig(people: KeyPair[], overrides: Partial<FederationConfigInput> = {}): FederationConfig {
  return smallConfig(people, { data: DATA, ...overrides });
}

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** Runs a federation over SHARDS, each participant training with a constant update and recording the standardisation it was told to apply. */
async function runFederation(config: FederationConfig, people: KeyPair[], more: (i: number) => Partial<Parameters<typeof participant>[4]> = () => ({})) {
  running = await startTestCoordinator(config);
  const applied: (FixedStandardization | null)[][] = people.map(() => []);
  const clients = people.map((p, i) =>
    participant(running!.url, p, 0.1, config.dim, {
      moments: (spec) => localMoments(SHARDS[i % SHARDS.length] as Dataset, spec),
      train: (_w, info) => {
        applied[i]!.push(info.standardization);
        return { update: new Float32Array(config.dim).fill(0.1), examples: 10 };
      },
      ...more(i),
    }),
  );
  const results = await Promise.all(clients.map((c) => c.run()));
  await running.coordinator.finished;
  const ledger = await running.coordinator.ledger();
  return { ledger, applied, results, running };
}

/** The no-DP federation over SHARDS, run once for the tests that read its ledger. */
let noDp: ReturnType<typeof runFederation> | null = null;
function noDpFederation(): ReturnType<typeof runFederation> {
  const people = identities(3);
  noDp ??= runFederation(federatedConfig(people), people);
  return noDp;
}

describe('federated standardisation: the statistics payload', () => {
  it('never exceeds the clip norm C, and zero-pads to the round dimension', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: -1, max: 2, noNaN: true })), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        (pairs, clipNorm) => {
          const m = { mean: pairs.map((p) => p[1]), meanSquare: pairs.map((p) => p[0]) };
          const v = statisticsInput(m, clipNorm, 2 * pairs.length + 3);
          expect(v.length).toBe(2 * pairs.length + 3);
          expect(norm(v)).toBeLessThanOrEqual(clipNorm);
          expect([...v.subarray(2 * pairs.length)]).toEqual([0, 0, 0]);
        },
      ),
    );
  });

  it('gives, without noise, the mean and std of the participants’ rows clamped to the range, each participant weighted equally', () => {
    const local = SHARDS.map((s) => localMoments(s, SPEC));
    // encoded and decoded as the coordinator does (float32, mean over the contributors)
    const inputs = local.map((m) => statisticsInput(m, 2, 4));
    const aggregate = Float32Array.from([0, 1, 2, 3], (j) => inputs.reduce((s, v) => s + (v[j] as number), 0) / inputs.length);
    const released = releasedMoments(aggregate, 2, 2);
    const got = standardizationOf(released, SPEC);
    // the equal-weight mixture of the clamped rows, computed directly
    const clamped = SHARDS.map((s) => Array.from({ length: s.size }, (_, r) => [Math.min(10, Math.max(0, s.features[2 * r] as number)), s.features[2 * r + 1] as number]));
    for (const j of [0, 1]) {
      const means = clamped.map((c) => c.reduce((a, x) => a + (x[j] as number), 0) / c.length);
      const squares = clamped.map((c) => c.reduce((a, x) => a + (x[j] as number) ** 2, 0) / c.length);
      const mean = means.reduce((a, b) => a + b, 0) / 3;
      const std = Math.sqrt(squares.reduce((a, b) => a + b, 0) / 3 - mean * mean);
      expect(got.mean[j]).toBeCloseTo(mean, 5);
      expect(got.std[j]).toBeCloseTo(std, 5);
    }
  });

  it('floors a variance the noise made negative at stdFloor of the range, and keeps means inside the range', () => {
    const s = standardizationOf({ mean: [-0.3, 0.5], meanSquare: [0.01, 0.1] }, SPEC);
    expect(s.mean).toEqual([0, 0]);
    expect(s.std).toEqual([10 * 0.1, 20 * 0.01]);
  });

  it('refuses a range whose bounds do not fit the features, and a round too small for the payload', () => {
    expect(DataSchemaSchema.safeParse({ ...DATA, standardize: { federated: { lower: [0, 3], upper: [10, 3] } } }).error?.issues[0]?.path).toEqual(['standardize', 'federated', 'upper', 1]);
    expect(DataSchemaSchema.safeParse({ ...DATA, standardize: { federated: { lower: [0], upper: [10, 3] } } }).success).toBe(false);
    const people = identities(3);
    expect(() => federatedConfig(people, { dim: 3 })).toThrow(/data\.standardize\.federated: the statistics round sends 4 values/);
  });

  it('refuses federated standardisation in an asynchronous federation, whose participants train before any round', () => {
    expect(() => federatedConfig(identities(3), { async: {} })).toThrow(/data\.standardize: federated standardisation is not available in asynchronous federations/);
  });
});

describe('federated standardisation over HTTP', () => {
  it('estimates the statistics before round 0 (no DP: the pooled per-participant averages), records them in the ledger, and trains with them', async () => {
    const people = identities(3);
    const { ledger, applied, running: r } = await noDpFederation();
    expect(ledger.map((e) => e.kind)).toEqual(['genesis', 'statistics', 'round', 'round']);
    const stats = ledger[1] as StatisticsEntry;
    const expected = average(SHARDS.map((s) => localMoments(s, SPEC)));
    // the encoding quantises to γ = 0.001 of a unit that is C/√4 = 5 encoded units
    for (const k of ['mean', 'meanSquare'] as const) {
      stats.statistics.released[k].forEach((v, j) => expect(Math.abs(v - (expected[k][j] as number))).toBeLessThan(5e-4));
    }
    expect(stats.statistics.standardize).toEqual(standardizationOf(stats.statistics.released, SPEC));
    expect(stats.modelVersion).toBe(0);
    // published by the coordinator, applied by every participant in every training round
    expect(r.coordinator.standardization).toEqual(stats.statistics.standardize);
    const info = FederationInfoSchema.parse(await (await fetch(new URL('/v1/federation', r.url))).json());
    expect(info.standardization).toEqual(stats.statistics.standardize);
    for (const a of applied) expect(a).toEqual([stats.statistics.standardize, stats.statistics.standardize]);
    // the federation trained its two rounds: two updates of 0.1
    for (const w of new Float32Array(r.coordinator.model.weights.slice().buffer)) expect(w).toBeCloseTo(0.2, 2);
    expect(verifyLedger(ledger, toHex(coordinatorKey.publicKey), people.map((p) => toHex(p.publicKey)))).toEqual([]);
  });

  it('with DP: estimates within the stated noise, charges the statistics round, and keeps ε within the target it was calibrated for', async () => {
    const people = identities(3);
    const dp = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1e-4, targetEpsilon: 8, delta: 1e-5, minContributors: 3, rotation: false } as const;
    const config = federatedConfig(people, { dp });
    // the calibration leaves room for the statistics round: more noise than for the training rounds alone
    const withoutStatistics = smallConfig(people, { dp, data: { ...DATA, standardize: undefined } });
    expect(federationDpConfig(config).noiseMultiplier).toBeGreaterThan(federationDpConfig(withoutStatistics).noiseMultiplier);
    const { ledger } = await runFederation(config, people);
    expect(ledger.map((e) => e.kind)).toEqual(['genesis', 'statistics', 'round', 'round']);
    const stats = ledger[1] as StatisticsEntry;
    const expected = average(SHARDS.map((s) => localMoments(s, SPEC)));
    const sigma = statisticsNoiseStd(2, dp.clipNorm, releasedNoiseStd(stats.mechanism, 3), 3);
    expect(sigma).toBeGreaterThan(0);
    for (const k of ['mean', 'meanSquare'] as const) {
      stats.statistics.released[k].forEach((v, j) => expect(Math.abs(v - (expected[k][j] as number))).toBeLessThan(5 * sigma));
    }
    // three charged entries, each a training round's event, within the target
    const charged = chargedEntries(ledger);
    expect(charged.map((e) => e.kind)).toEqual(['statistics', 'round', 'round']);
    const events = charged.map((e) => entryEvent(e, 0));
    const eps = spentEpsilon(events, dp.delta, 'rdp');
    expect(withinTarget(eps, 8, 'rdp')).toBe(true);
    expect(eps).toBeGreaterThan(spentEpsilon(events.slice(1), dp.delta, 'rdp'));
    expect(verifyLedger(ledger, toHex(coordinatorKey.publicKey), null)).toEqual([]);
  });
});

describe('federated standardisation: refusals', () => {
  it('the verifier refuses a statistics entry whose standardisation its released moments do not give, a second one, and a training round before it', async () => {
    const people = identities(3);
    const { ledger } = await noDpFederation();
    const codes = (entries: LedgerEntry[]) => [...new Set(verifyLedger(entries, toHex(coordinatorKey.publicKey), null).map((d) => d.code))];
    const tampered = structuredClone(ledger.slice(0, 2)) as LedgerEntry[];
    (tampered[1] as StatisticsEntry).statistics.standardize.mean[0] = 4.2;
    expect(codes(rechain(tampered))).toEqual(['ledger/statistics-mismatch']);
    const released = structuredClone(ledger.slice(0, 2)) as LedgerEntry[];
    (released[1] as StatisticsEntry).statistics.released.mean[1] = 0.9;
    expect(codes(rechain(released))).toEqual(['ledger/statistics-mismatch']);
    // without its statistics entry the first training round has nothing to standardise with
    expect(codes(rechain([ledger[0]!, ledger[2]!]))).toContain('ledger/statistics-missing');
    // a second statistics round
    const second = { ...(ledger[1] as StatisticsEntry), round: (ledger[1] as StatisticsEntry).round + 1 };
    expect(codes(rechain([ledger[0]!, ledger[1]!, second]))).toContain('ledger/statistics-mismatch');
    // a statistics entry in a federation without federated standardisation
    const plain = fixtureLedger(people, 1, { config: fixtureConfig(people) }).entries;
    const foreign = { ...(ledger[1] as StatisticsEntry), federationId: plain[0]!.federationId };
    expect(codes(rechain([plain[0]!, foreign]))).toContain('ledger/statistics-mismatch');
    expect(codes(rechain(plain))).not.toContain('ledger/statistics-mismatch');
  });

  it('a participant refuses to train when the published standardisation is not the ledger’s, or the ledger’s statistics entry was tampered with', async () => {
    const people = identities(4, 'refusing');
    // the refusing participants send nothing: the other two carry each round once advertise-keys closes
    const config = federatedConfig(people, { deadlines: { 'advertise-keys': 600, 'share-keys': 3000, 'masked-input': 3000, 'consistency-check': 3000, unmask: 3000 } });
    const lyingFederation: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (new URL(String(input)).pathname !== '/v1/federation') return res;
      const body = (await res.json()) as { standardization: FixedStandardization | null };
      if (body.standardization !== null) body.standardization = { ...body.standardization, mean: body.standardization.mean.map((m) => m + 1) };
      return Response.json(body);
    };
    const tamperedLedger: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (new URL(String(input)).pathname !== '/v1/ledger') return res;
      const entries = (await res.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LedgerEntry);
      for (const e of entries) if (e.kind === 'statistics') e.statistics.standardize.std[0] = 1;
      return new Response(rechain(entries).map((e) => JSON.stringify(e)).join('\n') + '\n');
    };
    // participant 1 has no feature statistics to send (and so holds no receipt a tampered ledger would fork from)
    const { results, applied, ledger } = await runFederation(config, people, (i) =>
      i === 0 ? { fetch: lyingFederation } : i === 1 ? ({ fetch: tamperedLedger, moments: undefined } as Partial<ParticipantOptions>) : {},
    );
    expect(ledger.map((e) => e.kind)).toEqual(['genesis', 'statistics', 'round', 'round']);
    expect(results[0]![0]!.status).toBe('completed');
    expect(results[1]![0]).toMatchObject({ status: 'refused', code: 'client/no-statistics' });
    for (const [i, code] of [
      [0, 'client/standardization-mismatch'],
      [1, 'client/ledger-invalid'],
    ] as const) {
      expect(results[i]!.slice(1).map((r) => [r.status, r.code])).toEqual([
        ['refused', code],
        ['refused', code],
      ]);
      expect(applied[i]).toEqual([]);
    }
    expect(results[2]!.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
  });
});
