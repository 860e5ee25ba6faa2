/**
 * Child process of the failover test: the federation's four participants, following whichever
 * coordinator leads at http://127.0.0.1:PORT/ (they retry while none does). Prints one
 * `result <round> <status> <code>` line per participation and `done` when all four finished.
 * Usage: node --import tsx test/server/failover-participants.ts PORT
 */
import { Participant } from '../../src/server/participant.js';
import { identities } from './fixtures.js';

const [port] = process.argv.slice(2) as [string];
const people = identities(4, 'failover');
const out = (line: string) => process.stdout.write(`${line}\n`);
await Promise.all(
  people.map(async (id, i) => {
    const p = new Participant({
      coordinator: `http://127.0.0.1:${port}/`,
      identity: id,
      train: () => ({ update: new Float32Array(8).fill(0.01 * (i + 1)), examples: 1 }),
      retry: { baseDelayMs: 20, maxDelayMs: 200, giveUpAfterMs: 60_000 },
      longPollMs: 1000,
    });
    for (const r of await p.run()) out(`result ${r.round} ${r.status} ${r.code ?? '-'}`);
  }),
);
out('done');
