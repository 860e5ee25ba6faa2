import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { planRound, RoundConfigSchema, toWireConfig, type RoundConfig } from '../../src/protocol/config.js';
import type { ClientMessage, ServerMessage } from '../../src/protocol/messages.js';
import { testFederation } from '../../src/protocol/testing/fixtures.js';
import { IndexListSchema, IndexSchema, isIndexList, peerBytesListCodec, varBytesCodec } from '../../src/protocol/wire/codecs.js';
import { decodeClientMessage, decodeServerMessage, encodeClientMessage, encodeServerMessage, serverMessageJson } from '../../src/protocol/wire/serialize.js';
import { FedveilError } from '../../src/secagg/util/errors.js';
import { start, toClients, toServer, world } from './helpers.js';

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e instanceof FedveilError ? e.code : `foreign: ${String(e)}`;
  }
}

/** Every message type of a malicious-mode round, as actually exchanged. */
function transcript(): { client: ClientMessage[]; server: ServerMessage[] } {
  const w = world({ mode: 'malicious' });
  const client: ClientMessage[] = [];
  const server: ServerMessage[] = [];
  let msgs = start(w);
  for (;;) {
    client.push(...msgs.values());
    const out = toServer(w, msgs);
    if (out.size === 0) break;
    server.push(...out.values());
    msgs = toClients(w, out);
  }
  server.push({ type: 'round-aborted', header: { version: 1, federationId: 'f', round: 1, phase: 'unmask' }, code: 'protocol/quorum-not-met', reason: 'r' });
  return { client, server };
}

describe('wire codecs', () => {
  const { client, server } = transcript();

  it('round-trips every client message type through JSON (+ binary body)', () => {
    expect(new Set(client.map((m) => m.type))).toEqual(new Set(['advertise-keys', 'share-keys', 'masked-input', 'consistency-check', 'unmask']));
    for (const m of client) {
      const wire = encodeClientMessage(m);
      const json = JSON.parse(JSON.stringify(wire.json));
      expect(decodeClientMessage(json, wire.body)).toEqual(m);
      if (m.type === 'masked-input') expect(wire.body).toBe(m.vector);
      else expect(wire.body).toBeUndefined();
    }
  });

  it('round-trips every server message type', () => {
    expect(new Set(server.map((m) => m.type))).toEqual(new Set(['key-list', 'share-bundle', 'consistency-request', 'unmask-request', 'round-aborted']));
    for (const m of server) expect(decodeServerMessage(JSON.parse(JSON.stringify(encodeServerMessage(m))))).toEqual(m);
  });

  it('serverMessageJson is the JSON text of each server message, encoded once per message object', () => {
    for (const m of server) {
      const text = serverMessageJson(m);
      expect(text).toBe(JSON.stringify(encodeServerMessage(m)));
      expect(serverMessageJson(m)).toBe(text);
      // Another object with the same content is encoded afresh, to the same text.
      expect(serverMessageJson(structuredClone(m))).toBe(text);
    }
  });

  it('rejects bad JSON with codes, naming the field', () => {
    const ad = encodeClientMessage(client[0] as ClientMessage).json as Record<string, unknown>;
    expect(codeOf(() => decodeClientMessage({ ...ad, encryptionKey: 'ab' }))).toBe('protocol/malformed-message');
    expect(codeOf(() => decodeClientMessage({ ...ad, encryptionKey: (ad.encryptionKey as string).toUpperCase() }))).toBe('protocol/malformed-message');
    expect(codeOf(() => decodeClientMessage({ ...ad, more: 1 }))).toBe('protocol/malformed-message');
    expect(codeOf(() => decodeClientMessage({ ...ad, type: 'nope' }))).toBe('protocol/malformed-message');
    expect(codeOf(() => decodeClientMessage(ad, new Uint8Array(4)))).toBe('protocol/unexpected-body');
    try {
      decodeClientMessage({ ...ad, signature: 'zz' });
    } catch (e) {
      expect((e as Error).message).toContain('signature');
    }
    const masked = client.find((m) => m.type === 'masked-input') as ClientMessage;
    const mw = encodeClientMessage(masked);
    expect(codeOf(() => decodeClientMessage(mw.json))).toBe('protocol/missing-vector');
    expect(codeOf(() => decodeClientMessage(mw.json, (mw.body as Uint8Array).subarray(1)))).toBe('protocol/vector-size-mismatch');
    const list = encodeServerMessage(server[0] as ServerMessage) as Record<string, unknown>;
    expect(codeOf(() => decodeServerMessage({ ...list, u1: [2, 1] }))).toBe('protocol/malformed-message');
    expect(codeOf(() => decodeServerMessage({ ...list, u1: [1, 1] }))).toBe('protocol/malformed-message');
    expect(codeOf(() => decodeServerMessage({ ...list, u1: [-1] }))).toBe('protocol/malformed-message');
  });
});

describe('round config', () => {
  const base = testFederation({ n: 5, threshold: 3, dim: 4, seed: 'cfg' }).config;
  const planCode = (c: RoundConfig) => codeOf(() => planRound(c));

  it('round-trips through JSON', () => {
    const json = JSON.parse(JSON.stringify(z.encode(RoundConfigSchema, base as z.output<typeof RoundConfigSchema>)));
    expect(json).toEqual(toWireConfig(base));
    expect(z.decode(RoundConfigSchema, json)).toEqual(base);
  });

  it('refuses invalid rounds with codes', () => {
    expect(planCode(base)).toBe('ok');
    expect(planCode({ ...base, participants: [...base.participants.slice(0, 4), base.participants[0] as Uint8Array] })).toBe('protocol/bad-config');
    expect(planCode({ ...base, threshold: 6 })).toBe('protocol/bad-config');
    expect(planCode({ ...base, threshold: 1 })).toBe('protocol/bad-config');
    expect(planCode({ ...base, minSurvivors: 2 })).toBe('protocol/bad-config');
    expect(planCode({ ...base, minSurvivors: 6 })).toBe('protocol/bad-config');
    expect(planCode({ ...base, graph: { kind: 'secagg-plus', degree: 5 } })).toBe('protocol/bad-config');
    expect(planCode({ ...base, graph: { kind: 'secagg-plus', degree: 2 }, threshold: 4 })).toBe('protocol/bad-config');
    expect(planCode({ ...base, roundSeed: new Uint8Array(31) })).toBe('protocol/bad-config');
    expect(planCode({ ...base, federationId: '' })).toBe('protocol/bad-config');
    expect(planCode({ ...base, dp: { ...base.dp, bits: 8, scale: 1e-3 } })).toBe('dp/modulus-overflow');
    expect(planCode({ ...base, dp: { ...base.dp, mechanism: 'skellam', noiseMultiplier: 1, minContributors: 4 }, minSurvivors: 3 })).toBe('protocol/bad-config');
  });

  it('derives the quorum and the neighbourhoods', () => {
    const plan = planRound({ ...base, graph: { kind: 'secagg-plus', degree: 2 } });
    expect(plan.minSurvivors).toBe(3);
    for (let i = 0; i < 5; i++) {
      const h = plan.neighbourhood(i);
      expect(h).toContain(i);
      expect(h.length).toBe(3);
      for (const v of h) expect(plan.neighbourhood(v)).toContain(i);
    }
    expect(planRound({ ...base, dp: { ...base.dp, mechanism: 'skellam', noiseMultiplier: 1, minContributors: 4 } }).minSurvivors).toBe(4);
  });
});

describe('participant index lists', () => {
  it('accepts exactly the strictly increasing lists of integers in [0, 65535]', () => {
    const item = fc.oneof(fc.integer({ min: -3, max: 70_000 }), fc.double(), fc.constant('1'), fc.constant(null));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 30 }), (xs) => {
        const want = xs.every((x, i) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 65_535 && (i === 0 || x > (xs[i - 1] as number)));
        expect(isIndexList(xs)).toBe(want);
        expect(IndexListSchema.safeParse(xs).success).toBe(want);
      }),
      { numRuns: 500 },
    );
    expect(isIndexList([0, 1, 65_535])).toBe(true);
    expect(isIndexList([])).toBe(true);
    expect(isIndexList([1, 1])).toBe(false);
    expect(isIndexList([2, 1])).toBe(false);
    expect(isIndexList('0,1')).toBe(false);
    expect(isIndexList(Array.from({ length: 65_537 }, (_, i) => i))).toBe(false);
  });
});

describe('share lists', () => {
  // The per-entry formulation the one-loop codec replaces, as the reference: an object schema per
  // entry, exact keys, bytes as lower-case hex, a length cap and a sortedness refinement.
  const reference = (min: number, max: number, maxItems: number) =>
    z
      .array(z.object({ peer: IndexSchema, data: varBytesCodec(min, max) }).strict())
      .max(maxItems)
      .refine((xs) => xs.every((x, i) => i === 0 || x.peer > (xs[i - 1] as { peer: number }).peer));
  // Mostly well-formed entries with few distinct peers, so that sorted lists with repeats, and
  // lists that pass, are common; every kind of defect now and then.
  const peer = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 4 }) }, fc.constantFrom(-1, 65_535, 65_536, 1.5, '3', null));
  const rightLength = fc.uint8Array({ minLength: 2, maxLength: 4 });
  const anyLength = fc.uint8Array({ minLength: 0, maxLength: 6 });
  const hex = fc.oneof(
    { weight: 6, arbitrary: rightLength.map((b) => Buffer.from(b).toString('hex')) },
    anyLength.map((b) => Buffer.from(b).toString('hex')),
    fc.constantFrom('ABCD', 'abc', 'zz', 'ab cd'),
  );
  const bytes = fc.oneof({ weight: 6, arbitrary: rightLength }, anyLength, fc.constantFrom('abcd', [1, 2]));
  const entry = (data: fc.Arbitrary<unknown>) =>
    fc.oneof(
      { weight: 20, arbitrary: fc.record({ peer, data }) },
      fc.record({ peer, data, extra: fc.constant(1) }),
      fc.record({ peer }),
      fc.constantFrom(null, 7, []),
    );
  // zod runs a codec's transform on an entry whose in-memory check failed, so the per-entry
  // reference can throw (toHex of a string); that counts as a rejection. The codec must not throw.
  const outcome = (run: () => { success: boolean; data?: unknown }, mayThrow: boolean) => {
    try {
      const r = run();
      return r.success ? { ok: true, data: r.data } : { ok: false };
    } catch (e) {
      if (!mayThrow) throw e;
      return { ok: false };
    }
  };
  /** Lists of entries, half of them sorted by peer so that many are valid. */
  const list = (data: fc.Arbitrary<unknown>) =>
    fc.tuple(fc.array(entry(data), { maxLength: 7 }), fc.boolean()).map(([xs, sort]) => {
      const key = (x: unknown) => (typeof (x as { peer?: unknown } | null)?.peer === 'number' ? (x as { peer: number }).peer : -2);
      return sort ? [...xs].sort((a, b) => key(a) - key(b)) : xs;
    });
  const cases = [
    [2, 4, 3],
    [3, 3, 6],
  ] as const;

  it.each([
    ['decodes wire JSON', list(hex), z.safeDecode],
    ['encodes messages in memory', list(bytes), z.safeEncode],
  ] as const)('accepts, and %s, exactly as the per-entry schemas do', (_, lists, run) => {
    for (const [min, max, maxItems] of cases) {
      const codec = peerBytesListCodec('data', min, max, maxItems);
      fc.assert(
        fc.property(lists, (xs) => {
          const want = outcome(() => run(reference(min, max, maxItems) as never, xs as never), true);
          expect(outcome(() => run(codec as never, xs as never), false)).toEqual(want);
        }),
        { numRuns: 400 },
      );
    }
  });

  it('names the entry and the rule that failed', () => {
    const codec = peerBytesListCodec('share', 32, 32, 65_536);
    const message = (xs: unknown) => {
      const r = z.safeEncode(codec, xs as never);
      return r.success ? 'accepted' : (r.error.issues[0]?.message ?? '');
    };
    const share = new Uint8Array(32);
    expect(message([{ peer: 1, share }, { peer: 1, share }])).toBe('entry 1: entries must be sorted by peer, no repeats');
    expect(message([{ peer: 1, share: share.subarray(1) }])).toBe('entry 0: share must be 32 bytes');
    expect(message([{ peer: 1, share, more: 0 }])).toBe('entry 0: expected exactly the keys peer and share');
    expect(message([{ peer: 70_000, share }])).toBe('entry 0: peer must be an integer in [0, 65 535]');
    expect(message({ length: 0 })).toBe('expected an array');
    expect(message([{ peer: 1, share }])).toBe('accepted');
  });
});
