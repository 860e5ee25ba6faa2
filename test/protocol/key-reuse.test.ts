import { describe, expect, it } from 'vitest';
import { ClientRound } from '../../src/protocol/client/client-round.js';
import { signMessage } from '../../src/protocol/canonical.js';
import type { AdvertiseKeysMessage, KeyListMessage, MaskedInputMessage, UnmaskMessage } from '../../src/protocol/messages.js';
import type { ServerStep } from '../../src/protocol/results.js';
import { unpackVector } from '../../src/protocol/wire/vector.js';
import { defaultProvider, prgExpand, selfMaskSeed, shamirCombine } from '../../src/secagg/index.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { start, toClients, toServer, world, type World } from './helpers.js';

/**
 * Sybil key reuse, n = 3, t = 2: participant 2, colluding with the server, advertises participant
 * 0's masking public key under its own signature. Participant 1's pairwise masks with 0 and 2 then
 * share one seed and have opposite signs, so they cancel: its masked vector is its encoding plus
 * its self mask, and the self-mask shares that survivors reveal at unmask hand the server b_1.
 */

/** A round whose participant 1 records its encoding (the value the attack recovers). */
function attackWorld(): { w: World; encoding: () => Uint32Array } {
  const w = world({ n: 3, t: 2, seed: 'key-reuse' });
  let encoding: Uint32Array | undefined;
  w.clients[1] = new ClientRound(w.plan, {
    index: 1,
    identitySecretKey: (w.identities[1] as { secretKey: Uint8Array }).secretKey,
    input: Float32Array.from([0.25, -3, 7]),
    extra: [5],
    rng: seededRandom('key-reuse/victim'),
    observeEncoding: (e) => (encoding = Uint32Array.from(e)),
  });
  return { w, encoding: () => encoding as Uint32Array };
}

/** Participant 2's advertisement carrying participant 0's masking key, signed by participant 2. */
function reusedAdvertisement(w: World, ads: Map<number, AdvertiseKeysMessage>): AdvertiseKeysMessage {
  const own = ads.get(2) as AdvertiseKeysMessage;
  return signMessage<AdvertiseKeysMessage>(defaultProvider, (w.identities[2] as { secretKey: Uint8Array }).secretKey, {
    type: 'advertise-keys',
    header: own.header,
    encryptionKey: own.encryptionKey,
    maskingKey: (ads.get(0) as AdvertiseKeysMessage).maskingKey,
  });
}

/**
 * What the server learns of participant 1's masked vector: y_1 − PRG(b_1), with b_1 rebuilt from
 * the self-mask shares revealed at unmask by participants 1 and 2.
 */
function unmaskAlone(w: World, y1: MaskedInputMessage, unmasks: Map<number, UnmaskMessage>): Uint32Array {
  const shares = [1, 2].map((holder) => {
    const s = (unmasks.get(holder) as UnmaskMessage).selfMaskShares.find((r) => r.peer === 1);
    return { x: holder + 1, y: (s as { share: Uint8Array }).share };
  });
  const b1 = shamirCombine(shares, w.plan.threshold, 32);
  const mask = prgExpand(selfMaskSeed(b1, w.plan.kdfContext), w.plan.vectorLength, w.plan.bits);
  const y = unpackVector(y1.vector, w.plan.vectorLength, w.plan.bits);
  const mod = 2 ** w.plan.bits;
  return Uint32Array.from(y, (v, i) => (v - (mask[i] as number) + mod) % mod);
}

describe('Sybil key reuse (participant 2 re-advertises participant 0’s masking key)', () => {
  it('lets the server recover participant 1’s update with one colluding participant', () => {
    const { w, encoding } = attackWorld();
    const ads = start(w) as Map<number, AdvertiseKeysMessage>;
    const forged = reusedAdvertisement(w, ads);
    const steps: ServerStep[] = [ads.get(0), ads.get(1), forged].map((m) => w.server.receive(m as AdvertiseKeysMessage));
    expect(steps.map((s) => s.kind)).toEqual(['accepted', 'accepted', 'accepted']);
    const lists = new Map((steps[2]?.kind === 'accepted' ? steps[2].outbox : []).map((o) => [o.to, o.message as KeyListMessage]));
    // The colluder shares under its real keys, so its own client must see its real advertisement.
    const own = lists.get(2) as KeyListMessage;
    lists.set(2, { ...own, advertisements: own.advertisements.map((a) => (a.header.sender === 2 ? (ads.get(2) as AdvertiseKeysMessage) : a)) });
    const masked = toClients(w, toServer(w, toClients(w, lists)));
    const unmasks = toClients(w, toServer(w, masked)) as Map<number, UnmaskMessage>;
    const recovered = unmaskAlone(w, masked.get(1) as MaskedInputMessage, unmasks);
    const expected = new Uint32Array(w.plan.vectorLength);
    expected.set(encoding());
    expected.set([5], w.plan.encodedLength);
    expect(Array.from(recovered)).toEqual(Array.from(expected));
  });
});
