import { describe, expect, it } from 'vitest';
import { AsyncGroups } from '../../src/server/async-groups.js';
import { groupProblems, ownGroupWeight, stalenessWeight, weightedUpdate } from '../../src/server/async-staleness.js';
import { parseFederationConfig } from '../../src/server/config.js';
import { HttpError } from '../../src/server/http-errors.js';

const rules = { maxStaleness: 3, staleness: { function: 'polynomial' as const, exponent: 0.5 } };

function groups(groupSize: number, more: Partial<ConstructorParameters<typeof AsyncGroups>[0]> = {}) {
  const events: string[] = [];
  const g = new AsyncGroups({ groupSize, ...rules, formationTimeoutMs: 20, onFormable: () => events.push('formable'), onDissolved: (n) => events.push(`dissolved ${n}`), ...more });
  return { g, events };
}

describe('asynchronous groups', () => {
  it('forms each group from the first K ready, in announcement order, with FedBuff weights', () => {
    const { g, events } = groups(2);
    g.announce('a', 5, 7);
    expect(g.take(7)).toBeNull();
    g.announce('b', 7, 7);
    g.announce('c', 6, 7);
    expect(events).toEqual(['formable', 'formable']);
    const formed = g.take(7);
    g.stop();
    expect(formed?.members).toEqual(['a', 'b']);
    expect(formed?.group).toEqual({ modelVersion: 7, trainedOn: [5, 7], weights: [Math.pow(3, -0.5), 1] });
    expect(g.isReady('c')).toBe(true);
  });

  it('refuses an update staler than the bound, or trained on an unpublished version, with their codes', () => {
    const { g } = groups(2);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof HttpError ? e.code : String(e);
      }
      return 'accepted';
    };
    expect(code(() => g.announce('a', 3, 7))).toBe('coordinator/stale-update');
    expect(code(() => g.announce('a', 8, 7))).toBe('coordinator/unpublished-version');
    expect(code(() => g.announce('a', 4, 7))).toBe('accepted');
    g.stop();
  });

  it('drops members that went stale while they waited', () => {
    const { g } = groups(2);
    g.announce('a', 0, 0);
    g.announce('b', 2, 2);
    g.announce('c', 2, 2);
    expect(g.take(4)?.members).toEqual(['b', 'c']);
    expect(g.isReady('a')).toBe(false);
    g.stop();
  });

  it('dissolves a group that cannot form in time; its members stay ready for the next', async () => {
    const { g, events } = groups(3);
    g.announce('a', 0, 0);
    g.announce('b', 0, 0);
    await new Promise((r) => setTimeout(r, 60));
    expect(events[0]).toBe('dissolved 2');
    expect(g.dissolved).toBeGreaterThanOrEqual(1);
    g.announce('c', 0, 0);
    expect(g.take(0)?.members).toEqual(['a', 'b', 'c']);
    g.stop();
  });
});

describe('staleness weights', () => {
  it('polynomial (1 + τ)^(−a) and constant', () => {
    expect(stalenessWeight({ function: 'polynomial', exponent: 0.5 }, 0)).toBe(1);
    expect(stalenessWeight({ function: 'polynomial', exponent: 1 }, 3)).toBe(0.25);
    expect(stalenessWeight({ function: 'constant' }, 9)).toBe(1);
  });

  it('a participant refuses a group that states another version, a wrong weight or a stale update', () => {
    const group = { modelVersion: 5, trainedOn: [4, 5], weights: [Math.pow(2, -0.5), 1] };
    expect(ownGroupWeight(group, 0, 4, rules)).toEqual({ ok: true, weight: Math.pow(2, -0.5) });
    expect(ownGroupWeight({ ...group, weights: [1, 1] }, 0, 4, rules)).toMatchObject({ ok: false, code: 'client/staleness-weight-mismatch' });
    expect(ownGroupWeight(group, 0, 3, rules)).toMatchObject({ ok: false, code: 'client/staleness-weight-mismatch' });
    expect(ownGroupWeight({ modelVersion: 9, trainedOn: [4], weights: [0.4] }, 0, 4, rules)).toMatchObject({ ok: false, code: 'client/stale-update' });
    expect(ownGroupWeight(undefined, 0, 4, rules)).toMatchObject({ ok: false, code: 'client/no-group' });
  });

  it('the verifier rules: stale members and wrong weights', () => {
    const codes = (g: Parameters<typeof groupProblems>[0]) => groupProblems(g, rules, 2, 5).map((p) => p.code);
    expect(codes({ modelVersion: 5, trainedOn: [4, 5], weights: [Math.pow(2, -0.5), 1] })).toEqual([]);
    expect(codes({ modelVersion: 5, trainedOn: [1, 5], weights: [Math.pow(5, -0.5), 1] })).toEqual(['stale-member']);
    expect(codes({ modelVersion: 5, trainedOn: [4, 5], weights: [0.5, 1] })).toEqual(['staleness-weight-mismatch']);
  });

  it('a weighted update is the clipped update times its weight, never above the clip norm', () => {
    const u = weightedUpdate(new Float32Array([3, 4]), 1, 0.5);
    expect(Math.hypot(u[0]!, u[1]!)).toBeCloseTo(0.5, 6);
    expect(Array.from(weightedUpdate(new Float32Array([0.3, 0.4]), 1, 0.5))).toEqual([Math.fround(0.15), Math.fround(0.2)]);
  });
});

describe('asynchronous federation config', () => {
  const base = {
    federationId: 'f',
    participants: ['a', 'b', 'c'].map((c) => c.repeat(64)),
    rounds: 2,
    threshold: 2,
    dp: { mechanism: 'none', clipNorm: 1, bits: 16, scale: 0.01 },
    model: { name: 'test' },
    dim: 4,
    storage: { path: ':memory:' },
  };
  it('takes K from cohort.size and fills FedBuff defaults', () => {
    const c = parseFederationConfig({ ...base, cohort: { size: 2 }, async: {} });
    expect(c.async).toEqual({ maxStaleness: 10, staleness: { function: 'polynomial', exponent: 0.5 }, formationTimeoutMs: 60_000 });
  });
  it('refuses a sampling rate instead of a group size', () => {
    expect(() => parseFederationConfig({ ...base, cohort: { samplingRate: 0.5 }, async: {} })).toThrow(/cohort\.size/);
  });
});
