import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { randomBelow, type RandomSource } from '../../src/secagg/index.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import { SqliteCoordinatorStore } from '../../src/server/sqlite-store.js';
import { readIdentityFile } from '../../src/server/identity.js';
import { nodeProvider, toHex } from '../../src/secagg/index.js';
import type { LedgerEntry } from '../../src/server/ledger-entry.js';
import type { CoordinatorStore } from '../../src/server/store.js';
import { identities } from './fixtures.js';

type RoundEntry = Extract<LedgerEntry, { kind: 'round' }>;

/**
 * Runs the crash child until it prints `finished`, or SIGKILLs it `killAfterMs` after it first
 * served the model (so kills land while rounds run, not during process start-up).
 */
export function runChild(db: string, rounds: number, killAfterMs: number | null): Promise<{ observed: [number, string][]; finished: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/server/crash-child.ts', db, String(rounds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const observed: [number, string][] = [];
    let finished = false;
    let buf = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^observed (\d+) ([0-9a-f]{64})$/.exec(line);
        if (m) {
          observed.push([Number(m[1]), m[2]!]);
          if (killAfterMs !== null && timer === undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
        if (line === 'finished') finished = true;
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === null && code !== 0) reject(new Error(`crash child exited ${code}: ${err}`));
      else resolve({ observed, finished });
    });
  });
}

/**
 * What must hold of a coordinator's store after any crash or failover: the ledger chain verifies;
 * completed rounds are exactly the ledger's rounds, each once (no round released twice); model
 * versions are contiguous and match the entries. Returns the ledger, its round entries, ε of its
 * privacy report and the rounds a restart recorded aborted (nothing released).
 *
 * A leader may be running while this reads (a standby has just taken over), and the store's reads
 * are separate queries, so a round committed between them would look like a model without its
 * entry. The reads are therefore repeated until the ledger has the same length before and after
 * them: what is checked is then one consistent state.
 */
export async function checkReleasedOnce(
  store: CoordinatorStore,
  coordinatorKey: Uint8Array,
  allowed: readonly string[],
): Promise<{ ledger: RoundEntry[]; epsilon: number; entries: number; restartAborts: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const full = await store.ledger();
    const ledger = full.filter((e): e is RoundEntry => e.kind === 'round');
    const rounds = await store.rounds();
    const models: (string | undefined)[] = [];
    for (let v = 1; v <= ledger.length + 1; v++) models.push((await store.getModel(v))?.hash);
    if ((await store.ledger()).length !== full.length) continue;
    expect(verifyLedger(full, coordinatorKey, allowed)).toEqual([]);
    const completed = rounds.filter((r) => r.status === 'completed').map((r) => r.round);
    expect(completed).toEqual(ledger.map((e) => e.round));
    expect(new Set(completed).size).toBe(completed.length);
    expect(models).toEqual([...ledger.map((e) => e.modelHashAfter), undefined]);
    const restartAborts = rounds.filter((r) => r.status === 'aborted' && r.abortReason === 'coordinator-restart').length;
    return { ledger, epsilon: buildPrivacyReport(full).epsilon ?? Number.POSITIVE_INFINITY, entries: ledger.length, restartAborts };
  }
  throw new Error('the ledger grew during every one of 50 consistent reads of the store');
}

/**
 * {@link checkReleasedOnce} on the crash child's SQLite store, and every released model version
 * (any version a client could have seen) has its ledger entry, so ε counts it.
 */
export async function checkStore(db: string, observed: readonly [number, string][]): Promise<{ epsilon: number; entries: number; restartAborts: number }> {
  const store = new SqliteCoordinatorStore(db);
  try {
    const key = readIdentityFile(`${db}.coordinator-key.json`, nodeProvider);
    const { ledger, epsilon, entries, restartAborts } = await checkReleasedOnce(store, key.publicKey, identities(4, 'crash').map((p) => toHex(p.publicKey)));
    for (const [version, hash] of observed) {
      if (version === 0) continue;
      // a served model always has its (committed) ledger entry
      expect(ledger[version - 1]?.modelHashAfter).toBe(hash);
    }
    return { epsilon, entries, restartAborts };
  } finally {
    await store.close();
  }
}

/** Kills the child `kills` times at random points, then lets it finish; checks after every step. */
export async function crashCycles(
  db: string,
  rounds: number,
  kills: number,
  rng: RandomSource,
  maxKillMs: number,
): Promise<{ kills: number; epsilons: number[]; restartAborts: number }> {
  const epsilons: number[] = [];
  let last = { epsilon: 0, entries: 0, restartAborts: 0 };
  for (let k = 0; k < kills; k++) {
    const { observed } = await runChild(db, rounds, randomBelow(rng, maxKillMs));
    const now = await checkStore(db, observed);
    // ε never goes down: nothing released is ever lost
    expect(now.entries).toBeGreaterThanOrEqual(last.entries);
    expect(now.epsilon).toBeGreaterThanOrEqual(last.epsilon);
    last = now;
    epsilons.push(now.epsilon);
  }
  const final = await runChild(db, rounds, null);
  expect(final.finished).toBe(true);
  const end = await checkStore(db, final.observed);
  expect(end.entries).toBe(rounds);
  epsilons.push(end.epsilon);
  return { kills, epsilons, restartAborts: end.restartAborts };
}
