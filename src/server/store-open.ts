import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FederationConfig } from './config.js';
import { LeaderLock } from './leader-lock.js';
import { PostgresCoordinatorStore } from './postgres-store.js';
import { SqliteCoordinatorStore } from './sqlite-store.js';
import type { CoordinatorStore } from './store.js';

/** A store opened from a config, with the leadership it needs. */
export interface OpenedStore {
  store: CoordinatorStore;
  /** Held for the process lifetime on a Postgres store; null for SQLite (one process per file). */
  leader: LeaderLock | null;
  /** Closes the store, then gives up leadership. */
  close(): Promise<void>;
}

/** Options of {@link openConfiguredStore}. */
export interface OpenStoreOptions {
  log?: (line: string) => void;
  /** Called when a Postgres leader loses its lock (its connection died): it must stop running rounds. */
  onLeadershipLost?: (reason: string) => void;
  /** How often a standby asks for the leader lock (ms). */
  leaderPollMs?: number;
}

/**
 * Opens the store `config.storage` names. For Postgres this first waits to become leader (a
 * standby blocks here until the leader's lock is released), so the caller's startup recovery —
 * recording rounds left running as aborted — only ever runs in the one process that leads.
 */
export async function openConfiguredStore(config: FederationConfig, opts: OpenStoreOptions = {}): Promise<OpenedStore> {
  const { postgres, schema, path } = config.storage;
  if (postgres !== undefined) {
    const leader = await LeaderLock.acquire({
      url: postgres,
      ...(schema ? { schema } : {}),
      federationId: config.federationId,
      ...(opts.leaderPollMs !== undefined ? { pollMs: opts.leaderPollMs } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.onLeadershipLost ? { onLost: opts.onLeadershipLost } : {}),
    });
    let store: CoordinatorStore;
    try {
      store = await PostgresCoordinatorStore.open({ url: postgres, ...(schema ? { schema } : {}) });
    } catch (e) {
      await leader.release();
      throw e;
    }
    return {
      store,
      leader,
      async close() {
        await store.close();
        await leader.release();
      },
    };
  }
  const file = path as string;
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const store = new SqliteCoordinatorStore(file);
  return { store, leader: null, close: () => store.close() };
}
