import { afterEach, describe, expect, it } from 'vitest';
import { nodeProvider, seededRandom, toHex, type KeyPair } from '../../src/secagg/index.js';
import { signRequest } from '../../src/server/request-auth.js';
import { READY_TARGET } from '../../src/server/wire.js';
import type { DashboardSnapshot } from '../../src/server/dashboard/snapshot.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { identities, smallConfig, startTestCoordinator } from './harness.js';

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function announce(r: RunningCoordinator, who: KeyPair): Promise<void> {
  const body = new TextEncoder().encode(JSON.stringify({ modelVersion: 0, time: Date.now() }));
  const headers = signRequest(nodeProvider, who, { federationId: r.coordinator.config.federationId, ...READY_TARGET, method: 'POST', body }, seededRandom(`dissolved-${toHex(who.publicKey).slice(0, 8)}`));
  const res = await fetch(new URL('v1/ready', r.url), { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
  expect(res.status).toBe(200);
}

describe('dissolved asynchronous groups', () => {
  it('are logged, counted in /v1/metrics and listed on the dashboard, with when and how many were ready', async () => {
    const people = identities(3, 'async-dissolved');
    const lines: string[] = [];
    running = await startTestCoordinator(smallConfig(people, { rounds: 1, cohort: { size: 3 }, async: { formationTimeoutMs: 50 } }), { log: (l) => lines.push(l) });
    const before = Date.now();
    const snap = async () => (await (await fetch(new URL('v1/dashboard', running!.url))).json()) as DashboardSnapshot;
    expect((await snap()).asyncGroups).toEqual({ groupSize: 3, formationTimeoutMs: 50, ready: 0, dissolved: 0, recentDissolutions: [] });
    await announce(running, people[0]!);
    await announce(running, people[1]!);
    for (let i = 0; i < 500 && running.coordinator.asyncGroups()!.dissolved < 2; i++) await new Promise((r) => setTimeout(r, 10));

    const view = (await snap()).asyncGroups!;
    expect(view.ready).toBe(2);
    expect(view.dissolved).toBeGreaterThanOrEqual(2);
    expect(view.recentDissolutions).toHaveLength(view.dissolved);
    for (const d of view.recentDissolutions) {
      expect(d.ready).toBe(2);
      expect(d.at).toBeGreaterThanOrEqual(before);
    }
    // A waiting group restarts its wait when dissolved: successive dissolutions are a timeout apart.
    const [first, second] = view.recentDissolutions;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(45);
    const metrics = await (await fetch(new URL('v1/metrics', running.url))).text();
    const counted = Number(/^fedveil_async_groups_dissolved_total (\d+)/m.exec(metrics)?.[1]);
    expect(counted).toBeGreaterThanOrEqual(view.dissolved);
    expect(lines.filter((l) => l.startsWith('group dissolved: 2 of 3 participants ready within 50 ms')).length).toBeGreaterThanOrEqual(view.dissolved);
    // Synchronous federations have no such section.
    await running.close();
    running = await startTestCoordinator(smallConfig(people), { autoStart: false });
    expect((await snap()).asyncGroups).toBeNull();
  });
});
