/**
 * A coordinator in its own process, for load and CLI-free end-to-end tests: reads a federation
 * config (JSON) from argv[2], listens, prints `url <url>`, then `rss <bytes>` every 100 ms, and
 * `summaries <json>`, `latencies <json ms list>` and `finished` when the federation is done; it
 * keeps serving until its stdin closes.
 */
import { readFileSync } from 'node:fs';
import { parseFederationConfig } from '../../src/server/config.js';
import { startCoordinator } from '../../src/server/start.js';

const config = parseFederationConfig(JSON.parse(readFileSync(process.argv[2] as string, 'utf8')));
const running = await startCoordinator({ config, initialModel: new Float32Array(config.dim) });
const out = (line: string) => process.stdout.write(`${line}\n`);
out(`url ${running.url}`);
// Server-side latency of every request except long-polls (which wait on purpose), in ms.
const latencies: number[] = [];
running.server.on('request', (req, res) => {
  const t = process.hrtime.bigint();
  const url = req.url ?? '';
  if (url.includes('since=') || url.includes('waitFor=')) return;
  res.on('finish', () => latencies.push(Number(process.hrtime.bigint() - t) / 1e6));
});
let peak = 0;
const timer = setInterval(() => {
  const rss = process.memoryUsage().rss;
  peak = Math.max(peak, rss);
  out(`rss ${rss}`);
}, 100);
await running.coordinator.finished;
clearInterval(timer);
out(`summaries ${JSON.stringify(running.coordinator.summaries)}`);
out(`latencies ${JSON.stringify(latencies)}`);
out(`peak-rss ${peak}`);
out('finished');
// Keep answering (clients may still ask how the round ended) until the parent closes our stdin.
await new Promise((r) => {
  process.stdin.on('end', r).on('close', r).resume();
  setTimeout(r, 60_000).unref();
});
await running.close();
