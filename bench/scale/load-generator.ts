import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Phase } from '../../src/protocol/phases.js';
import { scaleConfig } from './federation.js';

/** One scale run's parameters. */
export interface ScaleRun {
  n: number;
  d: number;
  dropout: number;
  dropoutPhase: Phase;
  graph: 'secagg+' | 'complete';
  mode: 'semi-honest' | 'malicious';
  /** Masked vectors each generator batch uploads at once, over all workers. */
  concurrent: number;
  /** Generator processes. */
  workers: number;
  /** The coordinator's staging slots for masked vectors. */
  uploadSlots: number;
  /** Uploads that may wait, unread, for a slot before the coordinator answers 503 request/busy. */
  uploadQueue: number;
  /**
   * How the coordinator process runs: `node` on a bundle of the same sources (as production runs
   * compiled JavaScript, no loader), or `tsx` (TypeScript compiled as it is loaded).
   */
  runtime: 'node' | 'tsx';
  /** Each phase's deadline (a phase with dropouts lasts this long). */
  deadlineMs: number;
}

/** What a scale run measured. */
export interface ScaleFigures {
  status: string;
  /** Why the round aborted, when it did. */
  code?: string;
  k: number;
  /** The round's Shamir threshold. */
  t: number;
  /** CPU seconds of the coordinator and every generator process together. */
  roundCpuS: number;
  coordinatorCpuS: number;
  serverUnmaskCpuS: number;
  /** Per client, CPU of the generator processes (mean over each worker's clients, averaged over workers). */
  shareKeysMs: number;
  maskedInputMs: number;
  /** VmHWM of the coordinator process, read from /proc by this process. */
  coordinatorPeakRssMb: number;
  /** VmRSS of the coordinator process once it listens, before the round. */
  coordinatorIdleRssMb: number;
  /** Uploads the generators tried again after a 503 request/busy or a connection cut before its answer. */
  busyRetries: number;
  generatorPeakRssMb: number;
  roundWallS: number;
  phaseMs: Record<string, number>;
}

/** Peak resident set (VmHWM) of a live process, in MB. */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Resident set (VmRSS) of a live process now, in MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * The coordinator process as plain JavaScript: coordinator-process.ts and the sources it imports
 * in one ES module (dependencies left to node_modules), under the repository's .tmp/ so that they
 * resolve.
 */
async function bundledCoordinator(): Promise<string> {
  const dir = join(process.cwd(), '.tmp', 'scale');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'coordinator-process.mjs');
  await build({ entryPoints: ['bench/scale/coordinator-process.ts'], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'warning' });
  return outfile;
}

function lines(child: ChildProcess, on: (line: string) => void): void {
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      on(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

/**
 * One round at scale: the coordinator in one child process, the clients in `workers` others
 * (bench/scale/client-worker.ts), all on loopback. The coordinator's peak RSS is read from
 * outside, from /proc, just before it is told to exit.
 */
export async function runScale(o: ScaleRun): Promise<ScaleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'fedveil-scale-'));
  const configPath = join(dir, 'fed.json');
  writeFileSync(configPath, JSON.stringify(scaleConfig({ ...o, dir })));
  const node = [process.execPath, '--import', 'tsx'];
  const coordinatorArgs = [configPath, String(o.uploadSlots), String(o.dropout), o.dropoutPhase, String(o.uploadQueue)];
  const coord =
    o.runtime === 'node'
      ? spawn(process.execPath, [...(process.env.FEDVEIL_SCALE_COORDINATOR_NODE_OPTIONS ?? '').split(' ').filter(Boolean), await bundledCoordinator(), ...coordinatorArgs], { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(node[0]!, [...node.slice(1), 'bench/scale/coordinator-process.ts', ...coordinatorArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
  const workers: ChildProcess[] = [];
  try {
    let summary: Record<string, unknown> | null = null;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const url = await new Promise<string>((resolve, reject) => {
      coord.on('exit', (code) => reject(new Error(`coordinator exited ${code}`)));
      lines(coord, (line) => {
        if (line.startsWith('url ')) resolve(line.slice(4));
        else if (line.startsWith('summary ')) summary = JSON.parse(line.slice(8)) as Record<string, unknown>;
        else if (line === 'finished') finished();
      });
    });
    const coordinatorIdleRssMb = rssMb(coord.pid!);
    let ready = 0;
    const batch = Math.max(1, Math.ceil(o.concurrent / o.workers));
    const stats: { clients: number; k: number; t: number; cpuS: number; shareKeysMs: number; maskedInputMs: number; busyRetries: number; peakMb: number }[] = [];
    await Promise.all(
      Array.from({ length: o.workers }, (_, w) => {
        const child = spawn(
          node[0]!,
          [...node.slice(1), 'bench/scale/client-worker.ts', url, String(o.n), String(o.d), String(w), String(o.workers), String(batch), String(o.dropout), o.dropoutPhase],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        workers.push(child);
        return new Promise<void>((resolve, reject) => {
          lines(child, (line) => {
            if (line === 'ready' && ++ready === o.workers) coord.stdin!.write('start\n');
            if (line.startsWith('stats ')) stats.push({ ...(JSON.parse(line.slice(6)) as (typeof stats)[number]), peakMb: peakRssMb(child.pid!) });
          });
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`load generator worker ${w} exited ${code}`))));
        });
      }),
    );
    await done;
    const coordinatorPeakRssMb = peakRssMb(coord.pid!);
    const s = summary as unknown as { status: string; code?: string; reason?: string; durationMs: number; phaseMs: Record<string, number>; coordinatorCpuS: number; unmaskCpuS: number };
    const mean = (pick: (x: (typeof stats)[number]) => number) => stats.reduce((a, x) => a + pick(x), 0) / stats.length;
    return {
      status: s.status,
      ...(s.code ? { code: `${s.code}: ${s.reason ?? ''}` } : {}),
      k: stats[0]?.k ?? 0,
      t: stats[0]?.t ?? 0,
      roundCpuS: s.coordinatorCpuS + stats.reduce((a, x) => a + x.cpuS, 0),
      coordinatorCpuS: s.coordinatorCpuS,
      serverUnmaskCpuS: s.unmaskCpuS,
      shareKeysMs: mean((x) => x.shareKeysMs),
      maskedInputMs: mean((x) => x.maskedInputMs),
      coordinatorPeakRssMb,
      coordinatorIdleRssMb,
      busyRetries: stats.reduce((a, x) => a + x.busyRetries, 0),
      generatorPeakRssMb: Math.max(...stats.map((x) => x.peakMb)),
      roundWallS: s.durationMs / 1000,
      phaseMs: s.phaseMs,
    };
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    coord.stdin?.end();
    await new Promise<void>((r) => (coord.exitCode !== null ? r() : coord.on('exit', () => r())));
    rmSync(dir, { recursive: true, force: true });
  }
}
