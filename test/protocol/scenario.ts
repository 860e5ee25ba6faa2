import { expect } from 'vitest';
import fc from 'fast-check';
import { decodeSum } from '../../src/dp/index.js';
import { planRound } from '../../src/protocol/config.js';
import { runRoundInMemory, type InMemoryResult } from '../../src/protocol/in-memory.js';
import type { RoundSpec, RoundSpecBounds } from '../../src/protocol/testing/arbitraries.js';
import { dropoutScheduleArb, federationOf, inputsArb, messageOrderArb, roundSpecArb, scheduleOutlook } from '../../src/protocol/testing/index.js';
import type { CryptoProvider } from '../../src/secagg/index.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { PHASES } from '../../src/protocol/phases.js';

/** A whole scenario: round shape, inputs, dropout schedule and delivery order. */
export function scenarioArb(bounds: RoundSpecBounds = {}) {
  return roundSpecArb(bounds).chain((spec) =>
    fc.record({
      spec: fc.constant(spec),
      data: inputsArb(spec),
      schedule: dropoutScheduleArb(spec.n, spec.mode),
      order: messageOrderArb(),
    }),
  );
}

export interface Checked {
  result: InMemoryResult;
  predicted: 'completed' | 'aborted' | 'either';
}

/** Runs one scenario and checks correctness, abort and never-both; returns what happened. */
export function checkScenario(
  s: { spec: RoundSpec; data: { inputs: Float32Array[]; extra: number[][] }; schedule: ReadonlyMap<number, (typeof PHASES)[number]>; order: (p: (typeof PHASES)[number], xs: readonly number[]) => readonly number[] },
  provider: CryptoProvider,
): Checked {
  const { spec, data, schedule, order } = s;
  const fed = federationOf(spec, provider);
  const plan = planRound(fed.config);
  const encodings = new Map<number, Uint32Array>();
  const result = runRoundInMemory({
    config: plan,
    participants: fed.participants(data.inputs, data.extra),
    serverRng: seededRandom(`${spec.seed}/server`),
    dropouts: schedule,
    order,
    provider,
    observeEncoding: (i, e) => encodings.set(i, Uint32Array.from(e)),
  });
  const outlook = scheduleOutlook(spec, (i) => plan.neighbourhood(i), schedule);
  const { outcome } = result;

  // Never both: no owner ever has shares of its self-mask seed and of its mask key revealed.
  for (const [owner, r] of result.revealed) {
    expect(r.selfMask.length === 0 || r.maskKey.length === 0, `both secrets of ${owner} revealed`).toBe(true);
  }
  // No input is ever exposed alone: whoever's self-mask shares were revealed has a neighbour in U3.
  const u3 = new Set(result.server.sets.u3);
  for (const [owner, r] of result.revealed) {
    if (r.selfMask.length > 0) expect(plan.graph.neighbours(owner).some((v) => u3.has(v)), `input of ${owner} exposed`).toBe(true);
  }
  // The server never rejects an honest client's message.
  expect(result.serverRejections).toEqual([]);

  if (!outlook.keepsQuorum) {
    // Abort: below the quorum at some phase the round aborts there, or earlier.
    expect(outcome.status).toBe('aborted');
    if (outcome.status === 'aborted') {
      expect(PHASES.indexOf(outcome.phase)).toBeLessThanOrEqual(PHASES.indexOf(outlook.firstShortPhase as (typeof PHASES)[number]));
      // Nothing masked is revealed unless the round reached the unmask phase.
      if (outcome.phase !== 'unmask') expect(result.revealed.size).toBe(0);
    }
  }
  if (outlook.recoverable) expect(outcome.status, outcome.status === 'aborted' ? outcome.code : '').toBe('completed');

  if (outcome.status === 'completed') {
    // Correctness: the unmasked sum is exactly the contributors' encodings summed mod 2^b.
    const mod = 2 ** plan.bits;
    const sum = new Array<number>(plan.encodedLength).fill(0);
    const extra = new Array<number>(spec.extraCoordinates).fill(0);
    expect(outcome.u3).toEqual((outlook.alive.get('masked-input') as number[]).filter((u) => outcome.u2.includes(u)));
    for (const u of outcome.u3) {
      (encodings.get(u) as Uint32Array).forEach((x, i) => (sum[i] = ((sum[i] as number) + x) % mod));
      (data.extra[u] as number[]).forEach((x, i) => (extra[i] = ((extra[i] as number) + x) % mod));
    }
    expect(Array.from(outcome.sum)).toEqual(sum);
    expect(Array.from(outcome.extraSums)).toEqual(extra);
    // The aggregate is the DP decoding of that sum over |U3| contributors.
    const decoded = decodeSum(spec.dp, spec.dim, fed.config.roundSeed, Uint32Array.from(sum), outcome.u3.length, seededRandom('unused'));
    expect(Array.from(outcome.aggregate)).toEqual(Array.from(decoded));
    // U1 ⊇ U2 ⊇ U3 ⊇ U4.
    for (const [inner, outer] of [
      [outcome.u2, outcome.u1],
      [outcome.u3, outcome.u2],
      [outcome.u4, outcome.u3],
    ] as const) {
      expect(inner.every((x) => outer.includes(x))).toBe(true);
    }
    expect(outcome.u4.length).toBeGreaterThanOrEqual(plan.minSurvivors);
  }
  return { result, predicted: outlook.recoverable ? 'completed' : outlook.keepsQuorum ? 'either' : 'aborted' };
}

