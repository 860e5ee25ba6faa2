import Database from 'better-sqlite3';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../secagg/util/bytes.js';
import { FedveilError } from '../secagg/util/errors.js';
import type { PhaseName } from './config.js';
import { isCharged, LEDGER_VERSION, LedgerEntrySchema, ZERO_HASH, type LedgerEntry } from './ledger-entry.js';
import type { CoordinatorStore, RoundRecord, StoredModel } from './store.js';
import { modelOf, roundOf, type ModelRow, type RoundRow } from './store-rows.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (
  version INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  weights BLOB NOT NULL,
  optimizer_state BLOB
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
) WITHOUT ROWID;
`;

/** SHA-256 (hex) of model weight bytes, the `hash` of a {@link StoredModel}. */
export function modelHash(weights: Uint8Array): string {
  return toHex(sha256(weights));
}

/**
 * The embedded default {@link CoordinatorStore}: one SQLite file (better-sqlite3, WAL journal).
 * Ledger commits run with `synchronous=FULL` so that a committed entry survives power loss, not
 * only a process crash; the frequent nonce writes run with `synchronous=NORMAL` (they protect only
 * the running round, whose id is never reused after a restart).
 */
export class SqliteCoordinatorStore implements CoordinatorStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  /** Opens (creating when needed) the database at `path`; ':memory:' for a throwaway store. */
  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrateLedgerTable();
    this.db.exec(SCHEMA);
    // Files created before the optimiser state was kept get its column (NULL for old versions).
    const columns = this.db.prepare('PRAGMA table_info(models)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'optimizer_state')) this.db.exec('ALTER TABLE models ADD COLUMN optimizer_state BLOB');
  }

  /**
   * Ledger v1 tables required a round for every entry (v2's genesis has none). An empty v1 table
   * is replaced; a file that holds a v1 ledger is refused: its entries cannot be verified as v2.
   */
  private migrateLedgerTable(): void {
    const columns = this.db.prepare('PRAGMA table_info(ledger)').all() as { name: string; notnull: number }[];
    if (!columns.some((c) => c.name === 'round' && c.notnull === 1)) return;
    const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM ledger').get() as { n: number };
    if (n > 0) throw new FedveilError('store/ledger-version', `this store holds a version-1 ledger; this coordinator writes version ${LEDGER_VERSION}: start the federation on a new store`);
    this.db.exec('DROP TABLE ledger');
  }

  async getMeta(key: string): Promise<string | undefined> {
    const row = this.statement('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  async initMeta(key: string, value: string): Promise<string> {
    this.statement('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(key, value);
    return (await this.getMeta(key)) as string;
  }

  async latestModel(): Promise<StoredModel | null> {
    const row = this.statement('SELECT version, hash, weights, optimizer_state FROM models ORDER BY version DESC LIMIT 1').get() as ModelRow | undefined;
    return row === undefined ? null : modelOf(row);
  }

  async getModel(version: number): Promise<StoredModel | null> {
    const row = this.statement('SELECT version, hash, weights, optimizer_state FROM models WHERE version = ?').get(version) as ModelRow | undefined;
    return row === undefined ? null : modelOf(row);
  }

  async initModel(weights: Uint8Array): Promise<StoredModel> {
    this.withFullSync(() => {
      this.statement('INSERT OR IGNORE INTO models (version, hash, weights) SELECT 0, ?, ? WHERE NOT EXISTS (SELECT 1 FROM models)').run(
        modelHash(weights),
        Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength),
      );
    });
    return (await this.latestModel()) as StoredModel;
  }

  async nextRoundId(): Promise<number> {
    const row = this.statement('SELECT MAX(round) AS m FROM rounds').get() as { m: number | null };
    return row.m === null ? 0 : row.m + 1;
  }

  async beginRound(r: Pick<RoundRecord, 'round' | 'startedAt' | 'cohort' | 'draw'>): Promise<void> {
    const next = await this.nextRoundId();
    if (r.round !== next) throw new FedveilError('store/round-id', `round ${r.round} cannot begin: the next round id is ${next}`);
    this.withFullSync(() => {
      this.statement("INSERT INTO rounds (round, status, started_at, cohort, draw) VALUES (?, 'running', ?, ?, ?)")
        .run(r.round, r.startedAt, JSON.stringify(r.cohort), JSON.stringify(r.draw));
    });
  }

  async setRoundPhase(round: number, phase: PhaseName): Promise<void> {
    this.statement("UPDATE rounds SET phase = ? WHERE round = ? AND status = 'running'").run(phase, round);
  }

  async abortRound(round: number, reason: string, endedAt: string): Promise<void> {
    this.withFullSync(() => {
      this.statement("UPDATE rounds SET status = 'aborted', abort_reason = ?, ended_at = ? WHERE round = ? AND status = 'running'")
        .run(reason, endedAt, round);
    });
  }

  async abortRunningRounds(reason: string, endedAt: string): Promise<number[]> {
    const ids = (this.statement("SELECT round FROM rounds WHERE status = 'running' ORDER BY round").all() as { round: number }[]).map(
      (r) => r.round,
    );
    for (const id of ids) await this.abortRound(id, reason, endedAt);
    return ids;
  }

  async completeRound(round: number, entry: LedgerEntry, model: StoredModel | null, endedAt: string): Promise<void> {
    const tx = this.db.transaction(() => {
      this.checkRunning(round, entry);
      this.checkExtends(entry);
      const latest = this.statement('SELECT MAX(version) AS v FROM models').get() as { v: number | null };
      const expectedVersion = latest.v === null ? 0 : latest.v + 1;
      if (model !== null && model.version !== expectedVersion) {
        throw new FedveilError('store/model-version', `model version ${model.version} is not the next version ${expectedVersion}`);
      }
      this.statement('INSERT INTO ledger (seq, round, hash, entry) VALUES (?, ?, ?, ?)').run(entry.seq, round, entry.hash, JSON.stringify(entry));
      this.statement("UPDATE rounds SET status = 'completed', ended_at = ? WHERE round = ?").run(endedAt, round);
      if (model === null) return;
      this.statement('INSERT INTO models (version, hash, weights, optimizer_state) VALUES (?, ?, ?, ?)')
        .run(
          model.version,
          model.hash,
          Buffer.from(model.weights.buffer, model.weights.byteOffset, model.weights.byteLength),
          model.optimizerState ? Buffer.from(model.optimizerState) : null,
        );
    });
    this.withFullSync(() => tx.immediate());
  }

  async appendGenesis(entry: LedgerEntry): Promise<void> {
    const tx = this.db.transaction(() => {
      if (entry.kind !== 'genesis' || entry.seq !== 0) throw new FedveilError('store/ledger-chain', 'only a genesis entry at seq 0 opens the ledger');
      this.checkExtends(entry);
      this.statement('INSERT INTO ledger (seq, round, hash, entry) VALUES (?, NULL, ?, ?)').run(entry.seq, entry.hash, JSON.stringify(entry));
    });
    this.withFullSync(() => tx.immediate());
  }

  async appendAmendment(entry: LedgerEntry): Promise<void> {
    const tx = this.db.transaction(() => {
      if (entry.kind !== 'amendment') throw new FedveilError('store/ledger-chain', 'not an amendment entry');
      this.checkExtends(entry);
      this.statement('INSERT INTO ledger (seq, round, hash, entry) VALUES (?, NULL, ?, ?)').run(entry.seq, entry.hash, JSON.stringify(entry));
    });
    this.withFullSync(() => tx.immediate());
  }

  async chargeAbortedRound(round: number, entry: LedgerEntry, reason: string, endedAt: string): Promise<void> {
    const tx = this.db.transaction(() => {
      this.checkRunning(round, entry);
      this.checkExtends(entry);
      this.statement('INSERT INTO ledger (seq, round, hash, entry) VALUES (?, ?, ?, ?)').run(entry.seq, round, entry.hash, JSON.stringify(entry));
      this.statement("UPDATE rounds SET status = 'aborted', abort_reason = ?, ended_at = ? WHERE round = ?").run(reason, endedAt, round);
    });
    this.withFullSync(() => tx.immediate());
  }

  private checkRunning(round: number, entry: LedgerEntry): void {
    const r = this.statement('SELECT status FROM rounds WHERE round = ?').get(round) as { status: string } | undefined;
    if (r === undefined) throw new FedveilError('store/unknown-round', `round ${round} was never begun`);
    if (r.status !== 'running') throw new FedveilError('store/round-not-running', `round ${round} is ${r.status}; it cannot be released again`);
    if (!isCharged(entry) || entry.round !== round) throw new FedveilError('store/ledger-round', `the ledger entry is not for round ${round}`);
  }

  private checkExtends(entry: LedgerEntry): void {
    const last = this.statement('SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const expectedSeq = last === undefined ? 0 : last.seq + 1;
    const expectedPrev = last === undefined ? ZERO_HASH : last.hash;
    if (entry.seq !== expectedSeq || entry.prevHash !== expectedPrev) {
      throw new FedveilError('store/ledger-chain', `ledger entry seq ${entry.seq} does not extend the chain (expected seq ${expectedSeq})`);
    }
  }

  async ledger(): Promise<LedgerEntry[]> {
    const rows = this.statement('SELECT entry FROM ledger ORDER BY seq').all() as { entry: string }[];
    return rows.map((r) => LedgerEntrySchema.parse(JSON.parse(r.entry)));
  }

  async rounds(): Promise<RoundRecord[]> {
    const rows = this.statement('SELECT * FROM rounds ORDER BY round').all() as RoundRow[];
    return rows.map(roundOf);
  }

  async useNonce(sender: string, nonce: string, round: number): Promise<boolean> {
    return this.statement('INSERT OR IGNORE INTO nonces (sender, nonce, round) VALUES (?, ?, ?)').run(sender, nonce, round).changes === 1;
  }

  async pruneNonces(beforeRound: number): Promise<void> {
    this.statement('DELETE FROM nonces WHERE round < ?').run(beforeRound);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** The prepared statement of `sql`, compiled on first use: a nonce is written on every request. */
  private statement(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (st === undefined) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private withFullSync(fn: () => void): void {
    this.db.pragma('synchronous = FULL');
    try {
      fn();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }
}
