import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { nodeProvider, randomBelow, toHex, type RandomSource } from '../../src/secagg/index.js';
import { generateIdentity, writeIdentityFile } from '../../src/server/identity.js';
import { PostgresCoordinatorStore } from '../../src/server/postgres-store.js';
import { checkReleasedOnce } from './crash-check.js';
import { identities } from './fixtures.js';
import { freePort } from './harness.js';
import { freshSchema } from './pg-schema.js';

/** A child process with its stdout lines. */
interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves at the first line equal to `line`. */
  waitFor(line: string): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiting = new Map<string, (() => void)[]>();
  let buf = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of waiting.get(line) ?? []) w();
      waiting.delete(line);
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    proc,
    lines,
    exited,
    waitFor: (line) =>
      lines.includes(line)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiting.set(line, [...(waiting.get(line) ?? []), resolve]);
            void exited.then((e) => reject(new Error(`child exited (${e.code ?? e.signal}) before '${line}': ${e.stderr.slice(-2000)}`)));
          }),
  };
}

/** {@link checkReleasedOnce} on the federation's Postgres store. */
async function checkStore(url: string, schema: string, coordinatorKey: Uint8Array): Promise<{ epsilon: number; entries: number; restartAborts: number }> {
  const store = await PostgresCoordinatorStore.open({ url, schema });
  try {
    const { epsilon, entries, restartAborts } = await checkReleasedOnce(store, coordinatorKey, identities(4, 'failover').map((p) => toHex(p.publicKey)));
    return { epsilon, entries, restartAborts };
  } finally {
    await store.close();
  }
}

/**
 * A federation of `rounds` rounds on a fresh Postgres schema, its participants in their own
 * process: a leader and a standby coordinator run side by side; `kills` times the leader is
 * SIGKILLed at a random moment up to `maxKillMs` after it started serving, the standby takes
 * over and a new standby is started. Checks the store after every takeover and at the end.
 */
export async function failoverCycles(
  url: string,
  rounds: number,
  kills: number,
  rng: RandomSource,
  maxKillMs: number,
): Promise<{ epsilons: number[]; restartAborts: number; takeoverMs: number[] }> {
  const schema = await freshSchema(url);
  const dir = mkdtempSync(join(tmpdir(), 'fedveil-failover-'));
  const key = generateIdentity(nodeProvider, rng);
  writeIdentityFile(join(dir, 'coordinator-key.json'), key);
  const port = String(await freePort());
  const coordinator = () => start('test/server/failover-coordinator.ts', [url, schema, join(dir, 'coordinator-key.json'), port, String(rounds)]);
  let leader = coordinator();
  await leader.waitFor('leading');
  let standby = coordinator();
  const participants = start('test/server/failover-participants.ts', [port]);
  const epsilons: number[] = [];
  const takeoverMs: number[] = [];
  let last = { epsilon: 0, entries: 0, restartAborts: 0 };
  try {
    for (let k = 0; k < kills; k++) {
      // The kill lands while a ready standby waits, so takeover time is not a process start.
      await Promise.race([standby.waitFor('standby'), leader.exited]);
      const wait = randomBelow(rng, maxKillMs);
      await Promise.race([new Promise((r) => setTimeout(r, wait)), leader.exited]);
      if (leader.lines.includes('finished')) break;
      leader.proc.kill('SIGKILL');
      await leader.exited;
      const killedAt = Date.now();
      await standby.waitFor('leading');
      takeoverMs.push(Date.now() - killedAt);
      const now = await checkStore(url, schema, key.publicKey);
      // ε never goes down: nothing released is lost when the machine that released it is
      expect(now.entries).toBeGreaterThanOrEqual(last.entries);
      expect(now.epsilon).toBeGreaterThanOrEqual(last.epsilon);
      last = now;
      epsilons.push(now.epsilon);
      leader = standby;
      standby = coordinator();
    }
    await leader.waitFor('finished');
    const ended = await participants.exited;
    expect(ended.code, ended.stderr).toBe(0);
    const end = await checkStore(url, schema, key.publicKey);
    expect(end.entries).toBe(rounds);
    epsilons.push(end.epsilon);
    return { epsilons, restartAborts: end.restartAborts, takeoverMs };
  } finally {
    for (const c of [leader, standby, participants]) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }
}
