import { describe, expect, it } from 'vitest';
import { ClientRound } from '../../src/protocol/client/client-round.js';
import { planRound, RoundConfigSchema, toWireConfig, type RoundConfig } from '../../src/protocol/config.js';
import type { ClientMessage, ServerMessage } from '../../src/protocol/messages.js';
import { ServerRound } from '../../src/protocol/server/server-round.js';
import { testFederation } from '../../src/protocol/testing/fixtures.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { z } from 'zod';
import { codeOf, sent } from './helpers.js';

const fed = testFederation({ n: 3, threshold: 2, dim: 2, seed: 'binding' });
const bound = (byte: number): RoundConfig => ({ ...fed.config, binding: new Uint8Array(32).fill(byte) });
const client = (config: RoundConfig, i: number) =>
  new ClientRound(planRound(config), { index: i, identitySecretKey: fed.identities[i]!.secretKey, input: new Float32Array([i, 1]), rng: seededRandom(`binding/${i}`) });

describe('the round binding', () => {
  it('travels in the wire form of the round config', () => {
    const wire = toWireConfig(bound(7)) as { binding: string };
    expect(wire.binding).toBe('07'.repeat(32));
    expect(z.decode(RoundConfigSchema, wire as never).binding).toEqual(new Uint8Array(32).fill(7));
    expect('binding' in (toWireConfig(fed.config) as object)).toBe(false);
  });

  it('a participant signing under another binding is rejected by the server, and refuses its peers', () => {
    const server = new ServerRound(planRound(bound(1)), { rng: seededRandom('server') });
    const honest = [client(bound(1), 0), client(bound(1), 1)];
    const other = client(bound(2), 2);
    const ads: ClientMessage[] = honest.map((c) => sent(c.start()));
    const stray = sent(other.start());
    expect(codeOf(server.receive(stray))).toBe('rejected:protocol/bad-signature');
    for (const m of ads) expect(codeOf(server.receive(m))).toBe('accepted');
    server.deadline();
    const list = server.messageFor(0);
    expect(list?.type).toBe('key-list');
    // the same key list, seen by a participant bound to something else: its peers' signatures fail
    const misled = client(bound(2), 0);
    sent(misled.start());
    expect(codeOf(misled.receive(list as ServerMessage))).toBe('refused:protocol/bad-signature');
    // …while the participant bound like its peers goes on
    expect(codeOf(honest[0]!.receive(list as ServerMessage))).toBe('send');
  });
});
