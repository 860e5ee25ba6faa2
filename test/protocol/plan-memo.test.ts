import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { planRound, RoundConfigSchema, toWireConfig, type RoundConfig } from '../../src/protocol/config.js';
import { RoundPlanMemo } from '../../src/protocol/plan-memo.js';
import { testFederation } from '../../src/protocol/testing/fixtures.js';
import { FedveilError } from '../../src/secagg/util/errors.js';

/** A SecAgg+ round of 12, as each participant decodes it: its own copy of every field. */
function decoded(changes: Partial<RoundConfig> = {}): RoundConfig {
  const { config } = testFederation({ n: 12, threshold: 3, dim: 5, seed: 'plan-memo', mode: 'malicious', graph: { kind: 'secagg-plus', degree: 4 }, minSurvivors: 8 });
  return { ...structuredClone(config), binding: new Uint8Array(32).fill(7), ...changes };
}

const neighbourLists = (c: RoundConfig, plan = planRound(c)) => Array.from({ length: plan.n }, (_, i) => [...plan.graph.neighbours(i)]);

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'planned';
  } catch (e) {
    return e instanceof FedveilError ? e.code : String(e);
  }
}

describe('RoundPlanMemo (one plan per round for the participants of a process)', () => {
  it('plans once for configs equal in every field, each decoded on its own', () => {
    const memo = new RoundPlanMemo();
    const a = memo.plan(decoded());
    const b = memo.plan(decoded());
    expect(b).toBe(a);
    expect(neighbourLists(decoded(), a)).toEqual(neighbourLists(decoded()));
    expect(a.minSurvivors).toBe(planRound(decoded()).minSurvivors);
  });

  it('never hands one config the plan of another: a byte of a key, the seed, the binding or a number differs → its own plan', () => {
    const memo = new RoundPlanMemo();
    const base = memo.plan(decoded());
    const otherKey = decoded();
    (otherKey.participants[5] as Uint8Array)[31]! ^= 1;
    const seed = Uint8Array.from(decoded().roundSeed);
    seed[0]! ^= 1;
    const variants: RoundConfig[] = [
      otherKey,
      decoded({ roundSeed: seed }),
      decoded({ binding: new Uint8Array(32).fill(8) }),
      decoded({ minSurvivors: 9 }),
      decoded({ round: 2 }),
      decoded({ graph: { kind: 'secagg-plus', degree: 6 } }),
    ];
    for (const v of variants) {
      const plan = memo.plan(v);
      expect(plan).not.toBe(base);
      expect(plan.config).toEqual(v);
      expect(neighbourLists(v, plan)).toEqual(neighbourLists(v));
      expect(plan.minSurvivors).toBe(planRound(v).minSurvivors);
    }
    expect(neighbourLists(decoded({ roundSeed: seed }))).not.toEqual(neighbourLists(decoded()));
  });

  it('keeps its own copy: changing a config after it was planned does not change what is compared', () => {
    const memo = new RoundPlanMemo();
    const mine = decoded();
    const first = memo.plan(mine);
    (mine.participants[0] as Uint8Array)[0]! ^= 1;
    mine.roundSeed[3]! ^= 1;
    const again = memo.plan(mine);
    expect(again).not.toBe(first);
    expect(again.config.participants[0]).toEqual(mine.participants[0]);
    expect(neighbourLists(mine, again)).toEqual(neighbourLists(mine));
    expect(memo.plan(decoded())).toBe(first);
  });

  it('still refuses a config that breaks a rule, every time, after the valid one was planned', () => {
    const memo = new RoundPlanMemo();
    memo.plan(decoded());
    const twice = decoded();
    twice.participants = [...twice.participants.slice(0, 11), twice.participants[0] as Uint8Array];
    for (let i = 0; i < 2; i++) {
      expect(codeOf(() => memo.plan(decoded({ threshold: 6 })))).toBe('protocol/bad-config');
      expect(codeOf(() => memo.plan(decoded({ minSurvivors: 2 })))).toBe('protocol/bad-config');
      expect(codeOf(() => memo.plan(twice))).toBe('protocol/bad-config');
    }
    expect(codeOf(() => memo.plan(decoded()))).toBe('planned');
  });

  it('gives correct plans once its bounded memory is full', () => {
    const memo = new RoundPlanMemo(1);
    for (const round of [1, 2, 1, 3, 2]) {
      const c = decoded({ round });
      expect(memo.plan(c).config.round).toBe(round);
      expect(neighbourLists(c, memo.plan(c))).toEqual(neighbourLists(c));
    }
  });

  describe('decodeConfig (the announced config, decoded once per exact JSON)', () => {
    const wire = () => JSON.parse(JSON.stringify(toWireConfig(decoded()))) as Record<string, unknown>;
    const decode = (w: unknown) => z.decode(RoundConfigSchema, w as z.input<typeof RoundConfigSchema>);

    it('decodes one JSON once, into a frozen config equal to its own decoding', () => {
      const memo = new RoundPlanMemo();
      const a = memo.decodeConfig(wire());
      expect(memo.decodeConfig(wire())).toBe(a);
      expect(a).toEqual(decode(wire()));
      expect(() => (a!.participants as Uint8Array[]).push(new Uint8Array(32))).toThrow(TypeError);
    });

    it('never mixes JSON: a key changed in one hex digit is decoded as itself', () => {
      const memo = new RoundPlanMemo();
      const a = memo.decodeConfig(wire());
      const other = wire();
      const keys = other.participants as string[];
      keys[3] = (keys[3]![0] === 'a' ? 'b' : 'a') + keys[3]!.slice(1);
      const b = memo.decodeConfig(other);
      expect(b).not.toBe(a);
      expect(b).toEqual(decode(other));
      expect(memo.decodeConfig(wire())).toBe(a);
    });

    it('refuses a malformed config every time; a value that is not JSON is decoded itself, not looked up by its text', () => {
      const memo = new RoundPlanMemo();
      memo.decodeConfig(wire());
      for (let i = 0; i < 2; i++) {
        expect(memo.decodeConfig({ ...wire(), threshold: 1 })).toBeNull();
        expect(memo.decodeConfig({ ...wire(), roundSeed: 'zz' })).toBeNull();
        // JSON.stringify writes this as the valid config; the strict schema refuses its extra key.
        expect(memo.decodeConfig({ ...wire(), extra: undefined })).toBeNull();
      }
      expect(memo.decodeConfig(wire())).toEqual(decode(wire()));
    });
  });
});
