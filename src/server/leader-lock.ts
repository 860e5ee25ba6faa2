import pg from 'pg';
import { FedveilError } from '../secagg/util/errors.js';
import { checkSchemaName } from './postgres-store.js';

/** The `application_name` of the lock's connection, so operators can find the leader in pg_stat_activity. */
export const LEADER_APPLICATION_NAME = 'fedveil-leader-lock';

/** Options of {@link LeaderLock.acquire}. */
export interface LeaderLockOptions {
  url: string;
  /** The store's schema: one leader per schema and federation. */
  schema?: string;
  federationId: string;
  /** How often a standby asks for the lock again (default 500 ms). */
  pollMs?: number;
  log?: (line: string) => void;
  /** Called once when the lock's connection is lost after it was acquired: this process is no longer leader. */
  onLost?: (reason: string) => void;
  /** Stops waiting (the promise rejects with FedveilError 'leader/cancelled'). */
  signal?: AbortSignal;
}

/**
 * Leadership of one federation's Postgres store: a session-level advisory lock held on a
 * dedicated connection for as long as the process leads. Postgres releases it when that
 * connection ends — including when the leader's process is SIGKILLed or its machine is lost —
 * so a standby polling for it takes over within one poll interval of the server noticing.
 */
export class LeaderLock {
  private released = false;

  private constructor(
    private readonly client: pg.Client,
    /** The advisory lock key (text hashed by Postgres). */
    readonly key: string,
    /** The server process id of the lock's connection (pg_stat_activity.pid). */
    readonly backendPid: number,
  ) {}

  /** Waits until this process holds the lock (a standby waits here for the leader to go). */
  static async acquire(opts: LeaderLockOptions): Promise<LeaderLock> {
    const key = `fedveil-leader:${checkSchemaName(opts.schema ?? 'public')}:${opts.federationId}`;
    const client = new pg.Client({ connectionString: opts.url, application_name: LEADER_APPLICATION_NAME });
    const lost = (reason: string) => {
      if (lock !== null && !lock.released) {
        lock.released = true;
        opts.onLost?.(reason);
      }
    };
    let lock: LeaderLock | null = null;
    client.on('error', (e) => lost(`leader lock connection failed: ${e.message}`));
    client.on('end', () => lost('leader lock connection closed'));
    try {
      await client.connect();
    } catch (e) {
      throw new FedveilError('store/unavailable', `cannot connect to Postgres for the leader lock: ${(e as Error).message}`);
    }
    const pollMs = opts.pollMs ?? 500;
    let said = false;
    let backendPid = 0;
    try {
      for (;;) {
        if (opts.signal?.aborted) throw new FedveilError('leader/cancelled', 'stopped waiting for the leader lock');
        const { rows } = await client.query<{ ok: boolean; pid: number }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok, pg_backend_pid() AS pid', [key]);
        if (rows[0]?.ok) {
          backendPid = rows[0].pid;
          break;
        }
        if (!said) opts.log?.('another coordinator leads this federation; standing by until its lock is released');
        said = true;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    } catch (e) {
      await client.end().catch(() => {});
      throw e;
    }
    lock = new LeaderLock(client, key, backendPid);
    if (said) opts.log?.('leader lock acquired: taking over');
    return lock;
  }

  /** Gives up leadership (closes the lock's connection). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.client.end().catch(() => {});
  }
}
