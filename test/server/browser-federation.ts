/**
 * A federation of browser tabs and Node clients, driven as people use the participant page: each
 * tab imports its identity file, picks its CSV, reads the terms, agrees and takes part; the Node
 * clients are `Participant`s as `fedveil client` runs them. One tab can be closed mid-round (just
 * before it would upload its masked input), a dropout the others' round must recover from.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildParticipantWeb } from '../../scripts/build-participant-web.mjs';
import { toHex, type KeyPair } from '../../src/secagg/index.js';
import { identityFile } from '../../src/server/identity.js';
import type { ChargedEntry, GenesisEntry, LedgerEntry } from '../../src/server/ledger-entry.js';
import { participantEpsilon } from '../../src/server/participant-budget.js';
import type { ParticipationResult } from '../../src/server/participant.js';
import type { CoordinatorAppOptions } from '../../src/server/app.js';
import type { FederationConfig, FederationConfigInput } from '../../src/server/config.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import type { UnitMoments } from '../../src/server/federated-statistics.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';
import { WEATHER_CLASSES, WEATHER_FEATURES, WEATHER_STANDARDIZE, weatherCsv } from './weather.js';

/** What a browser-federation run left behind, for the test's assertions. */
/** What a browser test file shares: the page built once, one Chromium, and the coordinators to close. */
export interface PageSession {
  browser: Browser;
  assetsDir: string;
  coordinators: RunningCoordinator[];
}

/**
 * Registers the file's beforeAll/afterAll: builds the participant page into a fresh folder and
 * launches Chromium from `executablePath` (Debian's, never a downloaded one); afterwards closes the
 * browser and every coordinator pushed into `coordinators`.
 */
export function participantPageSession(executablePath: string): PageSession {
  const session = { coordinators: [] as RunningCoordinator[] } as PageSession;
  beforeAll(async () => {
    session.assetsDir = mkdtempSync(join(tmpdir(), 'fedveil-participant-'));
    await buildParticipantWeb({ outDir: session.assetsDir, minify: false });
    session.browser = await playwright.launch({ executablePath, args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await session.browser?.close();
    for (const c of session.coordinators) await c.close();
  });
  return session;
}

export interface BrowserFederationRun {
  running: RunningCoordinator;
  config: FederationConfig;
  /** The CSV each tab chose, by tab index. */
  csvs: string[];
  people: KeyPair[];
  tabs: Page[];
  /** Index of the tab that was closed, or null. */
  closed: number | null;
  nodeResults: ParticipationResult[][];
  ledger: LedgerEntry[];
  errors: string[];
}

/** Opens the participant page of `url` in a fresh browser context (its own IndexedDB). */
export async function openParticipantPage(browser: Browser, url: string, errors: string[], query = ''): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 1100 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (process.env.FEDVEIL_BROWSER_LOG === '1') process.stderr.write(`[tab] ${m.text()}\n`);
  });
  await page.goto(new URL(`participant/${query}`, url).href);
  await page.waitForSelector('#conn[data-state="live"]');
  return page;
}

/** Imports `id` through the page's file input, as a person would with the file `fedveil keygen` wrote. */
export async function importIdentity(page: Page, id: KeyPair): Promise<void> {
  const file = Buffer.from(JSON.stringify(identityFile(id)));
  await page.setInputFiles('#import-identity', { name: 'me.key.json', mimeType: 'application/json', buffer: file });
  await page.waitForSelector(`#identity-key[data-state="ok"]:has-text("${toHex(id.publicKey)}")`);
}

/** Picks a CSV through the page's file input. */
export async function chooseCsv(page: Page, name: string, csv: string): Promise<void> {
  await page.setInputFiles('#data-file', { name, mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.waitForSelector('#data-status:not([data-state="none"])');
}

/** Runs `tabs` browser participants and `nodes` Node clients for `rounds` Skellam rounds. */
export async function runBrowserFederation(
  browser: Browser,
  opts: {
    tabs: number;
    nodes: number;
    rounds: number;
    closeTab?: { tab: number; round: number };
    deadlineMs?: number;
    app?: CoordinatorAppOptions;
    backend?: 'webgl' | 'wasm' | 'cpu';
    /** The federation's DP settings (default: Skellam at ε = 40). */
    dp?: FederationConfigInput['dp'];
    /** The update Node client `i` sends every round (default: 0.01·(i + 1) in every coordinate). */
    nodeUpdate?: (i: number, dim: number) => Float32Array;
    /** The schema's standardisation (default: the fixed WEATHER_STANDARDIZE). */
    standardize?: NonNullable<FederationConfigInput['data']>['standardize'];
    /** With federated standardisation: the moments Node client `i` sends in the statistics round. */
    nodeMoments?: (i: number) => UnitMoments;
  },
): Promise<BrowserFederationRun> {
  const n = opts.tabs + opts.nodes;
  const people = identities(n, 'browser-federation');
  const deadline = opts.deadlineMs ?? 8000;
  const config = smallConfig(people, {
    federationId: 'browser-federation',
    rounds: opts.rounds,
    cohort: { size: n },
    threshold: Math.max(2, n - 2),
    minJoined: n,
    data: { features: [...WEATHER_FEATURES], label: 'weather', classes: [...WEATHER_CLASSES], standardize: opts.standardize ?? WEATHER_STANDARDIZE },
    model: { name: 'logreg', options: { inputSize: WEATHER_FEATURES.length, numClasses: WEATHER_CLASSES.length } },
    dim: WEATHER_FEATURES.length * WEATHER_CLASSES.length + WEATHER_CLASSES.length,
    dp: opts.dp ?? { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: true, targetEpsilon: 40, delta: 1e-5, minContributors: Math.max(2, n - 2) },
    deadlines: { 'advertise-keys': deadline, 'share-keys': deadline, 'masked-input': deadline, 'consistency-check': deadline, unmask: deadline },
  });
  const running = await startTestCoordinator(config, { autoStart: 'when-joined', ...(opts.app ? { app: opts.app } : {}) });
  const errors: string[] = [];
  const tabs: Page[] = [];
  const csvs: string[] = [];
  for (let t = 0; t < opts.tabs; t++) {
    const page = await openParticipantPage(browser, running.url, errors, opts.backend ? `?backend=${opts.backend}` : '');
    await importIdentity(page, people[t]!);
    csvs.push(weatherCsv(`station-${t}`, 80));
    await chooseCsv(page, `station-${t}.csv`, csvs[t]!);
    await page.waitForSelector('#data-status[data-state="ok"]');
    // The terms: a verified ledger with nothing spent yet, then the explicit agreement.
    await page.waitForSelector('#own-epsilon[data-state="ok"][data-epsilon="0"]');
    expect(await page.isDisabled('#start')).toBe(true);
    await page.check('#agree');
    tabs.push(page);
  }
  let closed: number | null = null;
  if (opts.closeTab !== undefined) {
    const { tab, round } = opts.closeTab;
    const page = tabs[tab]!;
    // Closed just before its masked input leaves: it has shared its keys, so the others' round
    // must reconstruct its pairwise masks from their shares.
    await page.route(`**/v1/rounds/${round}/masked-input`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      closed = tab;
      await route.abort();
      await page.context().close();
    });
  }
  const { nodeUpdate, nodeMoments } = opts;
  const nodes = people.slice(opts.tabs).map((id, i) =>
    participant(running.url, id, 0.01 * (i + 1), config.dim, {
      maxRounds: opts.rounds + (nodeMoments ? 1 : 0),
      ...(nodeUpdate ? { train: () => ({ update: nodeUpdate(i, config.dim), examples: 10 }) } : {}),
      ...(nodeMoments ? { moments: () => nodeMoments(i) } : {}),
    }),
  );
  const nodeRuns = nodes.map((p) => p.run());
  for (const page of tabs) await page.click('#start');
  const nodeResults = await Promise.all(nodeRuns);
  await running.coordinator.finished;
  for (const [t, page] of tabs.entries()) {
    if (t !== closed) await page.waitForSelector('#progress[data-state="finished"]', { timeout: 30_000 });
  }
  return { running, config, csvs, people, tabs, closed, nodeResults, ledger: await running.coordinator.ledger(), errors };
}

/** The round entries of a ledger. */
export function roundEntries(ledger: readonly LedgerEntry[]): ChargedEntry[] {
  return ledger.filter((e): e is ChargedEntry => e.kind === 'round' || e.kind === 'aborted-after-unmask');
}

/** A participant's own ε over `ledger`, as the page computes it from the verified ledger. */
export function ownEpsilon(ledger: readonly LedgerEntry[], id: KeyPair): number {
  return participantEpsilon(ledger[0] as GenesisEntry, ledger, toHex(id.publicKey)).epsilon;
}
