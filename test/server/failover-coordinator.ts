/**
 * Child process of the failover test: one coordinator on a Postgres store. It waits for the
 * leader lock (a standby), then listens on PORT and runs the federation; the test SIGKILLs it at
 * random moments. Prints `standby` while it waits for the lock, `leading` once it serves, `finished` when the federation is done (it then serves on).
 * Usage: node --import tsx test/server/failover-coordinator.ts URL SCHEMA IDENTITY PORT ROUNDS
 */
import { toHex } from '../../src/secagg/index.js';
import { parseFederationConfig } from '../../src/server/config.js';
import { startCoordinator } from '../../src/server/start.js';
import { identities } from './fixtures.js';

const [url, schema, identity, port, rounds] = process.argv.slice(2) as [string, string, string, string, string];
const people = identities(4, 'failover');
const config = parseFederationConfig({
  federationId: 'fed-failover',
  participants: people.map((p) => toHex(p.publicKey)),
  rounds: Number(rounds),
  cohort: { size: 4 },
  threshold: 2,
  dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: false, noiseMultiplier: 0.8 },
  model: { name: 'test' },
  dim: 8,
  deadlines: { 'advertise-keys': 2000, 'share-keys': 2000, 'masked-input': 2000, 'consistency-check': 2000, unmask: 2000 },
  storage: { postgres: url, schema },
  identity,
  listen: { port: Number(port) },
  longPollMs: 1000,
});
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
