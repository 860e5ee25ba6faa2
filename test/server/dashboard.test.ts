import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, DASHBOARD_FILES } from '../../src/server/dashboard/routes.js';
import type { DashboardSnapshot } from '../../src/server/dashboard/snapshot.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { buildDashboard, DASHBOARD_OUTPUTS } from '../../scripts/build-dashboard.mjs';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

let assetsDir: string;
beforeAll(async () => {
  assetsDir = mkdtempSync(join(tmpdir(), 'fedveil-dashboard-'));
  await buildDashboard({ outDir: assetsDir });
});

describe('the dashboard build', () => {
  it('is part of npm run build, and writes every file the server serves', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; files: string[] };
    expect(pkg.scripts.build).toContain('node scripts/build-dashboard.mjs');
    expect(pkg.files).toContain('dist');
    expect([...DASHBOARD_OUTPUTS].sort()).toEqual(Object.keys(DASHBOARD_FILES).sort());
  });

  it('has no inline script or style and loads nothing from another origin', () => {
    const html = readFileSync(join(assetsDir, 'index.html'), 'utf8');
    for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toMatch(/ src="\/dashboard\/[^"]+"/);
    expect(html).not.toMatch(/<style|\son[a-z]+=|style="/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(readFileSync(join(assetsDir, 'app.js'), 'utf8')).not.toMatch(/https?:\/\/(cdn|unpkg|fonts)\./);
  });
});

describe('the dashboard routes', () => {
  const people = identities(3, 'dashboard-routes');

  it('serve the page with a CSP that forbids inline scripts, and its snapshot; nothing that changes state', async () => {
    running = await startTestCoordinator(smallConfig(people), { autoStart: false, app: { dashboardRoutes: { assetsDir } } });
    const app = running.server;
    const page = await request(app).get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe');
    await request(app).get('/dashboard/app.js').expect(200).expect('content-type', /javascript/);
    const missing = await request(app).get('/dashboard/secret.txt').expect(404);
    expect(missing.body.error.code).toBe('request/not-found');
    const snap = (await request(app).get('/v1/dashboard').expect(200)).body as DashboardSnapshot;
    expect(snap).toMatchObject({ status: 'starting', federation: { federationId: 'fed-http', participants: 3, budget: null }, rounds: [], running: null });
    expect(snap.awaited).toHaveLength(3);
    for (const path of ['/', '/v1/dashboard', '/v1/dashboard/events', '/dashboard/app.js']) {
      expect((await request(app).post(path).send('{}')).status).toBe(404);
    }
  });

  it('answer a clear 404 naming the build step when the page was not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'fedveil-no-dashboard-'));
    running = await startTestCoordinator(smallConfig(people), { autoStart: false, app: { dashboardRoutes: { assetsDir: empty } } });
    const res = await request(running.server).get('/').expect(404);
    expect(res.body.error.code).toBe('dashboard/not-built');
    expect(res.body.error.message).toContain(`not in ${empty}`);
    expect(res.body.error.message).toContain('npm run build');
  });

  it('are absent when the config turns the dashboard off', async () => {
    running = await startTestCoordinator(smallConfig(people, { dashboard: false }), { autoStart: false, app: { dashboardRoutes: { assetsDir } } });
    expect(running.dashboard).toBeNull();
    for (const path of ['/', '/v1/dashboard', '/dashboard/app.js']) {
      const res = await request(running.server).get(path).expect(404);
      expect(res.body.error.code).toBe('request/not-found');
    }
  });
});

/** Reads Server-Sent Events of `url` until `done` holds for a snapshot (or the stream ends). */
async function readEvents(url: string, done: (s: DashboardSnapshot) => boolean): Promise<DashboardSnapshot[]> {
  const res = await fetch(url);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const out: DashboardSnapshot[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = /^event: snapshot\ndata: (.*)$/s.exec(event)?.[1];
      if (data === undefined) continue;
      out.push(JSON.parse(data) as DashboardSnapshot);
      // Leaving the loop cancels the body: the server sees the viewer go.
      if (done(out.at(-1)!)) return out;
    }
  }
  return out;
}

describe('the dashboard feed', () => {
  it('pushes the running round\'s phases, the finished rounds and their evaluations as they happen', async () => {
    const people = identities(3, 'dashboard-feed');
    const config = smallConfig(people, { rounds: 2 });
    let ref: RunningCoordinator | null = null;
    running = await startTestCoordinator(config, {
      autoStart: false,
      onRoundEnd: (s) => ref?.dashboard?.recordEvaluation(s.round, { source: 'test-set', accuracy: 0.5, loss: 0.25, examples: 10, noised: false }),
    });
    ref = running;
    const events = readEvents(`${running.url}v1/dashboard/events`, (s) => s.status === 'finished' && s.rounds.every((r) => r.evaluation !== null));
    await new Promise((r) => setTimeout(r, 100));
    running.coordinator.start();
    await Promise.all(people.map((p, i) => participant(running!.url, p, 0.1 * (i + 1), config.dim).run()));
    const seen = await events;
    expect(seen[0]!.status).toBe('starting');
    const last = seen.at(-1)!;
    expect(last.rounds.map((r) => [r.round, r.status, r.contributors, r.evaluation?.accuracy])).toEqual([
      [0, 'completed', 3, 0.5],
      [1, 'completed', 3, 0.5],
    ]);
    // Pushes are coalesced (a fast round may pass in one), but whatever was pushed of a running
    // round adds up: phases in order, counts within their phase's expected, the first one 3 of 3.
    for (const round of [0, 1]) {
      const views = seen.filter((s) => s.running?.round === round).map((s) => s.running!);
      expect(views.length).toBeGreaterThan(0);
      for (const v of views) {
        const states = v.phases.map((p) => p.state);
        expect(states.join(' ')).toMatch(/^(done )*(running)( pending)*$/);
        for (const p of v.phases) if (p.expected !== null) expect(p.submitted).toBeLessThanOrEqual(p.expected);
        if (v.phases[0]!.state === 'done') expect(v.phases[0]).toMatchObject({ phase: 'advertise-keys', expected: 3, submitted: 3 });
      }
    }
  });
});
