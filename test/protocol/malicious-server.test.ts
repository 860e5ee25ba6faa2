import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signMessage } from '../../src/protocol/canonical.js';
import { ClientRound } from '../../src/protocol/client/client-round.js';
import { planRound, roundBinding, type RoundPlan } from '../../src/protocol/config.js';
import {
  SERVER_MESSAGE_PHASE,
  type AdvertiseKeysMessage,
  type ClientMessage,
  type ConsistencyRequestMessage,
  type EncryptedShare,
  type KeyListMessage,
  type ServerMessage,
  type ShareBundleMessage,
  type UnmaskRequestMessage,
} from '../../src/protocol/messages.js';
import type { Phase, RoundMode } from '../../src/protocol/phases.js';
import type { ClientStep, Outgoing } from '../../src/protocol/results.js';
import { ServerRound } from '../../src/protocol/server/server-round.js';
import { federationOf, roundSpecArb } from '../../src/protocol/testing/arbitraries.js';
import { testFederation, type TestFederation } from '../../src/protocol/testing/fixtures.js';
import { defaultProvider, toHex, type KeyPair } from '../../src/secagg/index.js';
import { seededRandom } from '../../src/secagg/util/random.js';

/**
 * A scripted adversarial server, with the real curves: it runs the honest server until a chosen
 * phase, then sends crafted requests. Every honest client must refuse (or reject, for replays)
 * with the specific code, and no client ever reveals both shares of one peer.
 */

const N = 5;

interface World {
  plan: RoundPlan;
  server: ServerRound;
  clients: ClientRound[];
  /** Long-term keys, so that a test can sign as a participant colluding with the server. */
  identities: KeyPair[];
}

function world(mode: RoundMode, round = 7, seed = 'adversary'): World {
  return worldOf(testFederation({ n: N, threshold: 3, dim: 4, mode, seed, round, extraCoordinates: 1 }), String(seed));
}

function worldOf(fed: TestFederation, seed: string): World {
  const plan = planRound(fed.config);
  const server = new ServerRound(plan, { rng: seededRandom('server') });
  const clients = fed.identities.map(
    (id, index) =>
      new ClientRound(plan, {
        index,
        identitySecretKey: id.secretKey,
        input: Float32Array.from({ length: plan.config.dim }, (_, i) => (i === 0 ? index : i)),
        extra: Array.from({ length: plan.config.extraCoordinates }, () => 1),
        rng: seededRandom(`${seed}/client/${index}`),
      }),
  );
  return { plan, server, clients, identities: fed.identities };
}

/** Runs the honest protocol until the server emits its requests for `stop`; returns them undelivered. */
function honestUntil(w: World, stop: Phase): Map<number, ServerMessage> {
  let pending: ClientMessage[] = w.clients.map((c) => {
    const s = c.start();
    if (s.kind !== 'send') throw new Error('client did not start');
    return s.message;
  });
  for (;;) {
    let outbox: { to: number; message: ServerMessage }[] = [];
    for (const m of pending) {
      const step = w.server.receive(m);
      if (step.kind !== 'accepted') throw new Error(`honest message rejected: ${step.code}`);
      if (step.outbox.length > 0) outbox = step.outbox;
    }
    const first = outbox[0]?.message;
    if (!first || first.type === 'round-aborted') throw new Error('round did not advance');
    if (SERVER_MESSAGE_PHASE[first.type] === stop) return new Map(outbox.map((o) => [o.to, o.message]));
    pending = outbox.map(({ to, message }) => {
      const s = w.clients[to]?.receive(message) as ClientStep;
      if (s.kind !== 'send') throw new Error(`honest request refused: ${s.code}`);
      return s.message;
    });
  }
}

function expectRefused(step: ClientStep, code: string): void {
  expect(step.kind === 'send' ? 'send' : `${step.kind}:${step.code}`).toBe(`refused:${code}`);
}

function expectNeverBoth(w: World): void {
  for (let v = 0; v < N; v++) {
    const kinds = new Set(w.clients.map((c) => c.revealed.get(v)).filter((k) => k !== undefined));
    expect(kinds.size, `both shares of ${v} revealed`).toBeLessThanOrEqual(1);
  }
}

describe('malicious server: every honest client refuses', () => {
  it('asks for the other share of a peer after one was revealed → protocol/both-shares-requested', () => {
    const w = world('semi-honest');
    const requests = honestUntil(w, 'unmask');
    for (const [to, m] of requests) expect(w.clients[to]?.receive(m).kind).toBe('send');
    // Now claim participant 4 dropped after all, to get its mask key too.
    for (const [to, m] of requests) {
      const r = m as UnmaskRequestMessage;
      const forged: UnmaskRequestMessage = { ...r, u3: r.u3.filter((v) => v !== 4), dropped: [4] };
      expectRefused(w.clients[to]?.receive(forged) as ClientStep, 'protocol/both-shares-requested');
    }
    expectNeverBoth(w);
  });

  it('asks for both shares of a peer in one request → protocol/peer-in-two-lists', () => {
    const w = world('semi-honest');
    for (const [to, m] of honestUntil(w, 'unmask')) {
      const r = m as UnmaskRequestMessage;
      expectRefused(w.clients[to]?.receive({ ...r, dropped: [2] }) as ClientStep, to === 2 ? 'protocol/live-client-claimed-dropped' : 'protocol/peer-in-two-lists');
      expect(w.clients[to]?.revealed.size).toBe(0);
    }
  });

  it('shows different U3 to different clients in the consistency check → bad-signature / consistency-below-threshold', () => {
    const w = world('malicious');
    const requests = honestUntil(w, 'consistency-check');
    // Group A = {0, 1} is told U3 = {0,1,2,3}; group B = {2, 3, 4} is told the true U3 = {0..4}.
    const signatures = new Map<number, Uint8Array>();
    const told = new Map<number, number[]>();
    for (const [to, m] of requests) {
      const u3 = to < 2 ? [0, 1, 2, 3] : [0, 1, 2, 3, 4];
      told.set(to, u3);
      const s = w.clients[to]?.receive({ ...(m as ConsistencyRequestMessage), u3 }) as ClientStep;
      if (s.kind !== 'send' || s.message.type !== 'consistency-check') throw new Error('client did not sign');
      signatures.set(to, s.message.signature);
    }
    const header = { ...(requests.get(0) as ServerMessage).header, phase: 'unmask' as const };
    for (let to = 0; to < N; to++) {
      const u3 = told.get(to) as number[];
      // Group A only gets the two signatures that really are over its U3; group B gets all five.
      const signers = to < 2 ? [0, 1] : [0, 1, 2, 3, 4];
      const forged: UnmaskRequestMessage = {
        type: 'unmask-request',
        header,
        u3,
        dropped: to < 2 ? [4] : [],
        signatures: signers.map((signer) => ({ signer, signature: signatures.get(signer) as Uint8Array })),
      };
      expectRefused(w.clients[to]?.receive(forged) as ClientStep, to < 2 ? 'protocol/consistency-below-threshold' : 'protocol/bad-signature');
    }
    expectNeverBoth(w);
    for (const c of w.clients) expect(c.revealed.size).toBe(0);
  });

  it('shows a U3 other than the signed one at unmask → protocol/list-changed', () => {
    const w = world('malicious');
    const checks = honestUntil(w, 'consistency-check');
    const pending: ClientMessage[] = [];
    for (const [to, m] of checks) {
      const s = w.clients[to]?.receive(m) as ClientStep;
      if (s.kind === 'send') pending.push(s.message);
    }
    let unmask: UnmaskRequestMessage | undefined;
    for (const m of pending) {
      const step = w.server.receive(m);
      if (step.kind === 'accepted' && step.outbox.length > 0) unmask = step.outbox[0]?.message as UnmaskRequestMessage;
    }
    if (!unmask) throw new Error('no unmask request');
    // Drop participant 3 from U3 for everyone but itself, keeping the real signatures.
    for (let to = 0; to < N; to++) {
      const forged = { ...unmask, u3: unmask.u3.filter((v) => v !== 3), dropped: [3] };
      expectRefused(w.clients[to]?.receive(forged) as ClientStep, to === 3 ? 'protocol/live-client-claimed-dropped' : 'protocol/list-changed');
    }
    for (const c of w.clients) expect(c.revealed.size).toBe(0);
  });

  it('swaps a public key in the key list → protocol/bad-signature', () => {
    const w = world('malicious');
    const evil = defaultProvider.x25519Keygen(seededRandom('evil')).publicKey;
    for (const [to, m] of honestUntil(w, 'share-keys')) {
      const r = m as KeyListMessage;
      const advertisements = r.advertisements.map((a) => (a.header.sender === (to + 1) % N ? { ...a, maskingKey: evil } : a));
      expectRefused(w.clients[to]?.receive({ ...r, advertisements }) as ClientStep, 'protocol/bad-signature');
    }
  });

  it("replays an old round's messages → protocol/wrong-round (rejected) and nested replays refused", () => {
    const old = world('malicious', 6);
    const oldKeyLists = honestUntil(old, 'share-keys');
    const w = world('malicious', 7);
    const current = honestUntil(w, 'share-keys');
    for (const [to, m] of oldKeyLists) {
      const step = w.clients[to]?.receive(m) as ClientStep;
      expect(step.kind === 'send' ? 'send' : `${step.kind}:${step.code}`).toBe('rejected:protocol/wrong-round');
      expect(w.clients[to]?.status).toBe('share-keys');
    }
    // The same old advertisements relabelled as this round's key list: the signatures bind round 6.
    for (const [to, m] of current) {
      const forged = { ...(m as KeyListMessage), advertisements: (oldKeyLists.get(to) as KeyListMessage).advertisements };
      expectRefused(w.clients[to]?.receive(forged) as ClientStep, 'protocol/wrong-round');
    }
  });

  it('claims a live client dropped → protocol/live-client-claimed-dropped', () => {
    const w = world('semi-honest');
    for (const [to, m] of honestUntil(w, 'unmask')) {
      if (to !== 1) continue;
      const r = m as UnmaskRequestMessage;
      const forged = { ...r, u3: r.u3.filter((v) => v !== 1), dropped: [1] };
      expectRefused(w.clients[1]?.receive(forged) as ClientStep, 'protocol/live-client-claimed-dropped');
      expect(w.clients[1]?.revealed.size).toBe(0);
    }
  });

  it('a refusing client stays out: later honest requests are rejected with protocol/round-finished', () => {
    const w = world('semi-honest');
    const requests = honestUntil(w, 'unmask');
    const r = requests.get(0) as UnmaskRequestMessage;
    expectRefused(w.clients[0]?.receive({ ...r, dropped: [0] }) as ClientStep, 'protocol/live-client-claimed-dropped');
    const again = w.clients[0]?.receive(r) as ClientStep;
    expect(again.kind === 'send' ? 'send' : `${again.kind}:${again.code}`).toBe('rejected:protocol/round-finished');
    expect(w.clients[0]?.status).toBe('aborted');
    expect(w.clients[0]?.failure?.code).toBe('protocol/live-client-claimed-dropped');
  });

  it('an identical repeated request is answered identically (safe retry), never with new secrets', () => {
    const w = world('semi-honest');
    for (const [to, m] of honestUntil(w, 'unmask')) {
      const a = w.clients[to]?.receive(m) as ClientStep;
      const b = w.clients[to]?.receive(structuredClone(m)) as ClientStep;
      expect(a.kind).toBe('send');
      expect(b).toEqual(a);
    }
  });
});

/** `ad` with `changes`, signed by its sender: an advertisement a participant colluding with the server would sign. */
function resignedBy(w: World, ad: AdvertiseKeysMessage, changes: Partial<Pick<AdvertiseKeysMessage, 'encryptionKey' | 'maskingKey'>>): AdvertiseKeysMessage {
  const { signature: _, ...rest } = ad;
  return signMessage<AdvertiseKeysMessage>(defaultProvider, (w.identities[ad.header.sender] as KeyPair).secretKey, { ...rest, ...changes }, roundBinding(w.plan.config));
}

/** `list` with the advertisement of `forged.header.sender` replaced by `forged` (if the list has one). */
function withAdvertisement(list: KeyListMessage, forged: AdvertiseKeysMessage): KeyListMessage {
  return { ...list, advertisements: list.advertisements.map((a) => (a.header.sender === forged.header.sender ? forged : a)) };
}

const KEY_FIELDS = ['encryptionKey', 'maskingKey'] as const;

/** Whether some key appears twice in the list (two entries, or both keys of one entry). */
function hasRepeatedKey(list: KeyListMessage): boolean {
  const keys = list.advertisements.flatMap((a) => [toHex(a.encryptionKey), toHex(a.maskingKey)]);
  return new Set(keys).size < keys.length;
}

/**
 * Delivers `outbox` and runs the rest of the round with the honest server (a deadline whenever a
 * phase stalls). Returns the types of the messages each client sent.
 */
function drive(w: World, outbox: readonly Outgoing[]): Map<number, ClientMessage['type'][]> {
  const sentBy = new Map<number, ClientMessage['type'][]>();
  let pending = outbox;
  for (let guard = 0; w.server.status !== 'done' && guard < 20; guard++) {
    let next: readonly Outgoing[] = [];
    for (const { to, message } of pending) {
      const answer = (w.clients[to] as ClientRound).receive(message);
      if (answer.kind !== 'send') continue;
      sentBy.set(to, [...(sentBy.get(to) ?? []), answer.message.type]);
      const step = w.server.receive(answer.message);
      if (step.kind === 'accepted' && step.outbox.length > 0) next = step.outbox;
    }
    if (next.length === 0) {
      const step = w.server.deadline();
      if (step.kind === 'accepted') next = step.outbox;
    }
    pending = next;
  }
  return sentBy;
}

describe('malicious server with a colluding participant: a key shown twice in a key list', () => {
  it('property: a client shown a key twice refuses (protocol/duplicate-key) and never sends shares or a masked input; the others go on', () => {
    const seen = { within: 0, across: 0, unaffected: 0 };
    fc.assert(
      fc.property(
        roundSpecArb({ maxN: 6, maxDim: 4 }),
        fc.record({ corrupt: fc.nat(), source: fc.nat(), from: fc.constantFrom(...KEY_FIELDS), into: fc.constantFrom(...KEY_FIELDS) }),
        (spec, r) => {
          const w = worldOf(federationOf(spec), `reuse/${spec.seed}`);
          const corrupt = r.corrupt % w.plan.n;
          const source = r.source % w.plan.n;
          // Copying a key onto itself changes nothing: within one entry, copy the other key.
          const into = source === corrupt && r.from === r.into ? (KEY_FIELDS.find((f) => f !== r.from) as (typeof KEY_FIELDS)[number]) : r.into;
          seen[source === corrupt ? 'within' : 'across']++;
          const ads = new Map<number, AdvertiseKeysMessage>();
          let lists: readonly Outgoing[] = [];
          w.clients.forEach((c, i) => {
            const s = c.start();
            if (s.kind !== 'send' || s.message.type !== 'advertise-keys') throw new Error('client did not advertise');
            ads.set(i, s.message);
            const step = w.server.receive(s.message);
            if (step.kind === 'accepted' && step.outbox.length > 0) lists = step.outbox;
          });
          // The server forwards, as the corrupt participant's advertisement, one it signed with a
          // key of `source` in it; the corrupt participant itself goes on with its real keys.
          const forged = resignedBy(w, ads.get(corrupt) as AdvertiseKeysMessage, { [into]: (ads.get(source) as AdvertiseKeysMessage)[r.from] });
          const shown = new Set<number>();
          const outbox = lists.map(({ to, message }) => {
            if (to === corrupt) return { to, message };
            const list = withAdvertisement(message as KeyListMessage, forged);
            if (hasRepeatedKey(list)) shown.add(to);
            return { to, message: list };
          });
          const sentBy = drive(w, outbox);
          for (let u = 0; u < w.plan.n; u++) {
            if (u === corrupt) continue;
            const client = w.clients[u] as ClientRound;
            if (shown.has(u)) {
              expect(client.failure?.code).toBe('protocol/duplicate-key');
              expect(sentBy.get(u) ?? []).toEqual([]);
            } else {
              seen.unaffected++;
              expect(sentBy.get(u)?.[0]).toBe('share-keys');
            }
          }
          // In the complete graph every key list shows the corrupt participant's entry.
          if (spec.graph.kind === 'complete') expect(shown.size).toBe(w.plan.n - 1);
        },
      ),
      { numRuns: 100 },
    );
    expect(seen.within).toBeGreaterThan(0);
    expect(seen.across).toBeGreaterThan(0);
    expect(seen.unaffected).toBeGreaterThan(0);
  });

  it('a peer whose encryption and masking keys are equal → protocol/duplicate-key', () => {
    const w = world('semi-honest');
    const lists = honestUntil(w, 'share-keys');
    const ad4 = (lists.get(0) as KeyListMessage).advertisements[4] as AdvertiseKeysMessage;
    const forged = resignedBy(w, ad4, { encryptionKey: ad4.maskingKey });
    for (const to of [0, 1, 2, 3]) expectRefused(w.clients[to]?.receive(withAdvertisement(lists.get(to) as KeyListMessage, forged)) as ClientStep, 'protocol/duplicate-key');
  });

  it("a peer's entry carrying one of my own keys → protocol/duplicate-key", () => {
    for (const field of ['encryptionKey', 'maskingKey'] as const) {
      const w = world('semi-honest');
      const lists = honestUntil(w, 'share-keys');
      for (const to of [0, 1, 2, 3]) {
        const list = lists.get(to) as KeyListMessage;
        const forged = resignedBy(w, list.advertisements[4] as AdvertiseKeysMessage, { [field]: (list.advertisements[to] as AdvertiseKeysMessage)[field] });
        expectRefused(w.clients[to]?.receive(withAdvertisement(list, forged)) as ClientStep, 'protocol/duplicate-key');
      }
    }
  });
});

describe('malicious server: an index ≥ n in any list → protocol/unknown-participant', () => {
  const refusesEach = (mode: RoundMode, phase: Phase, forge: (m: ServerMessage) => ServerMessage) => {
    const w = world(mode);
    for (const [to, m] of honestUntil(w, phase)) {
      expectRefused(w.clients[to]?.receive(forge(m)) as ClientStep, 'protocol/unknown-participant');
      expect(w.clients[to]?.revealed.size).toBe(0);
    }
  };

  it('U1 and the senders of the advertisements in a key list', () => {
    refusesEach('semi-honest', 'share-keys', (m) => ({ ...(m as KeyListMessage), u1: [...(m as KeyListMessage).u1, N] }));
    refusesEach('semi-honest', 'share-keys', (m) => {
      const r = m as KeyListMessage;
      const last = r.advertisements[r.advertisements.length - 1] as AdvertiseKeysMessage;
      return { ...r, advertisements: [...r.advertisements, { ...last, header: { ...last.header, sender: N } }] };
    });
  });

  it('U2 and the senders of the shares in a share bundle', () => {
    refusesEach('semi-honest', 'masked-input', (m) => ({ ...(m as ShareBundleMessage), u2: [...(m as ShareBundleMessage).u2, N] }));
    refusesEach('semi-honest', 'masked-input', (m) => {
      const r = m as ShareBundleMessage;
      return { ...r, shares: [...r.shares, { peer: N, ciphertext: (r.shares[0] as EncryptedShare).ciphertext }] };
    });
  });

  it('U3 of a consistency request', () => {
    refusesEach('malicious', 'consistency-check', (m) => ({ ...(m as ConsistencyRequestMessage), u3: [...(m as ConsistencyRequestMessage).u3, N] }));
  });

  it('U3, the dropped list and the consistency signers of an unmask request', () => {
    refusesEach('semi-honest', 'unmask', (m) => ({ ...(m as UnmaskRequestMessage), u3: [...(m as UnmaskRequestMessage).u3, N] }));
    refusesEach('semi-honest', 'unmask', (m) => ({ ...(m as UnmaskRequestMessage), dropped: [N + 1] }));
    refusesEach('malicious', 'unmask', (m) => {
      const r = m as UnmaskRequestMessage;
      return { ...r, signatures: [...r.signatures, { signer: N, signature: (r.signatures[0] as { signature: Uint8Array }).signature }] };
    });
  });

  it('a repeated request for an answered phase', () => {
    const w = world('semi-honest');
    for (const [to, m] of honestUntil(w, 'unmask')) {
      expect(w.clients[to]?.receive(m).kind).toBe('send');
      const r = m as UnmaskRequestMessage;
      expectRefused(w.clients[to]?.receive({ ...r, dropped: [N] }) as ClientStep, 'protocol/unknown-participant');
    }
  });
});
