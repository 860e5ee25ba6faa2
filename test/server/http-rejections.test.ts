import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMessage } from '../../src/protocol/canonical.js';
import { roundBinding } from '../../src/protocol/config.js';
import type { AdvertiseKeysMessage, ClientMessage, MaskedInputMessage } from '../../src/protocol/messages.js';
import { nodeProvider, seededRandom, toHex } from '../../src/secagg/index.js';
import { signRequest } from '../../src/server/request-auth.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { identities, smallConfig, startTestCoordinator } from './harness.js';
import { ManualClient, signedFetch, until, wireBody, type Answer } from './signed-client.js';

const long = { 'advertise-keys': 60_000, 'share-keys': 60_000, 'masked-input': 60_000, 'consistency-check': 60_000, unmask: 60_000 };
const people = identities(4, 'rejections');
const outsider = identities(1, 'outsider')[0]!;
const config = smallConfig(people, { cohort: { size: 3 }, deadlines: long, rounds: 1, maxBodyBytes: 8192 });

let running: RunningCoordinator;
let members: ManualClient[];
let nonMember: ManualClient;
let ads: ClientMessage[];

function expectError(a: Answer, status: number, code: string, field?: string): void {
  expect({ status: a.status, code: (a.body as { error: { code: string } }).error?.code }).toEqual({ status, code });
  if (field !== undefined) expect((a.body as { error: { field?: string } }).error.field).toBe(field);
}

/** Runs `send` and checks it is rejected with (status, code) and changes nothing. */
async function rejected(send: () => Promise<Answer>, status: number, code: string, field?: string): Promise<void> {
  const before = running.coordinator.fingerprint();
  expectError(await send(), status, code, field);
  expect(running.coordinator.fingerprint()).toBe(before);
}

beforeAll(async () => {
  running = await startTestCoordinator(config);
  await until(running.url, (s) => s.phase === 'advertise-keys');
  const all = people.map((p) => new ManualClient(running.url, p, config.dim));
  const joined = await Promise.all(all.map((c) => c.join()));
  members = all.filter((_, i) => joined[i]);
  nonMember = all.find((_, i) => !joined[i])!;
  expect(members).toHaveLength(3);
  ads = members.map((m) => (m.round.start() as { message: ClientMessage }).message);
});
afterAll(async () => {
  await running.close();
});

describe('every bad request is a distinct 4xx and changes nothing', () => {
  it('authentication rules', async () => {
    const m = members[0]!;
    const { body, contentType } = wireBody(ads[0]!);
    const url = new URL(`v1/rounds/0/advertise-keys`, running.url);
    await rejected(async () => {
      const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } });
      return { status: res.status, body: await res.json() };
    }, 401, 'auth/missing-headers');
    await rejected(
      () => signedFetch(running.url, m.id, { ...m.target('advertise-keys', 'POST'), body, contentType, headers: { 'x-fedveil-nonce': 'zz' } }),
      400,
      'auth/malformed-headers',
      'x-fedveil-nonce',
    );
    await rejected(() => signedFetch(running.url, outsider, { ...m.target('advertise-keys', 'POST'), body, contentType }), 403, 'auth/unknown-sender');
    // signed over a different body than the one sent
    const forged = signRequest(nodeProvider, m.id, { ...m.target('advertise-keys', 'POST'), body: new Uint8Array([1]) }, seededRandom('forged'));
    await rejected(() => signedFetch(running.url, m.id, { ...m.target('advertise-keys', 'POST'), body, contentType, headers: forged }), 401, 'auth/bad-signature');
    await rejected(
      () => signedFetch(running.url, nonMember.id, { ...m.target('advertise-keys', 'POST'), body, contentType }),
      403,
      'auth/not-in-cohort',
    );
    // member 1 posts member 0's (validly signed) protocol message under its own HTTP signature
    await rejected(() => members[1]!.post(ads[0]!), 403, 'auth/sender-mismatch');
  });

  it('round, phase, media type and body rules', async () => {
    const m = members[0]!;
    const { body, contentType } = wireBody(ads[0]!);
    await rejected(() => signedFetch(running.url, m.id, { ...m.target('advertise-keys', 'POST'), round: 5, body, contentType }), 409, 'round/wrong-round');
    await rejected(() => signedFetch(running.url, m.id, { ...m.target('share-keys', 'POST'), body, contentType }), 409, 'round/wrong-phase');
    await rejected(() => signedFetch(running.url, m.id, { ...m.target('advertise-keys', 'POST'), body, contentType: 'text/plain' }), 415, 'request/unsupported-media-type');
    const text = (s: string) => new TextEncoder().encode(s);
    await rejected(() => signedFetch(running.url, m.id, { ...m.target('advertise-keys', 'POST'), body: text('{"type":'), contentType }), 400, 'request/malformed-json');
    const bad = { ...(JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>), encryptionKey: 'abcd' };
    await rejected(
      () => signedFetch(running.url, m.id, { ...m.target('advertise-keys', 'POST'), body: text(JSON.stringify(bad)), contentType }),
      422,
      'request/invalid-body',
      'encryptionKey',
    );
    await rejected(
      () => signedFetch(running.url, m.id, { ...m.target('advertise-keys', 'POST'), body: new Uint8Array(10_000), contentType }),
      413,
      'request/body-too-large',
    );
    // a view before the phase has anything to show
    await rejected(() => signedFetch(running.url, m.id, m.target('share-keys', 'GET')), 409, 'round/wrong-phase');
  });

  it('replays and duplicates', async () => {
    const m = members[0]!;
    const { body, contentType } = wireBody(ads[0]!);
    const headers = {
      ...signRequest(nodeProvider, m.id, { ...m.target('advertise-keys', 'POST'), body }, seededRandom('once')),
      'content-type': contentType,
    };
    const url = new URL('v1/rounds/0/advertise-keys', running.url);
    const before = running.coordinator.fingerprint();
    const first = await fetch(url, { method: 'POST', body, headers });
    expect(first.status).toBe(202);
    expect(running.coordinator.fingerprint()).not.toBe(before);
    await rejected(async () => {
      const res = await fetch(url, { method: 'POST', body, headers });
      return { status: res.status, body: await res.json() };
    }, 409, 'auth/replayed-nonce');
    await rejected(() => m.post(ads[0]!), 409, 'round/duplicate-submission');
  });

  it('key rules at advertise-keys: a reused or low-order key is 422 round/rejected with the protocol code', async () => {
    const m = members[1]!;
    const { signature: _, ...own } = ads[1] as AdvertiseKeysMessage;
    const resigned = (changes: Partial<AdvertiseKeysMessage>) => signMessage<AdvertiseKeysMessage>(nodeProvider, m.id.secretKey, { ...own, ...changes }, roundBinding(m.config));
    const refused = async (msg: AdvertiseKeysMessage, protocolCode: string) => {
      let answer: Answer | undefined;
      await rejected(async () => (answer = await m.post(msg)), 422, 'round/rejected');
      expect((answer?.body as { error: { message: string } }).error.message.startsWith(`${protocolCode}: `)).toBe(true);
    };
    await refused(resigned({ maskingKey: (ads[0] as AdvertiseKeysMessage).maskingKey }), 'protocol/duplicate-key');
    await refused(resigned({ encryptionKey: (ads[0] as AdvertiseKeysMessage).encryptionKey }), 'protocol/duplicate-key');
    await refused(resigned({ encryptionKey: new Uint8Array(32) }), 'protocol/low-order-key');
    await refused(resigned({ maskingKey: new Uint8Array(32) }), 'protocol/low-order-key');
  });

  it('masked-vector rules', async () => {
    for (let i = 1; i < 3; i++) expect((await members[i]!.post(ads[i]!)).status).toBe(202);
    await until(running.url, (s) => s.phase === 'share-keys');
    for (const m of members) expect((await m.post(await m.next('share-keys'))).status).toBe(202);
    await until(running.url, (s) => s.phase === 'masked-input');
    const m = members[0]!;
    const masked = (await m.next('masked-input')) as MaskedInputMessage;
    const post = (msg: MaskedInputMessage, mutate?: (b: Uint8Array) => Uint8Array, contentType?: string) => {
      const w = wireBody(msg);
      return signedFetch(running.url, m.id, { ...m.target('masked-input', 'POST'), body: mutate ? mutate(w.body) : w.body, contentType: contentType ?? w.contentType });
    };
    await rejected(() => post({ ...masked, length: masked.length + 1 }), 422, 'vector/wrong-length', 'length');
    await rejected(() => post(masked, (b) => b.subarray(0, b.length - 1)), 422, 'vector/wrong-length');
    await rejected(() => post(masked, (b) => Uint8Array.from(b, (x, i) => (i === b.length - 1 ? x ^ 1 : x))), 422, 'vector/hash-mismatch');
    await rejected(() => post(masked, (b) => Uint8Array.from(b, (x, i) => (i === 0 ? 0xff : x))), 400, 'request/bad-encoding');
    await rejected(() => post(masked, undefined, 'application/json'), 415, 'request/unsupported-media-type');
    await rejected(() => post({ ...masked, bits: masked.bits - 1 }), 422, 'round/rejected');
    expect((await post(masked)).status).toBe(202);
    await rejected(() => post(masked), 409, 'round/duplicate-submission');
  });

  it('public endpoints validate their queries and unknown paths are 404 JSON', async () => {
    const get = async (path: string): Promise<Answer> => {
      const res = await fetch(new URL(path, running.url));
      return { status: res.status, body: await res.json() };
    };
    await rejected(() => get('v1/round?bogus=1'), 400, 'request/bad-query');
    await rejected(() => get('v1/round?since=-1'), 400, 'request/bad-query', 'since');
    await rejected(() => get('v1/model?version=99'), 404, 'request/not-found', 'version');
    await rejected(() => get('v1/nothing'), 404, 'request/not-found');
    await rejected(() => get('v1/rounds/x/advertise-keys'), 404, 'request/not-found');
    await rejected(() => get('v1/rounds/0/no-such-phase'), 404, 'request/not-found');
    const metrics = await (await fetch(new URL('v1/metrics', running.url))).text();
    expect(metrics).toMatch(/fedveil_http_rejections_total\{code="auth\/replayed-nonce"\} 1/);
    expect(toHex(running.coordinator.publicKey)).toHaveLength(64);
  });
});
