import { describe, expect, it } from 'vitest';
import { signMessage } from '../../src/protocol/canonical.js';
import { roundBinding } from '../../src/protocol/config.js';
import { PROTOCOL_VERSION } from '../../src/protocol/phases.js';
import type {
  AdvertiseKeysMessage,
  ClientMessage,
  ConsistencyCheckMessage,
  MaskedInputMessage,
  ServerMessage,
  ShareKeysMessage,
  UnmaskMessage,
} from '../../src/protocol/messages.js';
import type { CompletedOutcome } from '../../src/protocol/results.js';
import { ServerRound } from '../../src/protocol/server/server-round.js';
import { defaultProvider, fromHex, SHAMIR_PRIME } from '../../src/secagg/index.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { codeOf, start, toClients, toServer, world, type World } from './helpers.js';

/** Submits `bad`, expects the rejection `code`, and checks the server did not move. */
function expectRejected(w: World, bad: unknown, code: string): void {
  const before = `${w.server.status}/${w.server.submitted.join(',')}/${w.server.retainedBytes()}`;
  expect(codeOf(w.server.receive(bad as ClientMessage))).toBe(`rejected:${code}`);
  expect(`${w.server.status}/${w.server.submitted.join(',')}/${w.server.retainedBytes()}`).toBe(before);
}

/** Low-order X25519 public keys: u = 0, u = 1 and a point of order 8. */
const LOW_ORDER_POINTS = [
  new Uint8Array(32),
  Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0)),
  fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
];

function resign<M extends ClientMessage>(w: World, msg: M): M {
  const { signature: _, ...rest } = msg;
  return signMessage<M>(defaultProvider, (w.identities[msg.header.sender] as { secretKey: Uint8Array }).secretKey, rest as Omit<M, 'signature'>, roundBinding(w.plan.config));
}

describe('ServerRound rejects bad submissions with specific codes and unchanged state', () => {
  it('advertise-keys phase', () => {
    const w = world();
    const ads = start(w);
    const a0 = ads.get(0) as ClientMessage;
    expectRejected(w, 'junk', 'protocol/malformed-message');
    expectRejected(w, { ...a0, extra: 1 }, 'protocol/malformed-message');
    expectRejected(w, { ...a0, header: { ...a0.header, version: 1 } }, 'protocol/wrong-version');
    expectRejected(w, { ...a0, header: { ...a0.header, federationId: 'other' } }, 'protocol/wrong-federation');
    expectRejected(w, { ...a0, header: { ...a0.header, round: 4 } }, 'protocol/wrong-round');
    expectRejected(w, { ...a0, header: { ...a0.header, phase: 'share-keys' } }, 'protocol/wrong-phase');
    expectRejected(w, { ...a0, header: { ...a0.header, sender: 9 } }, 'protocol/unknown-sender');
    expectRejected(w, { ...a0, header: { ...a0.header, sender: 1 } }, 'protocol/bad-signature');
    expect(w.server.receive(a0).kind).toBe('accepted');
    expectRejected(w, a0, 'protocol/duplicate-submission');
  });

  it('advertise-keys phase: a key already advertised → protocol/duplicate-key', () => {
    const w = world();
    const ads = start(w) as Map<number, AdvertiseKeysMessage>;
    const a = (i: number) => ads.get(i) as AdvertiseKeysMessage;
    expectRejected(w, resign(w, { ...a(0), maskingKey: a(0).encryptionKey }), 'protocol/duplicate-key');
    expect(w.server.receive(a(0)).kind).toBe('accepted');
    expectRejected(w, resign(w, { ...a(1), encryptionKey: a(0).encryptionKey }), 'protocol/duplicate-key');
    expectRejected(w, resign(w, { ...a(1), maskingKey: a(0).maskingKey }), 'protocol/duplicate-key');
    expectRejected(w, resign(w, { ...a(1), encryptionKey: a(0).maskingKey }), 'protocol/duplicate-key');
    expectRejected(w, resign(w, { ...a(1), maskingKey: a(0).encryptionKey }), 'protocol/duplicate-key');
    expect(w.server.receive(a(1)).kind).toBe('accepted');
  });

  it('advertise-keys phase: a low-order X25519 key → protocol/low-order-key', () => {
    const w = world();
    const a0 = start(w).get(0) as AdvertiseKeysMessage;
    for (const point of LOW_ORDER_POINTS) {
      expectRejected(w, resign(w, { ...a0, encryptionKey: point }), 'protocol/low-order-key');
      expectRejected(w, resign(w, { ...a0, maskingKey: point }), 'protocol/low-order-key');
    }
    expect(w.server.receive(a0).kind).toBe('accepted');
  });

  it('share-keys phase: wrong recipients, stragglers from outside U1', () => {
    const w = world({ n: 5, t: 3 });
    const ads = start(w);
    ads.delete(4);
    toServer(w, ads);
    expect(w.server.deadline().kind).toBe('accepted');
    expect(w.server.status).toBe('share-keys');
    const late = w.clients[4]?.start();
    if (late?.kind !== 'send') throw new Error('no advert');
    expectRejected(w, late.message, 'protocol/wrong-phase');
    const lists = new Map([...w.server.expected].map((i) => [i, w.server.messageFor(i)!]));
    const shares = toClients(w, new Map([...lists].filter(([i]) => i !== 4)));
    const s0 = shares.get(0) as ShareKeysMessage;
    expectRejected(w, resign(w, { ...s0, shares: s0.shares.slice(1) }), 'protocol/share-recipients-mismatch');
    // Participant 4 never advertised, so it may not share.
    expectRejected(w, resign(w, { ...s0, header: { ...s0.header, sender: 4 } }), 'protocol/unexpected-sender');
  });

  it('masked-input phase: hash, length, bits', () => {
    const w = world();
    const masked = toClients(w, toServer(w, toClients(w, toServer(w, start(w)))));
    const m0 = masked.get(0) as MaskedInputMessage;
    const flipped = Uint8Array.from(m0.vector);
    flipped[0] = (flipped[0] as number) ^ 1;
    expectRejected(w, { ...m0, vector: flipped }, 'protocol/vector-hash-mismatch');
    expectRejected(w, resign(w, { ...m0, length: m0.length + 1 }), 'protocol/vector-length-mismatch');
    expectRejected(w, resign(w, { ...m0, bits: 31 }), 'protocol/wrong-bits');
    expectRejected(w, { ...m0, vector: undefined }, 'protocol/missing-vector');
    expect(w.server.receive(m0).kind).toBe('accepted');
  });

  it('consistency-check and unmask phases', () => {
    const w = world({ mode: 'malicious' });
    const checks = toClients(w, toServer(w, toClients(w, toServer(w, toClients(w, toServer(w, start(w)))))));
    const c0 = checks.get(0) as ConsistencyCheckMessage;
    expectRejected(w, resign(w, { ...c0, u3: [0, 1, 2] }), 'protocol/consistency-list-mismatch');
    const unmasks = toClients(w, toServer(w, checks));
    const u0 = unmasks.get(0) as UnmaskMessage;
    expectRejected(w, resign(w, { ...u0, selfMaskShares: u0.selfMaskShares.slice(1) }), 'protocol/unmask-shares-mismatch');
    expectRejected(w, resign(w, { ...u0, maskKeyShares: [{ peer: 1, share: new Uint8Array(32) }] }), 'protocol/unmask-shares-mismatch');
    expect(toServer(w, unmasks).size).toBe(0);
    expect(w.server.outcome?.status).toBe('completed');
    expectRejected(w, u0, 'protocol/round-finished');
    expect(codeOf(w.server.deadline())).toBe('rejected:protocol/round-finished');
  });
});

describe('ServerRound aborts cleanly', () => {
  it('below the quorum at advertise-keys: protocol/quorum-not-met, everyone told', () => {
    const w = world({ n: 4, t: 3 });
    const ads = start(w);
    w.server.receive(ads.get(0) as ClientMessage);
    w.server.receive(ads.get(1) as ClientMessage);
    const step = w.server.deadline();
    expect(step.kind === 'accepted' && step.outcome).toMatchObject({ status: 'aborted', phase: 'advertise-keys', code: 'protocol/quorum-not-met' });
    if (step.kind !== 'accepted') throw new Error('rejected');
    expect(step.outbox.map((o) => o.to)).toEqual([0, 1, 2, 3]);
    const told = w.clients[0]?.receive(step.outbox[0]!.message);
    expect(told).toMatchObject({ kind: 'aborted', code: 'protocol/quorum-not-met' });
    expect(w.clients[0]?.status).toBe('aborted');
  });

  it('below the quorum at masked-input: nothing is ever revealed', () => {
    const w = world({ n: 4, t: 3 });
    const masked = toClients(w, toServer(w, toClients(w, toServer(w, start(w)))));
    w.server.receive(masked.get(2) as ClientMessage);
    w.server.receive(masked.get(3) as ClientMessage);
    const step = w.server.deadline();
    expect(step.kind === 'accepted' && step.outcome).toMatchObject({ status: 'aborted', phase: 'masked-input', code: 'protocol/quorum-not-met' });
    for (const c of w.clients) expect(c.revealed.size).toBe(0);
  });

  it('a wrong mask-key share: protocol/reconstruction-mismatch', () => {
    const w = world({ n: 5, t: 3 });
    const masked = toClients(w, toServer(w, toClients(w, toServer(w, start(w)))));
    masked.delete(4);
    for (const m of masked.values()) w.server.receive(m);
    w.server.deadline();
    const requests = new Map([0, 1, 2, 3].map((i) => [i, w.server.messageFor(i)!]));
    const unmasks = toClients(w, requests);
    // Holders 0..2 suffice (t = 3); holder 0 lies about its share of 4's masking key.
    const u0 = unmasks.get(0) as UnmaskMessage;
    const lie = resign(w, { ...u0, maskKeyShares: u0.maskKeyShares.map((s) => ({ ...s, share: Uint8Array.from(s.share, (b, i) => (i === 0 ? b ^ 1 : b)) })) });
    w.server.receive(lie);
    w.server.receive(unmasks.get(1) as ClientMessage);
    w.server.receive(unmasks.get(2) as ClientMessage);
    const step = w.server.deadline();
    // Three shares for t = 3 leave nothing to correct with: the four who took part are suspects.
    expect(step.kind === 'accepted' && step.outcome).toMatchObject({
      status: 'aborted',
      phase: 'unmask',
      code: 'protocol/reconstruction-mismatch',
      suspects: [0, 1, 2, 4],
    });
  });

  it('too few holders of a sparse neighbourhood answer: protocol/unrecoverable-secret', () => {
    // n = 6, degree 2: each secret has 3 holders and t = 3, so one silent holder makes it unrecoverable.
    const w = world({ n: 6, t: 3, graph: { kind: 'secagg-plus', degree: 2 } });
    const masked = toClients(w, toServer(w, toClients(w, toServer(w, start(w)))));
    const unmasks = toClients(w, toServer(w, masked));
    unmasks.delete(0);
    for (const m of unmasks.values()) w.server.receive(m);
    const step = w.server.deadline();
    expect(step.kind === 'accepted' && step.outcome).toMatchObject({ status: 'aborted', phase: 'unmask', code: 'protocol/unrecoverable-secret' });
  });
});

describe('an input never unmasked alone', () => {
  it('a survivor whose neighbours all dropped: the server aborts (protocol/isolated-survivor), clients refuse such a U3', () => {
    const w = world({ n: 6, t: 2, graph: { kind: 'secagg-plus', degree: 2 } });
    const masked = toClients(w, toServer(w, toClients(w, toServer(w, start(w)))));
    const lonely = 0;
    const gone = w.plan.graph.neighbours(lonely);
    for (const [i, m] of masked) if (!gone.includes(i)) w.server.receive(m);
    expect(w.server.sets.u3).not.toContain(gone[0]);
    const step = w.server.deadline();
    expect(step.kind === 'accepted' && step.outcome).toMatchObject({ status: 'aborted', phase: 'masked-input', code: 'protocol/isolated-survivor' });
    for (const c of w.clients) expect(c.revealed.size).toBe(0);
    // A server that asks anyway is refused by every client it asks.
    const u3 = w.server.sets.u3 as number[];
    const header = { version: PROTOCOL_VERSION, federationId: w.plan.config.federationId, round: w.plan.config.round, phase: 'unmask' as const };
    for (const i of u3) {
      const r = w.clients[i]?.receive({ type: 'unmask-request', header, u3, dropped: [...gone], signatures: [] });
      expect(codeOf(r as never)).toBe('refused:protocol/isolated-survivor');
    }
  });
});

describe('ServerRound memory is O(d + n·k), not O(n·d)', () => {
  it('retained bytes grow with d once and with n only through shares', () => {
    const peak = (n: number, dim: number): number => {
      const w = world({ n, t: 3, dim, graph: { kind: 'secagg-plus', degree: 2 } });
      let max = 0;
      let msgs = start(w);
      while (w.server.status !== 'done') {
        for (const m of msgs.values()) {
          w.server.receive(m);
          max = Math.max(max, w.server.retainedBytes());
        }
        const out = new Map([...w.server.expected].map((i) => [i, w.server.messageFor(i)!]));
        if ((w.server.status as string) === 'done') break;
        msgs = toClients(w, out);
      }
      expect(w.server.outcome?.status).toBe('completed');
      return max;
    };
    const small = peak(6, 1000);
    const moreClients = peak(12, 1000);
    const longer = peak(6, 2000);
    // Doubling n adds only share storage (well under one vector); doubling d adds one vector.
    expect(moreClients - small).toBeLessThan(4 * 1000);
    expect(longer - small).toBeGreaterThanOrEqual(4 * 1000);
    expect(longer - small).toBeLessThan(4 * 1000 + 100);
  });

  it('messageFor returns what each participant must fetch next', () => {
    const w = world();
    expect(w.server.messageFor(0)).toBeUndefined();
    toServer(w, start(w));
    expect(w.server.messageFor(2)?.type).toBe('key-list');
    const s = new ServerRound(w.plan, { rng: seededRandom(1) });
    expect(s.status).toBe('advertise-keys');
    expect(s.expected).toEqual([0, 1, 2, 3]);
  });
});

/** y + delta mod p as a 32-byte little-endian share: a valid field element, but the wrong share. */
function shifted(y: Uint8Array, delta: bigint): Uint8Array {
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(y[i] as number);
  v = (v + delta) % SHAMIR_PRIME;
  return Uint8Array.from({ length: 32 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

/** The unmask requests of `w` and every client's honest answer, everyone having sent a masked input but `dropped`. */
function unmaskAnswers(w: World, dropped: number[] = []): Map<number, UnmaskMessage> {
  const masked = toClients(w, toServer(w, toClients(w, toServer(w, start(w)))));
  for (const d of dropped) masked.delete(d);
  for (const m of masked.values()) w.server.receive(m);
  if (w.server.status === 'masked-input') w.server.deadline();
  const requests = new Map(w.server.expected.map((i) => [i, w.server.messageFor(i) as ServerMessage]));
  return toClients(w, requests) as Map<number, UnmaskMessage>;
}

/** The outcome of an identical round in which everyone is honest. */
function honestOutcome(opts: Parameters<typeof world>[0], dropped: number[] = []): CompletedOutcome {
  const w = world(opts);
  toServer(w, unmaskAnswers(w, dropped));
  if (w.server.outcome?.status !== 'completed') throw new Error('the honest round did not complete');
  return w.server.outcome;
}

describe('a share holder cannot abort a round that t honest holders can complete', () => {
  it('an unmask share that is no field element is refused on receipt (protocol/bad-share); the others complete the round', () => {
    const opts = { n: 5, t: 3 };
    const w = world(opts);
    const answers = unmaskAnswers(w);
    const u0 = answers.get(0) as UnmaskMessage;
    const allOnes = new Uint8Array(32).fill(0xff);
    const bad = resign(w, { ...u0, selfMaskShares: u0.selfMaskShares.map((s, i) => (i === 2 ? { ...s, share: allOnes } : s)) });
    expectRejected(w, bad, 'protocol/bad-share');
    const step = w.server.receive(bad);
    expect(step.kind === 'rejected' && step.message).toMatch(/participant 0 .*participant 2/);
    for (const i of [1, 2, 3, 4]) expect(w.server.receive(answers.get(i) as ClientMessage).kind).toBe('accepted');
    const end = w.server.deadline();
    const outcome = end.kind === 'accepted' ? end.outcome : undefined;
    if (outcome?.status !== 'completed') throw new Error(`round did not complete: ${JSON.stringify(outcome)}`);
    expect(outcome.u4).toEqual([1, 2, 3, 4]);
    expect(outcome.dropouts.unmask).toEqual([0]);
    expect(Array.from(outcome.extraSums)).toEqual([0 + 1 + 2 + 3 + 4]);
    expect(Array.from(outcome.sum)).toEqual(Array.from(honestOutcome(opts).sum));
    expect(outcome.wrongShares).toEqual([]);
  });

  it('a refused holder is as one that has not answered: its valid answer is still accepted', () => {
    const w = world({ n: 5, t: 3 });
    const answers = unmaskAnswers(w);
    const u3 = answers.get(3) as UnmaskMessage;
    const p = SHAMIR_PRIME;
    const pBytes = Uint8Array.from({ length: 32 }, (_, i) => Number((p >> BigInt(8 * i)) & 0xffn));
    expectRejected(w, resign(w, { ...u3, selfMaskShares: u3.selfMaskShares.map((s, i) => (i === 0 ? { ...s, share: pBytes } : s)) }), 'protocol/bad-share');
    expect(toServer(w, answers).size).toBe(0);
    expect(w.server.outcome).toMatchObject({ status: 'completed', u4: [0, 1, 2, 3, 4], wrongShares: [] });
  });

  it('wrong but well-formed shares are found and excluded: the sum is right and their holders are named', () => {
    // n = 6, t = 3, participant 5 drops after sharing: every secret has 5 shares, so one wrong one is corrected.
    const opts = { n: 6, t: 3 };
    const w = world(opts);
    const answers = unmaskAnswers(w, [5]);
    const u1 = answers.get(1) as UnmaskMessage;
    const u3 = answers.get(3) as UnmaskMessage;
    answers.set(1, resign(w, { ...u1, maskKeyShares: u1.maskKeyShares.map((s) => ({ ...s, share: shifted(s.share, 1n) })) }));
    answers.set(3, resign(w, { ...u3, selfMaskShares: u3.selfMaskShares.map((s) => (s.peer === 0 ? { ...s, share: shifted(s.share, 12345n) } : s)) }));
    toServer(w, answers);
    const outcome = w.server.outcome;
    if (outcome?.status !== 'completed') throw new Error(`round did not complete: ${JSON.stringify(outcome)}`);
    expect(outcome.u3).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(outcome.extraSums)).toEqual([0 + 1 + 2 + 3 + 4]);
    expect(Array.from(outcome.sum)).toEqual(Array.from(honestOutcome(opts, [5]).sum));
    expect(outcome.wrongShares).toEqual([
      { holder: 1, owner: 5, secret: 'mask-key' },
      { holder: 3, owner: 0, secret: 'self-mask' },
    ]);
  });

  it('more wrong shares than can be corrected abort with protocol/inconsistent-shares, naming the suspects', () => {
    // Five shares of b_2 correct one wrong share; two holders lie.
    const w = world({ n: 5, t: 3 });
    const answers = unmaskAnswers(w);
    for (const h of [0, 4]) {
      const u = answers.get(h) as UnmaskMessage;
      answers.set(h, resign(w, { ...u, selfMaskShares: u.selfMaskShares.map((s) => (s.peer === 2 ? { ...s, share: shifted(s.share, BigInt(h + 7)) } : s)) }));
    }
    toServer(w, answers);
    expect(w.server.outcome).toMatchObject({ status: 'aborted', phase: 'unmask', code: 'protocol/inconsistent-shares', suspects: [0, 1, 2, 3, 4] });
  });

  it('with exactly t shares a wrong self-mask share cannot be corrected, but its seed no longer fits 248 bits: abort, not a wrong sum', () => {
    const w = world({ n: 5, t: 3 });
    const answers = unmaskAnswers(w);
    const u0 = answers.get(0) as UnmaskMessage;
    // Holders 0, 1, 2 (x = 1, 2, 3): λ_1 = 3, so b_4 moves by 3·2^250, far past 2^248.
    w.server.receive(resign(w, { ...u0, selfMaskShares: u0.selfMaskShares.map((s) => (s.peer === 4 ? { ...s, share: shifted(s.share, 1n << 250n) } : s)) }));
    w.server.receive(answers.get(1) as ClientMessage);
    w.server.receive(answers.get(2) as ClientMessage);
    const step = w.server.deadline();
    expect(step.kind === 'accepted' && step.outcome).toMatchObject({ status: 'aborted', code: 'protocol/inconsistent-shares', suspects: [0, 1, 2, 4] });
  });
});
