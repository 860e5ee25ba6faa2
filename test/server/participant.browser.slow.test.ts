/**
 * The browser federation at full size: three tabs of the participant page and three Node
 * clients over three Skellam rounds; one tab is closed in round 1 just before its masked input,
 * and every round still releases.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/secagg/index.js';
import { chromium } from '../services.js';
import { ownEpsilon, participantPageSession, roundEntries, runBrowserFederation } from './browser-federation.js';

const browserService = chromium();

describe.skipIf(!browserService.available)('a browser federation of 3 tabs and 3 Node clients', () => {
  const session = participantPageSession(browserService.location as string);

  it('releases three Skellam rounds, one with a tab closed mid-round', { timeout: 300_000 }, async () => {
    const run = await runBrowserFederation(session.browser, { tabs: 3, nodes: 3, rounds: 3, closeTab: { tab: 2, round: 1 }, deadlineMs: 10_000, backend: 'wasm', app: { participantPage: { assetsDir: session.assetsDir } } });
    session.coordinators.push(run.running);
    expect(run.closed).toBe(2);
    const rounds = roundEntries(run.ledger);
    expect(rounds.map((e) => [e.kind, e.round])).toEqual([['round', 0], ['round', 1], ['round', 2]]);
    const closedKey = toHex(run.people[2]!.publicKey);
    expect(rounds.map((e) => e.contributors.length)).toEqual([6, 5, 5]);
    expect(rounds[1]!.dropouts['masked-input']).toEqual([closedKey]);
    expect(rounds[2]!.dropouts['advertise-keys']).toEqual([closedKey]);
    for (const results of run.nodeResults) expect(results.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    for (const t of [0, 1]) {
      const tab = run.tabs[t]!;
      const rows = await tab.$$eval('#rounds tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-status')));
      expect(rows).toEqual(['completed', 'completed', 'completed']);
      expect(Number(await tab.getAttribute('#own-epsilon', 'data-epsilon'))).toBe(ownEpsilon(run.ledger, run.people[t]!));
    }
  });
});
