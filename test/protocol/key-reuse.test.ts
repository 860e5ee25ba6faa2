import { describe, expect, it } from 'vitest';
import { signMessage } from '../../src/protocol/canonical.js';
import { roundBinding } from '../../src/protocol/config.js';
import type { AdvertiseKeysMessage, KeyListMessage, ServerMessage } from '../../src/protocol/messages.js';
import { defaultProvider } from '../../src/secagg/index.js';
import { codeOf, start, toServer, world, type World } from './helpers.js';

/**
 * Sybil key reuse, n = 3, t = 2: participant 2, colluding with the server, advertises participant
 * 0's masking public key under its own signature. Were it accepted, participant 1's pairwise masks
 * with 0 and 2 would share one seed with opposite signs and cancel: its masked vector would be its
 * encoding plus its self mask, and the self-mask shares that survivors reveal at unmask would hand
 * the server participant 1's update (fewer than t participants colluding). The server refuses the
 * advertisement; a server that forwards it anyway meets clients that refuse the key list.
 */

function attackWorld(): World {
  return world({ n: 3, t: 2, seed: 'key-reuse' });
}

/** Participant 2's advertisement carrying participant 0's masking key, signed by participant 2. */
function reusedAdvertisement(w: World, ads: Map<number, AdvertiseKeysMessage>): AdvertiseKeysMessage {
  const own = ads.get(2) as AdvertiseKeysMessage;
  return signMessage<AdvertiseKeysMessage>(defaultProvider, (w.identities[2] as { secretKey: Uint8Array }).secretKey, {
    type: 'advertise-keys',
    header: own.header,
    encryptionKey: own.encryptionKey,
    maskingKey: (ads.get(0) as AdvertiseKeysMessage).maskingKey,
  }, roundBinding(w.plan.config));
}

describe('Sybil key reuse (participant 2 re-advertises participant 0’s masking key)', () => {
  it('the server refuses the advertisement with protocol/duplicate-key and does not move', () => {
    const w = attackWorld();
    const ads = start(w) as Map<number, AdvertiseKeysMessage>;
    expect(w.server.receive(ads.get(0) as AdvertiseKeysMessage).kind).toBe('accepted');
    expect(w.server.receive(ads.get(1) as AdvertiseKeysMessage).kind).toBe('accepted');
    expect(codeOf(w.server.receive(reusedAdvertisement(w, ads)))).toBe('rejected:protocol/duplicate-key');
    expect(w.server.status).toBe('advertise-keys');
    expect(w.server.submitted).toEqual([0, 1]);
    // Nothing of the refused advertisement was kept: participant 2's own keys are still welcome.
    const step = w.server.receive(ads.get(2) as AdvertiseKeysMessage);
    expect(step.kind === 'accepted' && step.outbox.length).toBe(3);
  });

  it('a server that forwards it anyway: participants 0 and 1 refuse the key list and send nothing', () => {
    const w = attackWorld();
    const ads = start(w) as Map<number, AdvertiseKeysMessage>;
    const forged = reusedAdvertisement(w, ads);
    const lists = toServer(w, ads) as Map<number, KeyListMessage>;
    for (const victim of [0, 1]) {
      const honest = lists.get(victim) as KeyListMessage;
      const list = { ...honest, advertisements: honest.advertisements.map((a) => (a.header.sender === 2 ? forged : a)) };
      const client = w.clients[victim] as World['clients'][number];
      expect(codeOf(client.receive(list))).toBe('refused:protocol/duplicate-key');
      expect(client.status).toBe('aborted');
      // Whatever comes next, the victim answers nothing: no shares, no masked input.
      expect(codeOf(client.receive(honest as ServerMessage))).toBe('rejected:protocol/round-finished');
    }
  });
});
