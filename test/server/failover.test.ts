import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/secagg/index.js';
import { Client } from 'pg';
import { LEADER_APPLICATION_NAME, LeaderLock } from '../../src/server/leader-lock.js';
import { postgres } from '../services.js';
import { failoverCycles } from './failover-check.js';
import { dropSchemas, freshSchema } from './pg-schema.js';

const pg = postgres();
afterAll(async () => {
  if (pg.available) await dropSchemas(pg.location);
});

describe.skipIf(!pg.available)(`Postgres leader lock and failover${pg.available ? '' : ` (${pg.skipReason})`}`, () => {
  it('one leader per federation and schema; a standby takes over when the leader lets go', async () => {
    const schema = await freshSchema(pg.location);
    const a = await LeaderLock.acquire({ url: pg.location, schema, federationId: 'f' });
    const other = await LeaderLock.acquire({ url: pg.location, schema, federationId: 'g' }); // another federation: independent
    const stop = new AbortController();
    const said: string[] = [];
    let bLeads = false;
    const b = LeaderLock.acquire({ url: pg.location, schema, federationId: 'f', pollMs: 20, log: (l) => said.push(l), signal: stop.signal }).then((l) => {
      bLeads = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(bLeads).toBe(false);
    expect(said[0]).toMatch(/standing by/);
    await a.release();
    const lock = await b;
    expect(bLeads).toBe(true);
    const c = LeaderLock.acquire({ url: pg.location, schema, federationId: 'f', pollMs: 20, signal: stop.signal });
    stop.abort();
    await expect(c).rejects.toMatchObject({ code: 'leader/cancelled' });
    await lock.release();
    await other.release();
  });

  it('a leader whose lock connection dies is told at once (it must stop running rounds)', async () => {
    const schema = await freshSchema(pg.location);
    const lost: string[] = [];
    const lock = await LeaderLock.acquire({ url: pg.location, schema, federationId: 'f', onLost: (r) => lost.push(r) });
    const admin = new Client({ connectionString: pg.location });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ application_name: string }>('SELECT application_name FROM pg_stat_activity WHERE pid = $1', [lock.backendPid]);
      expect(rows[0]?.application_name).toBe(LEADER_APPLICATION_NAME);
      await admin.query('SELECT pg_terminate_backend($1)', [lock.backendPid]);
    } finally {
      await admin.end();
    }
    for (let i = 0; i < 100 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/leader lock connection/);
    await lock.release();
    // The lock is free again: another process can lead.
    const next = await LeaderLock.acquire({ url: pg.location, schema, federationId: 'f' });
    await next.release();
  });

  it('the leader is SIGKILLed mid-federation: a standby takes over, no round released twice, no ε lost, the ledger verifies', async () => {
    const { epsilons, restartAborts, takeoverMs } = await failoverCycles(pg.location, 10, 2, seededRandom('failover-fast'), 2500);
    console.log(`failover: ${takeoverMs.length} kills (${restartAborts} interrupted a running round), takeover ms ${takeoverMs.join(', ')}, ε after each: ${epsilons.map((e) => e.toFixed(3)).join(', ')}`);
    expect(takeoverMs.length).toBeGreaterThanOrEqual(1);
    expect(epsilons.at(-1)).toBeGreaterThan(0);
  }, 120_000);
});
