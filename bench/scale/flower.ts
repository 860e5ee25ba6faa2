/**
 * Flower 1.30's SecAgg+ (its own `secaggplus_mod` and `SecAggPlusWorkflow`, unmodified), run by
 * the harness in ../shared/peers/flower at the same n, d, dropout fraction, k and t as a scale
 * cell, so that the ratios compare figures measured in one run on one machine.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where the Flower harness lives: FEDVEIL_FLOWER_DIR, else ../shared/peers/flower from the repository root. */
export function flowerDir(): string {
  return process.env.FEDVEIL_FLOWER_DIR ?? resolve(process.cwd(), '../shared/peers/flower');
}

/** One Flower round's CPU seconds, split as the scale suite splits its own. */
export interface FlowerFigures {
  /** When the Flower round ran (ISO 8601). */
  measuredAt: string;
  k: number;
  t: number;
  /** Process CPU of the whole round (clients and server share one process). */
  roundCpuS: number;
  /** The server's share of the unmask stage (reconstruction and mask removal). */
  serverUnmaskCpuS: number;
  /** Per-client CPU of the share-keys and collect-masked-vectors stages. */
  shareKeysMs: number;
  maskedInputMs: number;
  peakRssMb: number;
}

/** The outcome of asking Flower for one cell: its figures, or why there are none. */
export type FlowerOutcome = { ok: true; figures: FlowerFigures } | { ok: false; reason: string };

interface Clock {
  wall: number;
  cpu: number;
}
interface FlowerResult {
  ok: boolean;
  error?: string;
  num_shares_effective?: number;
  threshold_effective?: number;
  stages?: Record<string, { stage_s: Clock; client_avg_s: Clock; server_s: Clock }>;
  peak_rss_mib?: number;
}

/**
 * Runs one Flower SecAgg+ round (dropout at the masked-vector stage, as the scale suite's
 * default) and reads its per-stage CPU. `timeoutS` caps the round; a round that does not finish
 * within it is reported as such, not measured.
 */
export async function runFlower(o: { n: number; d: number; dropout: number; k: number; t: number; timeoutS: number }): Promise<FlowerOutcome> {
  const dir = flowerDir();
  if (!existsSync(resolve(dir, 'bench_secaggplus.py'))) return { ok: false, reason: `no Flower harness at ${dir}` };
  const measuredAt = new Date().toISOString();
  const args = ['bench_secaggplus.py', '--single', '--configs', `${o.n},${o.d},${o.dropout}`, '--num-shares', String(o.k), '--threshold', String(o.t), '--drop-at', 'masked'];
  const env = { ...process.env, PYTHONPATH: 'src/flower_src/framework/py:src/pycryptodome/lib' };
  const { code, stdout, stderr, timedOut } = await new Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }>((done) => {
    const child = spawn('python3', args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutS * 1000);
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
    child.on('error', (e) => (stderr += String(e)));
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, timedOut });
    });
  });
  if (timedOut) {
    const stages = stdout.split('\n').filter((l) => l.startsWith('STAGE ')).map((l) => Object.keys(JSON.parse(l.slice(6)) as object)[0]);
    return { ok: false, reason: `did not finish within ${o.timeoutS} s (stages done: ${stages.join(', ') || 'none'})` };
  }
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || line === undefined) return { ok: false, reason: `exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` };
  const r = JSON.parse(line.slice(7)) as FlowerResult;
  if (!r.ok || r.stages === undefined) return { ok: false, reason: `round failed or did not verify: ${r.error ?? JSON.stringify(r).slice(0, 300)}` };
  const s = r.stages as Required<FlowerResult>['stages'];
  const stage = (name: string) => {
    const x = s[name];
    if (x === undefined) throw new Error(`Flower result lacks stage ${name}`);
    return x;
  };
  return {
    ok: true,
    figures: {
      measuredAt,
      k: r.num_shares_effective ?? o.k,
      t: r.threshold_effective ?? o.t,
      roundCpuS: Object.values(s).reduce((a, x) => a + x.stage_s.cpu, 0),
      serverUnmaskCpuS: stage('unmask').server_s.cpu,
      shareKeysMs: 1000 * stage('share_keys').client_avg_s.cpu,
      maskedInputMs: 1000 * stage('collect_masked_vectors').client_avg_s.cpu,
      peakRssMb: r.peak_rss_mib ?? NaN,
    },
  };
}
