import pg from 'pg';
import { FedveilError } from '../secagg/util/errors.js';
import type { PhaseName } from './config.js';
import { isCharged, LedgerEntrySchema, ZERO_HASH, type LedgerEntry } from './ledger-entry.js';
import { modelHash } from './sqlite-store.js';
import type { CoordinatorStore, RoundRecord, StoredModel } from './store.js';
import { modelOf, roundOf, type ModelRow, type RoundRow } from './store-rows.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (
  version INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  weights BYTEA NOT NULL,
  optimizer_state BYTEA
);
CREATE TABLE IF NOT EXISTS rounds (
  round INTEGER PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'aborted')),
  started_at TEXT NOT NULL,
  ended_at TEXT,
  cohort TEXT NOT NULL,
  draw TEXT NOT NULL,
  phase TEXT,
  abort_reason TEXT
);
CREATE TABLE IF NOT EXISTS ledger (
  seq INTEGER PRIMARY KEY,
  round INTEGER UNIQUE REFERENCES rounds(round),
  hash TEXT NOT NULL UNIQUE,
  entry TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
  sender TEXT NOT NULL,
  nonce TEXT NOT NULL,
  round INTEGER NOT NULL,
  PRIMARY KEY (sender, nonce)
);
`;

/** Where a {@link PostgresCoordinatorStore} keeps its tables. */
export interface PostgresStoreOptions {
  /** A libpq connection URL, `postgres://user:password@host:port/database`. */
  url: string;
  /** Schema of the tables (created when missing); default `public`. Letters, digits and `_`. */
  schema?: string;
  /** Most connections the store opens at once (default 4). */
  maxConnections?: number;
}

type Query = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

/** Runs `fn` on one pooled connection inside BEGIN … COMMIT, after `lock` (rolled back on any error). */
async function inTransaction(pool: pg.Pool, lock: string, fn: (q: Query) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(lock);
    await fn(async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[]);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

const bytes = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Checks a schema name is a plain identifier, so it can be written into SQL unquoted. */
export function checkSchemaName(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new FedveilError('store/invalid-schema', `Postgres schema '${schema}' must be letters, digits and _ (not starting with a digit)`);
  }
  return schema.toLowerCase();
}

/**
 * The {@link CoordinatorStore} for coordinators that must survive losing their machine: the same
 * tables as the SQLite store, in a PostgreSQL schema. The ledger, round-completion and model
 * writes of a round run in ONE transaction that first takes an exclusive lock on the ledger
 * table, so two writers can never interleave a chain; ordinary commits are durable (Postgres'
 * default `synchronous_commit = on`).
 *
 * Running two coordinators on one store is prevented by {@link LeaderLock}, not here; but a
 * deposed leader still cannot release a round after a standby took over: the standby records
 * every running round aborted on startup, and completeRound refuses a round that is not running.
 */
export class PostgresCoordinatorStore implements CoordinatorStore {
  private constructor(
    private readonly pool: pg.Pool,
    /** The schema the tables live in. */
    readonly schema: string,
  ) {}

  /** Connects, creating the schema and its tables when missing. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresCoordinatorStore> {
    const schema = checkSchemaName(opts.schema ?? 'public');
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.maxConnections ?? 4, options: `-c search_path=${schema}` });
    // An idle pooled connection that the server drops must not crash the process.
    pool.on('error', () => {});
    try {
      // Concurrent first starts of two coordinators would race on CREATE … IF NOT EXISTS.
      await inTransaction(pool, "SELECT pg_advisory_xact_lock(hashtextextended('fedveil-schema', 0))", async (q) => {
        await q(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await q(SCHEMA);
      });
    } catch (e) {
      await pool.end().catch(() => {});
      if (e instanceof FedveilError) throw e;
      throw new FedveilError('store/unavailable', `cannot open the Postgres store: ${(e as Error).message}`);
    }
    return new PostgresCoordinatorStore(pool, schema);
  }

  private async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }

  /** Runs `fn` in one transaction holding the ledger table's write lock. */
  private transaction(fn: (q: Query) => Promise<void>): Promise<void> {
    return inTransaction(this.pool, 'LOCK TABLE ledger IN SHARE ROW EXCLUSIVE MODE', fn);
  }

  async getMeta(key: string): Promise<string | undefined> {
    const [row] = await this.rows<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
    return row?.value;
  }

  async initMeta(key: string, value: string): Promise<string> {
    await this.pool.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.getMeta(key)) as string;
  }

  async latestModel(): Promise<StoredModel | null> {
    const [row] = await this.rows<ModelRow>('SELECT version, hash, weights, optimizer_state FROM models ORDER BY version DESC LIMIT 1');
    return row === undefined ? null : modelOf(row);
  }

  async getModel(version: number): Promise<StoredModel | null> {
    const [row] = await this.rows<ModelRow>('SELECT version, hash, weights, optimizer_state FROM models WHERE version = $1', [version]);
    return row === undefined ? null : modelOf(row);
  }

  async initModel(weights: Uint8Array): Promise<StoredModel> {
    await this.transaction(async (q) => {
      await q('INSERT INTO models (version, hash, weights) SELECT 0, $1, $2 WHERE NOT EXISTS (SELECT 1 FROM models)', [modelHash(weights), bytes(weights)]);
    });
    return (await this.latestModel()) as StoredModel;
  }

  async nextRoundId(): Promise<number> {
    const [row] = await this.rows<{ m: number | null }>('SELECT MAX(round) AS m FROM rounds');
    return row?.m === null || row?.m === undefined ? 0 : row.m + 1;
  }

  async beginRound(r: Pick<RoundRecord, 'round' | 'startedAt' | 'cohort' | 'draw'>): Promise<void> {
    await this.transaction(async (q) => {
      const [row] = await q<{ m: number | null }>('SELECT MAX(round) AS m FROM rounds');
      const next = row?.m === null || row?.m === undefined ? 0 : row.m + 1;
      if (r.round !== next) throw new FedveilError('store/round-id', `round ${r.round} cannot begin: the next round id is ${next}`);
      await q("INSERT INTO rounds (round, status, started_at, cohort, draw) VALUES ($1, 'running', $2, $3, $4)", [
        r.round,
        r.startedAt,
        JSON.stringify(r.cohort),
        JSON.stringify(r.draw),
      ]);
    });
  }

  async setRoundPhase(round: number, phase: PhaseName): Promise<void> {
    await this.pool.query("UPDATE rounds SET phase = $1 WHERE round = $2 AND status = 'running'", [phase, round]);
  }

  async abortRound(round: number, reason: string, endedAt: string): Promise<void> {
    await this.pool.query("UPDATE rounds SET status = 'aborted', abort_reason = $1, ended_at = $2 WHERE round = $3 AND status = 'running'", [
      reason,
      endedAt,
      round,
    ]);
  }

  async abortRunningRounds(reason: string, endedAt: string): Promise<number[]> {
    const rows = await this.rows<{ round: number }>(
      "UPDATE rounds SET status = 'aborted', abort_reason = $1, ended_at = $2 WHERE status = 'running' RETURNING round",
      [reason, endedAt],
    );
    return rows.map((r) => r.round).sort((a, b) => a - b);
  }

  async completeRound(round: number, entry: LedgerEntry, model: StoredModel | null, endedAt: string): Promise<void> {
    await this.transaction(async (q) => {
      await this.checkRunning(q, round, entry);
      await this.checkExtends(q, entry);
      const [latest] = await q<{ v: number | null }>('SELECT MAX(version) AS v FROM models');
      const expectedVersion = latest?.v === null || latest?.v === undefined ? 0 : latest.v + 1;
      if (model !== null && model.version !== expectedVersion) {
        throw new FedveilError('store/model-version', `model version ${model.version} is not the next version ${expectedVersion}`);
      }
      await q('INSERT INTO ledger (seq, round, hash, entry) VALUES ($1, $2, $3, $4)', [entry.seq, round, entry.hash, JSON.stringify(entry)]);
      await q("UPDATE rounds SET status = 'completed', ended_at = $1 WHERE round = $2", [endedAt, round]);
      if (model === null) return;
      await q('INSERT INTO models (version, hash, weights, optimizer_state) VALUES ($1, $2, $3, $4)', [
        model.version,
        model.hash,
        bytes(model.weights),
        model.optimizerState ? bytes(model.optimizerState) : null,
      ]);
    });
  }

  async appendGenesis(entry: LedgerEntry): Promise<void> {
    await this.transaction(async (q) => {
      if (entry.kind !== 'genesis' || entry.seq !== 0) throw new FedveilError('store/ledger-chain', 'only a genesis entry at seq 0 opens the ledger');
      await this.checkExtends(q, entry);
      await q('INSERT INTO ledger (seq, round, hash, entry) VALUES ($1, NULL, $2, $3)', [entry.seq, entry.hash, JSON.stringify(entry)]);
    });
  }

  async appendAmendment(entry: LedgerEntry): Promise<void> {
    await this.transaction(async (q) => {
      if (entry.kind !== 'amendment') throw new FedveilError('store/ledger-chain', 'not an amendment entry');
      await this.checkExtends(q, entry);
      await q('INSERT INTO ledger (seq, round, hash, entry) VALUES ($1, NULL, $2, $3)', [entry.seq, entry.hash, JSON.stringify(entry)]);
    });
  }

  async chargeAbortedRound(round: number, entry: LedgerEntry, reason: string, endedAt: string): Promise<void> {
    await this.transaction(async (q) => {
      await this.checkRunning(q, round, entry);
      await this.checkExtends(q, entry);
      await q('INSERT INTO ledger (seq, round, hash, entry) VALUES ($1, $2, $3, $4)', [entry.seq, round, entry.hash, JSON.stringify(entry)]);
      await q("UPDATE rounds SET status = 'aborted', abort_reason = $1, ended_at = $2 WHERE round = $3", [reason, endedAt, round]);
    });
  }

  private async checkRunning(q: <T>(sql: string, params?: unknown[]) => Promise<T[]>, round: number, entry: LedgerEntry): Promise<void> {
    // FOR UPDATE: a concurrent abort (a standby's startup) waits for this release, or this waits for it.
    const [r] = await q<{ status: string }>('SELECT status FROM rounds WHERE round = $1 FOR UPDATE', [round]);
    if (r === undefined) throw new FedveilError('store/unknown-round', `round ${round} was never begun`);
    if (r.status !== 'running') throw new FedveilError('store/round-not-running', `round ${round} is ${r.status}; it cannot be released again`);
    if (!isCharged(entry) || entry.round !== round) throw new FedveilError('store/ledger-round', `the ledger entry is not for round ${round}`);
  }

  private async checkExtends(q: <T>(sql: string, params?: unknown[]) => Promise<T[]>, entry: LedgerEntry): Promise<void> {
    const [last] = await q<{ seq: number; hash: string }>('SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1');
    const expectedSeq = last === undefined ? 0 : last.seq + 1;
    const expectedPrev = last === undefined ? ZERO_HASH : last.hash;
    if (entry.seq !== expectedSeq || entry.prevHash !== expectedPrev) {
      throw new FedveilError('store/ledger-chain', `ledger entry seq ${entry.seq} does not extend the chain (expected seq ${expectedSeq})`);
    }
  }

  async ledger(): Promise<LedgerEntry[]> {
    const rows = await this.rows<{ entry: string }>('SELECT entry FROM ledger ORDER BY seq');
    return rows.map((r) => LedgerEntrySchema.parse(JSON.parse(r.entry)));
  }

  async rounds(): Promise<RoundRecord[]> {
    const rows = await this.rows<RoundRow>('SELECT * FROM rounds ORDER BY round');
    return rows.map(roundOf);
  }

  async useNonce(sender: string, nonce: string, round: number): Promise<boolean> {
    const res = await this.pool.query('INSERT INTO nonces (sender, nonce, round) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [sender, nonce, round]);
    return res.rowCount === 1;
  }

  async pruneNonces(beforeRound: number): Promise<void> {
    await this.pool.query('DELETE FROM nonces WHERE round < $1', [beforeRound]);
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}
