/**
 * The coordinator of a scale run, in its own process so that its peak RSS is its own and can be
 * read from outside (/proc/PID/status VmHWM). Reads a federation config (JSON) from argv[2],
 * prints `url <url>`, starts the round on a `start` line on stdin, then after the round `summary <json>` (the round summary plus this process's
 * CPU seconds for the whole round and for unmask-to-release), and `finished`; it serves on until
 * its stdin closes.
 */
import { readFileSync } from 'node:fs';
import type { Phase } from '../../src/protocol/phases.js';
import { parseFederationConfig } from '../../src/server/config.js';
import { startCoordinator } from '../../src/server/start.js';
import { shouldDrop } from './federation.js';

const config = parseFederationConfig(JSON.parse(readFileSync(process.argv[2] as string, 'utf8')));
const uploadSlots = Number(process.argv[3] ?? 8);
const dropout = Number(process.argv[4] ?? 0);
const dropPhase = (process.argv[5] ?? 'masked-input') as Phase;
const uploadQueue = Number(process.argv[6] ?? 64);
const running = await startCoordinator({ config, initialModel: new Float32Array(config.dim), app: { uploadSlots, uploadQueue }, autoStart: false, log: (l) => process.stderr.write(`[coordinator] ${l}\n`) });
// The parent ends stdin when it is done with this process, also when a run failed mid-round.
const closed = new Promise<void>((resolve) => process.stdin.on('end', resolve).on('close', resolve));
void closed.then(() => setTimeout(() => process.exit(0), 2000).unref());
// The round starts when the parent says every load generator is ready, not while they boot.
const go = new Promise<void>((resolve) => {
  let buf = '';
  process.stdin.on('data', (d: Buffer) => {
    buf += d.toString();
    if (buf.includes('start\n')) resolve();
  });
});
const out = (line: string) => process.stdout.write(`${line}\n`);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const startCpu = cpu();
out(`url ${running.url}`);
const c = running.coordinator;
// The run knows who drops out (federation.ts's shouldDrop, as the load generators): the phase
// they drop in is closed once only they are missing, rather than idling until its deadline. The
// deadlines can then be generous enough for a loaded machine without lengthening every round.
let dropping: Set<number> | null = null;
const closeWhenOnlyDroppedMissing = setInterval(() => {
  const p = c.phaseProgress();
  if (p === null || p.phase !== dropPhase) return;
  dropping ??= new Set(p.members.map((_, i) => i).filter((i) => shouldDrop(i, p.members.length, dropout)));
  const done = new Set(p.submitted);
  const missing = p.expected.filter((i) => !done.has(i));
  if (missing.length > 0 && missing.every((i) => (dropping as Set<number>).has(i))) c.expireDeadline();
}, 250);
// FEDVEIL_SCALE_MEMLOG=<ms>: the process's memory by phase on stderr, to see which phase holds what.
const memlogMs = Number(process.env.FEDVEIL_SCALE_MEMLOG ?? 0);
const mb = (x: number) => (x / 2 ** 20).toFixed(1);
const memlog =
  memlogMs > 0
    ? setInterval(() => {
        const m = process.memoryUsage();
        const phase = c.state().phase ?? c.state().status;
        process.stderr.write(`[mem] ${phase} rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`);
      }, memlogMs)
    : undefined;
await go;
c.start();
const long = 3_600_000;
await c.waitFor((s) => s.phase === 'unmask' || s.lastRound !== null, long);
// The server's unmask work: reconstructing secrets and stripping masks once the shares are in.
const unmaskCpu0 = cpu();
await c.waitFor((s) => s.lastRound !== null, long);
const unmaskCpu = cpu() - unmaskCpu0;
await c.finished;
clearInterval(closeWhenOnlyDroppedMissing);
clearInterval(memlog);
out(`summary ${JSON.stringify({ ...c.summaries[0], coordinatorCpuS: cpu() - startCpu, unmaskCpuS: unmaskCpu })}`);
out('finished');

await closed;
await running.close();
