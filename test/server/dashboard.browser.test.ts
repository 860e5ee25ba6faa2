/**
 * The dashboard as a person uses it: Debian's Chromium (never a downloaded browser) drives the
 * page a real coordinator serves while a short federation runs. With FEDVEIL_SCREENSHOTS=1 the
 * test also writes the screenshots the README shows (docs/dashboard-*.png).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrivacyReport } from '../../src/dp/index.js';
import { toHex } from '../../src/secagg/index.js';
import type { RoundEvaluation } from '../../src/server/coordinator.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { buildDashboard } from '../../scripts/build-dashboard.mjs';
import { chromium } from '../services.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

const browserService = chromium();
const screenshots = process.env.FEDVEIL_SCREENSHOTS === '1';

/** What the test reports as each round's test-set evaluation (simulate's role). */
const evaluationOf = (round: number): RoundEvaluation => ({ source: 'test-set', accuracy: 0.61 + 0.1 * round, loss: 1.3 - 0.2 * round, examples: 1000, noised: false });

describe.skipIf(!browserService.available)('the dashboard in Chromium', () => {
  let browser: Browser;
  let assetsDir: string;
  let running: RunningCoordinator | undefined;

  beforeAll(async () => {
    assetsDir = mkdtempSync(join(tmpdir(), 'fedveil-dashboard-'));
    await buildDashboard({ outDir: assetsDir });
    browser = await playwright.launch({ executablePath: browserService.location, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  /** A page that records every console error and uncaught exception. */
  async function openPage(viewport = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    return { page, errors };
  }

  it('shows a running federation live, charts the report, and verifies its ledger in the page', { timeout: 60_000 }, async () => {
    const people = identities(4, 'dashboard');
    const config = smallConfig(people, {
      federationId: 'dashboard-demo',
      rounds: 3,
      dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: true, targetEpsilon: 40, delta: 1e-5 },
      deadlines: { 'advertise-keys': 20_000, 'share-keys': 20_000, 'masked-input': 20_000, 'consistency-check': 20_000, unmask: 20_000 },
    });
    let ref: RunningCoordinator | null = null;
    running = await startTestCoordinator(config, {
      autoStart: false,
      app: { dashboardRoutes: { assetsDir } },
      onRoundEnd: (s) => ref?.dashboard?.recordEvaluation(s.round, evaluationOf(s.round)),
    });
    ref = running;
    const url = running.url;

    const { page, errors } = await openPage();
    await page.goto(url);
    await page.waitForSelector('#conn[data-state="live"]');
    expect(await page.textContent('#fed-id')).toBe('dashboard-demo');
    expect(await page.getAttribute('#round-status', 'data-status')).toBe('starting');

    // Training waits for the test in rounds 0 and 2, so their masked inputs arrive when released.
    const gated = (round: number) => {
      const release: (() => void)[] = [];
      const gates = people.map(() => new Promise<void>((r) => release.push(r)));
      return { round, release, gates };
    };
    const first = gated(0);
    const last = gated(2);
    const clients = people.map((p, i) =>
      participant(url, p, 0.1 * (i + 1), config.dim, {
        train: async (_w, { round }) => {
          for (const g of [first, last]) if (round === g.round) await g.gates[i];
          return { update: new Float32Array(config.dim).fill(0.1 * (i + 1)), examples: 10 };
        },
      }),
    );
    running.coordinator.start();
    const results = Promise.all(clients.map((c) => c.run()));

    // The phase and submission counts change as the round runs.
    const maskedRow = '#phases tr[data-phase="masked-input"]';
    await page.waitForSelector(`#round-status[data-round="0"][data-phase="masked-input"]`);
    await page.waitForSelector(`${maskedRow}[data-state="running"][data-submitted="0"][data-expected="4"]`);
    expect(await page.getAttribute('#phases tr[data-phase="advertise-keys"]', 'data-state')).toBe('done');
    expect(await page.getAttribute('#phases tr[data-phase="advertise-keys"]', 'data-submitted')).toBe('4');
    expect(await page.getAttribute('#phases tr[data-phase="unmask"]', 'data-state')).toBe('pending');
    expect(await page.getAttribute('#connected', 'data-connected')).toBe('4');
    expect(await page.locator('#awaited li').count()).toBe(4);
    for (let n = 1; n <= 3; n++) {
      first.release[n - 1]!();
      await page.waitForSelector(`${maskedRow}[data-submitted="${n}"]`);
      expect(await page.locator('#awaited li').count()).toBe(4 - n);
    }
    first.release[3]!();

    // Two rounds released (the third waits in masked-input): both charts have two points, with
    // the report's and the evaluations' values.
    await page.waitForSelector(`#round-status[data-round="2"][data-phase="masked-input"]`);
    last.release[0]!();
    last.release[1]!();
    await page.waitForSelector(`${maskedRow}[data-submitted="2"]`);
    const report = (await (await fetch(`${url}v1/report`)).json()) as PrivacyReport;
    expect(report.rounds.map((r) => r.round)).toEqual([0, 1]);
    await page.waitForSelector('#eps-chart[data-points="2"]');
    await page.waitForSelector('#acc-chart[data-points="2"]');
    const epsRows = await page.$$eval('#eps-table tbody tr', (rows) =>
      rows.map((r) => ({ round: r.getAttribute('data-round'), ledgerReader: r.getAttribute('data-ledger-reader'), modelObserver: r.getAttribute('data-model-observer') })),
    );
    expect(epsRows).toEqual(
      report.rounds.map((r) => ({ round: String(r.round), ledgerReader: String(r.ledgerReader.cumulativeEpsilon), modelObserver: String(r.modelObserver.cumulativeEpsilon) })),
    );
    const epsPlotted = JSON.parse((await page.getAttribute('#eps-chart', 'data-values')) as string) as number[][];
    expect(epsPlotted[1]).toEqual(report.rounds.map((r) => r.ledgerReader.cumulativeEpsilon));
    expect(epsPlotted[2]).toEqual(report.rounds.map((r) => r.modelObserver.cumulativeEpsilon));
    const accRows = await page.$$eval('#acc-table tbody tr', (rows) =>
      rows.map((r) => ({ round: r.getAttribute('data-round'), accuracy: r.getAttribute('data-accuracy'), loss: r.getAttribute('data-loss'), source: r.getAttribute('data-source') })),
    );
    expect(accRows).toEqual(
      report.rounds.map((r) => ({ round: String(r.round), accuracy: String(evaluationOf(r.round).accuracy), loss: String(evaluationOf(r.round).loss), source: 'test-set' })),
    );
    const accPlotted = JSON.parse((await page.getAttribute('#acc-chart', 'data-values')) as string) as number[][];
    expect(accPlotted[1]).toEqual(report.rounds.map((r) => evaluationOf(r.round).accuracy));
    expect(await page.locator('#rounds tbody tr[data-status="completed"]').count()).toBe(2);
    if (screenshots) await page.screenshot({ path: 'docs/dashboard-live.png', fullPage: true });
    last.release[2]!();
    last.release[3]!();
    await page.waitForSelector('#round-status[data-status="finished"]');
    await page.waitForSelector('#eps-chart[data-points="3"]');
    await results;

    // The auditor's view verifies the served ledger in the page: unpinned, pinned, wrongly pinned.
    await page.click('#tab-audit');
    await page.waitForSelector('#verdict[data-state="verified"]');
    expect(await page.textContent('#verdict')).toContain('the key the genesis names');
    expect(await page.locator('#ledger tbody tr').count()).toBe(4);
    const key = toHex(running.coordinator.publicKey);
    await page.fill('#pinned-key', key);
    await page.click('#verify');
    await page.waitForSelector(`#verdict[data-state="verified"]:has-text("pinned key ${key}")`);
    if (screenshots) await page.screenshot({ path: 'docs/dashboard-audit.png', fullPage: true });
    const wrong = toHex(identities(1, 'not-the-coordinator')[0]!.publicKey);
    await page.fill('#pinned-key', wrong);
    await page.click('#verify');
    await page.waitForSelector('#verdict[data-state="failed"]');
    expect(await page.textContent('#verdict')).toContain(`Refused: the ledger is not signed by the pinned key ${wrong}`);
    expect(await page.locator('#problems li[data-code="ledger/bad-signature"]').count()).toBe(4);
    await page.fill('#pinned-key', 'not a key');
    await page.click('#verify');
    await page.waitForSelector('#verdict[data-state="failed"]:has-text("neither 64 hex characters")');

    // A tampered export, handed to the page as a file: it names the entry and the rule broken.
    const lines = (await (await fetch(`${url}v1/ledger`)).text()).trim().split('\n');
    const entry = JSON.parse(lines[2]!) as { mechanism: { noiseMultiplier: number } };
    entry.mechanism.noiseMultiplier *= 2; // claims twice the noise that was added
    lines[2] = JSON.stringify(entry);
    const tampered = join(mkdtempSync(join(tmpdir(), 'fedveil-tampered-')), 'ledger.jsonl');
    writeFileSync(tampered, `${lines.join('\n')}\n`);
    await page.fill('#pinned-key', key);
    await page.setInputFiles('#ledger-file', tampered);
    await page.waitForSelector('#verdict[data-state="failed"]:has-text("first at entry 2")');
    expect(await page.textContent('#ledger-source')).toBe('(file ledger.jsonl)');
    const bad = await page.$$eval('#ledger tbody tr.bad', (rows) => rows.map((r) => r.getAttribute('data-index')));
    expect(bad).toEqual(['2']);
    const hashProblem = page.locator('#problems li[data-index="2"][data-code="ledger/bad-hash"]');
    expect(await hashProblem.textContent()).toMatch(/^ledger\/bad-hash: entry 2 \(round 1\): recorded hash [0-9a-f]{64} but content hashes to [0-9a-f]{64}$/);
    if (screenshots) await page.screenshot({ path: 'docs/dashboard-tampered.png', fullPage: true });
    expect(errors).toEqual([]);

    // On a phone-sized screen the page reflows: nothing is wider than the viewport.
    const phone = await openPage({ width: 390, height: 844 });
    await phone.page.goto(url);
    await phone.page.waitForSelector('#eps-chart[data-points="3"]');
    const overflow = await phone.page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    if (screenshots) await phone.page.screenshot({ path: 'docs/dashboard-phone.png', fullPage: true });
    expect(phone.errors).toEqual([]);
  });
});
