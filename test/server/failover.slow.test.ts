import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/secagg/index.js';
import { postgres } from '../services.js';
import { failoverCycles } from './failover-check.js';
import { dropSchemas } from './pg-schema.js';

const pg = postgres();
afterAll(async () => {
  if (pg.available) await dropSchemas(pg.location);
});

describe.skipIf(!pg.available)(`Postgres failover soak${pg.available ? '' : ` (${pg.skipReason})`}`, () => {
  it('20 SIGKILLs of the leader at random points over 200 rounds: a standby takes over each time', async () => {
    const { epsilons, restartAborts, takeoverMs } = await failoverCycles(pg.location, 200, 20, seededRandom('failover-slow'), 3000);
    console.log(`failover (slow): ${takeoverMs.length} kills (${restartAborts} interrupted a running round), takeover ms ${takeoverMs.join(', ')}, ε after each: ${epsilons.map((e) => e.toFixed(3)).join(', ')}`);
    expect(takeoverMs).toHaveLength(20);
  });
});
