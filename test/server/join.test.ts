import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeProvider, seededRandom, toHex } from '../../src/secagg/index.js';
import { JoinRegistry } from '../../src/server/join.js';
import { signRequest } from '../../src/server/request-auth.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { JOIN_TARGET } from '../../src/server/wire.js';
import { freePort, identities, participant, smallConfig, startTestCoordinator } from './harness.js';

const running: RunningCoordinator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

async function start(...args: Parameters<typeof startTestCoordinator>): Promise<RunningCoordinator> {
  const r = await startTestCoordinator(...args);
  running.push(r);
  return r;
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('was not refused');
}

describe('joining', () => {
  it('tells a key that is not in the federation so at once, naming the key', async () => {
    const people = identities(3, 'join-members');
    const stranger = identities(1, 'join-stranger')[0]!;
    const r = await start(smallConfig(people));
    const err = await refusal(participant(r.url, stranger, 1, 4).run());
    expect(err.code).toBe('client/not-a-participant');
    expect(err.message).toContain(`public key ${toHex(stranger.publicKey)} is not among the 3 participants of federation 'fed-http'`);
    expect(err.message).toContain('send it to the operator');
  });

  it('refuses a second live process of one identity, and lets it in once the first has lapsed', async () => {
    const people = identities(3, 'join-twice');
    const r = await start(smallConfig(people), { autoStart: false });
    await participant(r.url, people[0]!, 1, 4).join();
    // (a second process draws its own nonces; the harness seeds them from the key)
    const err = await refusal(participant(r.url, people[0]!, 1, 4, { random: seededRandom('second process') }).join());
    expect(err.code).toBe('client/identity-in-use');
    expect(err.message).toContain(`another client is running with identity ${toHex(people[0]!.publicKey)}`);
    expect(err.message).toMatch(/its claim lapses in \d+ s/);

    let now = 0;
    const joins = new JoinRegistry({ federationId: 'f', allowed: new Set(['a', 'b']), minJoined: 2, leaseMs: 1000, clock: () => now });
    joins.join('a', 's1');
    now = 999;
    expect(() => joins.join('a', 's2')).toThrow(expect.objectContaining({ code: 'join/identity-in-use' }));
    // a request in progress (a long-poll) keeps the session live beyond its lease
    expect(joins.touch('s1', 'open')).toBe(true);
    now = 5000;
    expect(() => joins.join('a', 's2')).toThrow(expect.objectContaining({ code: 'join/identity-in-use' }));
    joins.touch('s1', 'close');
    now = 6001;
    joins.join('a', 's2');
    expect(joins.touch('s1', 'open')).toBe(false); // the lapsed session is told to join again
    expect(joins.live()).toEqual(['a']);
  });

  it('refuses a replayed or stale join, changing nothing', async () => {
    const people = identities(2, 'join-replay');
    const r = await start(smallConfig(people), { autoStart: false });
    const send = (headers: Record<string, string>, body: Uint8Array) =>
      fetch(new URL('v1/join', r.url), { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body }).then(async (res) => ({
        status: res.status,
        code: ((await res.json()) as { error?: { code: string } }).error?.code,
      }));
    const body = new TextEncoder().encode(JSON.stringify({ session: 'ab'.repeat(16), time: Date.now() }));
    const headers = signRequest(nodeProvider, people[0]!, { federationId: 'fed-http', ...JOIN_TARGET, method: 'POST', body }, seededRandom('join-replay'));
    expect((await send(headers, body)).status).toBe(200);
    expect(await send(headers, body)).toEqual({ status: 409, code: 'auth/replayed-nonce' });
    const stale = new TextEncoder().encode(JSON.stringify({ session: 'cd'.repeat(16), time: Date.now() - 3_600_000 }));
    const staleHeaders = signRequest(nodeProvider, people[1]!, { federationId: 'fed-http', ...JOIN_TARGET, method: 'POST', body: stale }, seededRandom('join-stale'));
    expect(await send(staleHeaders, stale)).toEqual({ status: 400, code: 'join/stale-request' });
    expect(r.joins.live()).toEqual([toHex(people[0]!.publicKey)]);
  });

  it('starts the first round only when enough participants have joined, saying whom it waits for', async () => {
    const people = identities(3, 'join-quorum');
    const lines: string[] = [];
    const r = await start(smallConfig(people, { minJoined: 3 }), { autoStart: 'when-joined', log: (l) => lines.push(l) });
    const keys = people.map((p) => toHex(p.publicKey).slice(0, 16));
    expect(lines.at(-1)).toBe(`0 of 3 participants joined, 3 needed before the first round; waiting for ${keys.map((k) => `${k}…`).join(', ')}`);
    await participant(r.url, people[0]!, 1, 4).join();
    await participant(r.url, people[1]!, 1, 4).join();
    expect(r.coordinator.state().status).toBe('starting');
    expect(r.coordinator.state().round).toBeNull();
    expect(lines.at(-1)).toBe(`${keys[1]}… joined; 2 of 3 participants joined, 3 needed before the first round; waiting for ${keys[2]}…`);
    await participant(r.url, people[2]!, 1, 4).join();
    expect(r.coordinator.state().status).toBe('running');
    expect(lines).toContain(`${keys[2]}… joined; 3 of 3 participants joined: starting rounds`);
  });
});

describe('a coordinator that is away', () => {
  const patient = { baseDelayMs: 50, maxDelayMs: 400, giveUpAfterMs: 30_000 };

  it('is waited for by participants started before it, with a log line', async () => {
    const people = identities(2, 'early');
    const port = await freePort();
    const config = smallConfig(people, { rounds: 1, listen: { host: '127.0.0.1', port } });
    const logs: string[] = [];
    const runs = people.map((p, i) => participant(`http://127.0.0.1:${port}/`, p, 1, 4, { retry: patient, log: i === 0 ? (l) => logs.push(l) : () => {} }).run());
    await new Promise((r) => setTimeout(r, 1500));
    await start(config);
    const results = await Promise.all(runs);
    expect(results.map((r) => r.map((x) => x.status))).toEqual([['completed'], ['completed']]);
    expect(logs[0]).toMatch(new RegExp(`^waiting for the coordinator at http://127.0.0.1:${port}/: unreachable \\(.*ECONNREFUSED.*\\); retrying; giving up after 30s without an answer$`));
    expect(logs.some((l) => /answers again \(after \d+s\)/.test(l))).toBe(true);
  });

  it('is survived across a restart: participants join again and the federation finishes', async () => {
    const people = identities(3, 'restart');
    const db = join(mkdtempSync(join(tmpdir(), 'fedveil-restart-')), 'c.db');
    const port = await freePort();
    const config = smallConfig(people, { rounds: 3, listen: { host: '127.0.0.1', port }, longPollMs: 500 });
    let r = await startTestCoordinator(config, { storePath: db, autoStart: 'when-joined' });
    const logs: string[] = [];
    const runs = people.map((p, i) => participant(r.url, p, 0.1, 4, { retry: patient, log: i === 0 ? (l) => logs.push(l) : () => {} }).run());
    while (r.coordinator.state().roundsCompleted < 1) await new Promise((res) => setTimeout(res, 20));
    await r.close();
    await new Promise((res) => setTimeout(res, 700));
    r = await start(config, { storePath: db, autoStart: 'when-joined' });
    await r.coordinator.finished;
    const results = await Promise.all(runs);
    expect(r.coordinator.state().roundsCompleted).toBe(3);
    for (const res of results) expect(res.filter((x) => x.status === 'completed').length).toBeGreaterThanOrEqual(2);
    expect(logs.some((l) => l.includes('does not know this session (it restarted?): joining again'))).toBe(true);
  });

  it('is given up on after --give-up-after, with the URL and what to check', async () => {
    const [me] = identities(1, 'give-up');
    const port = await freePort();
    const t0 = performance.now();
    const err = await refusal(participant(`http://127.0.0.1:${port}/`, me!, 1, 4, { retry: { baseDelayMs: 20, maxDelayMs: 100, giveUpAfterMs: 400 } }).run());
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    expect(err.code).toBe('client/unreachable');
    expect(err.message).toMatch(new RegExp(`^gave up on the coordinator at http://127.0.0.1:${port}/ after \\d+ms and \\d+ attempts \\(GET /v1/federation\\)`));
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toContain('Check that `fedveil serve` is running there (nothing listens on that port now)');
    expect(err.message).toContain('--give-up-after');
  });
});
