/**
 * Child process of the failover test: one coordinator on a Postgres store. It waits for the
 * leader lock (a standby), then listens on PORT and runs the federation; the test SIGKILLs it at
 * random moments. Prints `standby` while it waits for the lock, `leading` once it serves, `finished` when the federation is done (it then serves on).
 * Usage: node --import tsx test/server/failover-coordinator.ts URL SCHEMA IDENTITY PORT ROUNDS
 */
import { startCoordinator } from '../../src/server/start.js';
import { killTestConfig } from './fixtures.js';

const [url, schema, identity, port, rounds] = process.argv.slice(2) as [string, string, string, string, string];
const config = killTestConfig('failover', Number(rounds), { storage: { postgres: url, schema }, identity, listen: { port: Number(port) } });
const out = (line: string) => process.stdout.write(`${line}\n`);
const running = await startCoordinator({ config, initialModel: new Float32Array(config.dim), leaderPollMs: 50,
  log: (l) => {
    if (/standing by/.test(l)) out('standby');
    process.stderr.write(`${l}\n`);
  },
});
out('leading');
await running.coordinator.finished;
out('finished');
// Keep answering (status 'finished') until the test ends this process, so that every participant
// learns the federation is over rather than waiting for a coordinator that went away.
