/**
 * The browser participant as people use it: Debian's Chromium (never a downloaded browser) opens
 * the page a real coordinator serves, and browser tabs take part beside Node clients. With
 * FEDVEIL_SCREENSHOTS=1 it also writes the screenshot the README shows (docs/participant-page.png).
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/secagg/index.js';
import { chromium } from '../services.js';
import { chooseCsv, importIdentity, openParticipantPage, ownEpsilon, participantPageSession, roundEntries, runBrowserFederation } from './browser-federation.js';
import { identities, smallConfig, startTestCoordinator } from './harness.js';
import { WEATHER_CLASSES, WEATHER_FEATURES, weatherCsv } from './weather.js';

const browserService = chromium();
const screenshots = process.env.FEDVEIL_SCREENSHOTS === '1';

describe.skipIf(!browserService.available)('the participant page in Chromium', () => {
  const session = participantPageSession(browserService.location as string);

  it('creates, keeps and exports an identity, and checks a CSV against the schema in the page', { timeout: 60_000 }, async () => {
    const people = identities(2, 'page-identity');
    const config = smallConfig(people, {
      federationId: 'page-checks',
      data: { features: [...WEATHER_FEATURES], label: 'weather', classes: [...WEATHER_CLASSES] },
      model: { name: 'logreg', options: { inputSize: 4, numClasses: 5 } },
      dim: 25,
    });
    const running = await startTestCoordinator(config, { autoStart: false, app: { participantPage: { assetsDir: session.assetsDir } } });
    session.coordinators.push(running);
    const errors: string[] = [];
    const page = await openParticipantPage(session.browser, running.url, errors);
    expect(await page.textContent('#fed-id')).toBe('page-checks');
    expect(await page.textContent('#term-mechanism')).toContain('none');

    // A new identity survives a reload (IndexedDB) and exports as a `fedveil keygen` file.
    await page.click('#create-identity');
    await page.waitForSelector('#identity-key[data-state="ok"]');
    const key = (await page.textContent('#identity-key')) as string;
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    await page.reload();
    await page.waitForSelector(`#identity-key[data-state="ok"]:has-text("${key}")`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-identity')]);
    const exported = JSON.parse(await streamText(await download.createReadStream())) as Record<string, string>;
    expect(exported).toMatchObject({ type: 'fedveil-identity', version: 1, algorithm: 'ed25519', publicKey: key });
    expect(exported.secretKey).toMatch(/^[0-9a-f]{64}$/);

    // A key the operator has not listed reads a verified ledger, but cannot take part.
    await page.waitForSelector('#own-epsilon[data-state="ok"]');

    // An identity file whose public key is not its secret key's is refused.
    const forged = { ...exported, publicKey: toHex(people[0]!.publicKey) };
    await page.setInputFiles('#import-identity', { name: 'forged.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(forged)) });
    await page.waitForSelector('#identity-error[data-code="identity/invalid"]');

    // The CSV is checked against the schema in the page: a missing column is refused by name.
    await importIdentity(page, people[0]!);
    await chooseCsv(page, 'no-wind.csv', weatherCsv('x', 10).replace(/,wind,/, ',gust,'));
    expect(await page.getAttribute('#data-status', 'data-state')).toBe('error');
    expect(await page.getAttribute('#data-status', 'data-code')).toMatch(/^trainer\/csv-/);
    expect(await page.textContent('#data-status')).toContain('wind');
    await page.check('#agree');
    expect(await page.isDisabled('#start')).toBe(true);
    await chooseCsv(page, 'station.csv', weatherCsv('station', 30));
    await page.waitForSelector('#data-status[data-state="ok"]');
    expect(await page.isDisabled('#start')).toBe(false);
    expect(errors).toEqual([]);
  });

  it('takes part with Node clients over Skellam rounds; a tab closed mid-round is a dropout the round recovers from', { timeout: 120_000 }, async () => {
    const run = await runBrowserFederation(session.browser, { tabs: 2, nodes: 2, rounds: 2, closeTab: { tab: 1, round: 0 }, deadlineMs: 6000, backend: 'wasm', app: { participantPage: { assetsDir: session.assetsDir } } });
    session.coordinators.push(run.running);
    expect(run.closed).toBe(1);
    const rounds = roundEntries(run.ledger);
    expect(rounds.map((e) => [e.kind, e.round])).toEqual([['round', 0], ['round', 1]]);
    const closedKey = toHex(run.people[1]!.publicKey);
    const keys = (e: (typeof rounds)[number]) => e.contributors.map((c) => c.publicKey).sort();
    const others = [0, 2, 3].map((i) => toHex(run.people[i]!.publicKey)).sort();
    // Round 0: the closed tab shared its keys but never sent its masked input; round 1: it was gone.
    expect(keys(rounds[0]!)).toEqual(others);
    expect(rounds[0]!.dropouts['masked-input']).toEqual([closedKey]);
    expect(keys(rounds[1]!)).toEqual(others);
    expect(rounds[1]!.dropouts['advertise-keys']).toEqual([closedKey]);
    for (const results of run.nodeResults) expect(results.map((r) => r.status)).toEqual(['completed', 'completed']);

    // The tab that stayed: both rounds completed, its own ε the one the ledger charges it.
    const tab = run.tabs[0]!;
    const rows = await tab.$$eval('#rounds tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-round'), tr.getAttribute('data-status')]));
    expect(rows).toEqual([['0', 'completed'], ['1', 'completed']]);
    const shown = Number(await tab.getAttribute('#own-epsilon', 'data-epsilon'));
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBe(ownEpsilon(run.ledger, run.people[0]!));
    expect(['webgl', 'wasm', 'cpu']).toContain(await tab.getAttribute('#backend', 'data-backend'));
    if (screenshots) await tab.screenshot({ path: 'docs/participant-page.png', fullPage: true });
    expect(run.errors.filter((e) => !/ERR_FAILED|net::/.test(e))).toEqual([]);
  });
});

async function streamText(s: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of s) text += chunk.toString();
  return text;
}
