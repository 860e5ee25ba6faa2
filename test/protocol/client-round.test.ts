import { describe, expect, it } from 'vitest';
import { ClientRound } from '../../src/protocol/client/client-round.js';
import type { AdvertiseKeysMessage, ServerMessage, ShareBundleMessage } from '../../src/protocol/messages.js';
import { defaultProvider, sealShare, shareKey, toHex } from '../../src/secagg/index.js';
import { FedveilError } from '../../src/secagg/util/errors.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { codeOf, sent, start, toClients, toServer, world } from './helpers.js';

function ctorCode(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e instanceof FedveilError ? e.code : 'foreign';
  }
}

describe('ClientRound', () => {
  it('checks its options', () => {
    const w = world();
    const id = (w.identities[1] as { secretKey: Uint8Array }).secretKey;
    const make = (o: Partial<ConstructorParameters<typeof ClientRound>[1]>) => () =>
      new ClientRound(w.plan, { index: 1, identitySecretKey: id, input: new Float32Array(3), extra: [0], rng: seededRandom(1), ...o });
    expect(ctorCode(make({}))).toBe('ok');
    expect(ctorCode(make({ index: 2 }))).toBe('protocol/identity-mismatch');
    expect(ctorCode(make({ index: 7 }))).toBe('protocol/bad-index');
    expect(ctorCode(make({ extra: [] }))).toBe('protocol/bad-extra');
    expect(ctorCode(make({ extra: [2 ** 32] }))).toBe('protocol/bad-extra');
  });

  it('ignores out-of-order and replayed requests without changing state', () => {
    const w = world();
    const lists = toServer(w, start(w));
    const bundles = toServer(w, toClients(w, lists));
    const c = w.clients[0] as ClientRound;
    expect(c.status).toBe('masked-input');
    // A request for a later phase, and a malformed one.
    const early: ServerMessage = { type: 'unmask-request', header: { ...(bundles.get(0) as ServerMessage).header, phase: 'unmask' }, u3: [0, 1, 2, 3], dropped: [], signatures: [] };
    expect(codeOf(c.receive(early))).toBe('rejected:protocol/wrong-phase');
    expect(codeOf(c.receive({ ...(bundles.get(0) as ShareBundleMessage), u2: [3, 2] }))).toBe('rejected:protocol/malformed-message');
    expect(codeOf(c.receive({ ...(bundles.get(0) as ShareBundleMessage), header: { ...(bundles.get(0) as ServerMessage).header, phase: 'unmask' } }))).toBe(
      'rejected:protocol/wrong-phase',
    );
    // The answered key list again: the same answer.
    expect(c.receive(lists.get(0) as ServerMessage)).toEqual(c.receive(lists.get(0) as ServerMessage));
    expect(c.status).toBe('masked-input');
    expect(sent(c.receive(bundles.get(0) as ServerMessage)).type).toBe('masked-input');
  });

  it('refuses a changed key list after answering', () => {
    const w = world();
    const lists = toServer(w, start(w));
    const c = w.clients[0] as ClientRound;
    sent(c.receive(lists.get(0) as ServerMessage));
    const changed = { ...(lists.get(0) as ServerMessage & { type: 'key-list' }), advertisements: (lists.get(1) as ServerMessage & { type: 'key-list' }).advertisements.slice(0, 3) };
    expect(codeOf(c.receive(changed))).toBe('refused:protocol/key-list-changed');
  });

  it('refuses a bundle whose senders are not its neighbours in U2, and a tampered share', () => {
    const w = world();
    const bundles = toServer(w, toClients(w, toServer(w, start(w))));
    const b0 = bundles.get(0) as ShareBundleMessage;
    expect(codeOf((w.clients[0] as ClientRound).receive({ ...b0, shares: b0.shares.slice(1) }))).toBe('refused:protocol/bundle-mismatch');
    const b1 = bundles.get(1) as ShareBundleMessage;
    const bad = { ...b1, shares: b1.shares.map((s, i) => (i === 0 ? { ...s, ciphertext: Uint8Array.from(s.ciphertext, (x, j) => (j === 30 ? x ^ 1 : x)) } : s)) };
    expect(codeOf((w.clients[1] as ClientRound).receive(bad))).toBe('refused:protocol/bad-share-ciphertext');
    const b2 = bundles.get(2) as ShareBundleMessage;
    expect(codeOf((w.clients[2] as ClientRound).receive({ ...b2, u2: [0, 1, 2, 3].filter((x) => x !== 2) }))).toBe('refused:protocol/self-not-in-set');
    expect(codeOf((w.clients[3] as ClientRound).receive({ ...(bundles.get(3) as ShareBundleMessage), u2: [3] }))).toBe('refused:protocol/list-below-threshold');
    for (const c of w.clients) expect(c.revealed.size).toBe(0);
  });

  it('refuses a share pair that opens but holds a share that is no field element (protocol/bad-share), naming the dealer', () => {
    const w = world();
    const ads = start(w);
    const bundles = toServer(w, toClients(w, toServer(w, ads)));
    // Participant 0 deals participant 1 a sealed pair whose mask-key share is all 0xff: its
    // encryption key is the first draw of its seeded source, so the test can seal as it would.
    const enc = defaultProvider.x25519Keygen(seededRandom('unit/client/0'));
    expect(toHex(enc.publicKey)).toBe(toHex((ads.get(0) as AdvertiseKeysMessage).encryptionKey));
    const key = shareKey(defaultProvider.x25519Agreement(enc.secretKey), (ads.get(1) as AdvertiseKeysMessage).encryptionKey, w.plan.kdfContext);
    const binding = { federationId: w.plan.config.federationId, round: w.plan.config.round, sender: 0, recipient: 1 };
    const pair = new Uint8Array(64).fill(0xff);
    pair.fill(1, 0, 32);
    const b1 = bundles.get(1) as ShareBundleMessage;
    const bad = { ...b1, shares: b1.shares.map((s) => (s.peer === 0 ? { ...s, ciphertext: sealShare(key, binding, pair, seededRandom('nonce')) } : s)) };
    const step = (w.clients[1] as ClientRound).receive(bad);
    expect(codeOf(step)).toBe('refused:protocol/bad-share');
    expect(step.kind === 'refused' && step.message).toMatch(/participant 0 .*masking-key/);
    expect(w.clients[1]?.status).toBe('aborted');
  });

  it('reads its update only when the masked-input phase begins', () => {
    const w = world();
    let reads = 0;
    const id = (w.identities[0] as { secretKey: Uint8Array }).secretKey;
    const c = new ClientRound(w.plan, {
      index: 0,
      identitySecretKey: id,
      input: () => {
        reads++;
        return new Float32Array(3);
      },
      extra: [0],
      rng: seededRandom(2),
    });
    w.clients[0] = c;
    const lists = toServer(w, start(w));
    const bundles = toServer(w, toClients(w, lists));
    expect(reads).toBe(0);
    sent(c.receive(bundles.get(0) as ServerMessage));
    expect(reads).toBe(1);
  });
});
