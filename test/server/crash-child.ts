/**
 * Child process of the crash test: a coordinator on SQLite plus its participants, in one
 * process that the test kills with SIGKILL at random moments. Prints `observed <version> <hash>`
 * for every global model version it sees served over HTTP, and `finished` at the end.
 * Usage: node --import tsx test/server/crash-child.ts DB ROUNDS
 */
import { Participant } from '../../src/server/participant.js';
import { startCoordinator } from '../../src/server/start.js';
import { identities, killTestConfig } from './fixtures.js';

const [db, roundsArg] = process.argv.slice(2) as [string, string];
const people = identities(4, 'crash');
const config = killTestConfig('crash', Number(roundsArg), { storage: { path: db } });
const running = await startCoordinator({ config, initialModel: new Float32Array(config.dim) });
const out = (line: string) => process.stdout.write(`${line}\n`);
let seen = -1;
const watch = setInterval(() => {
  void fetch(new URL('v1/model', running.url))
    .then(async (res) => {
      const version = Number(res.headers.get('x-fedveil-model-version'));
      const hash = res.headers.get('x-fedveil-model-hash');
      await res.arrayBuffer();
      if (version !== seen) {
        seen = version;
        out(`observed ${version} ${hash}`);
      }
    })
    .catch(() => {});
}, 5);
const clients = people.map(
  (id, i) =>
    new Participant({
      coordinator: running.url,
      identity: id,
      train: () => ({ update: new Float32Array(config.dim).fill(0.01 * (i + 1)), examples: 1 }),
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
    }),
);
await Promise.all(clients.map((c) => c.run()));
await running.coordinator.finished;
clearInterval(watch);
out('finished');
await running.close();
