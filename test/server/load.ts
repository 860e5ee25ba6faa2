import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeProvider, seededRandom, toHex, type KeyPair } from '../../src/secagg/index.js';
import { Participant, type ParticipationResult } from '../../src/server/participant.js';

/** Result of one load run. */
export interface LoadResult {
  clients: number;
  /** Requests answered (long-polls excluded). */
  requests: number;
  /** Server-side request latency (from arrival to the last byte written). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Client-side latency: includes waiting for the clients' own (shared, busy) event loop. */
  clientP50Ms: number;
  clientP99Ms: number;
  peakCoordinatorRssBytes: number;
  roundMs: number;
  phaseMs: Record<string, number>;
  results: ParticipationResult[];
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/**
 * One round with `n` clients over loopback: the coordinator runs in a child process (so its RSS
 * is its own), the clients in this one. Latency is measured client-side per request, long-polls
 * excluded (they wait on purpose).
 */
export async function loadRound(n: number, dim: number): Promise<LoadResult> {
  const rng = seededRandom(`load-${n}`);
  const ids: KeyPair[] = Array.from({ length: n }, () => nodeProvider.ed25519Keygen(rng));
  const dir = mkdtempSync(join(tmpdir(), 'fedveil-load-'));
  const configPath = join(dir, 'fed.json');
  const phase = 300_000;
  writeFileSync(
    configPath,
    JSON.stringify({
      federationId: 'fed-load',
      participants: ids.map((p) => toHex(p.publicKey)),
      rounds: 1,
      cohort: { size: n },
      threshold: 25,
      neighbours: { mode: 'secagg+', dropoutFraction: 0.1, corruptionFraction: 0.1 },
      dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: false, noiseMultiplier: 1 },
      model: { name: 'load' },
      dim,
      deadlines: { 'advertise-keys': phase, 'share-keys': phase, 'masked-input': phase, 'consistency-check': phase, unmask: phase },
      storage: { path: join(dir, 'c.db') },
      longPollMs: 20_000,
      maxBodyBytes: 64 * 1024 * 1024,
    }),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/server/coordinator-child.ts', configPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  let peak = 0;
  let summaries: { durationMs: number; phaseMs: Record<string, number> }[] = [];
  let server: number[] = [];
  let buf = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`coordinator exited ${code}`)));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('url ')) resolve(line.slice(4));
        else if (line.startsWith('rss ')) peak = Math.max(peak, Number(line.slice(4)));
        else if (line.startsWith('summaries ')) summaries = JSON.parse(line.slice(10)) as typeof summaries;
        else if (line.startsWith('latencies ')) server = JSON.parse(line.slice(10)) as number[];
      }
    });
  });
  const latencies: number[] = [];
  const timedFetch: typeof fetch = async (input, init) => {
    const t = performance.now();
    const res = await fetch(input, init);
    const u = String(input);
    if (!u.includes('since=') && !u.includes('waitFor=')) {
      await res.clone().arrayBuffer();
      latencies.push(performance.now() - t);
    }
    return res;
  };
  const clients = ids.map(
    (id, i) =>
      new Participant({
        coordinator: url,
        identity: id,
        train: () => ({ update: new Float32Array(dim).fill(0.001 * (i % 10)), examples: 1 }),
        random: seededRandom(`load-client-${i}`),
        fetch: timedFetch,
        retry: { attempts: 8, baseDelayMs: 200, maxDelayMs: 5_000 },
        maxRounds: 1,
      }),
  );
  const results = (await Promise.all(clients.map((c) => c.run()))).flat();
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (server.length > 0) {
        clearInterval(poll);
        child.stdin?.end();
        resolve();
      }
    }, 50);
  });
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', () => resolve())));
  latencies.sort((a, b) => a - b);
  server.sort((a, b) => a - b);
  const s = summaries[0];
  return {
    clients: n,
    requests: server.length,
    p50Ms: quantile(server, 0.5),
    p99Ms: quantile(server, 0.99),
    maxMs: server.at(-1) ?? 0,
    clientP50Ms: quantile(latencies, 0.5),
    clientP99Ms: quantile(latencies, 0.99),
    peakCoordinatorRssBytes: peak,
    roundMs: s?.durationMs ?? -1,
    phaseMs: s?.phaseMs ?? {},
    results,
  };
}
