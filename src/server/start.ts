import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultProvider, systemRandom, type KeyPair } from '../secagg/index.js';
import { createCoordinatorApp, type CoordinatorAppOptions } from './app.js';
import type { FederationConfig } from './config.js';
import { Coordinator, type CoordinatorOptions } from './coordinator.js';
import { generateIdentity, readIdentityFile, writeIdentityFile } from './identity.js';
import { exportLedger, type LedgerExport } from './report.js';
import { SqliteCoordinatorStore } from './sqlite-store.js';
import type { CoordinatorStore } from './store.js';

/** Options of {@link startCoordinator}. */
export interface StartCoordinatorOptions extends Omit<CoordinatorOptions, 'store' | 'identity'> {
  /** Default: SQLite at `config.storage.path`. */
  store?: CoordinatorStore;
  /** Default: read from `config.identity` (created when missing), else `<storage.path>.coordinator-key.json`; ephemeral for ':memory:'. */
  identity?: KeyPair;
  app?: CoordinatorAppOptions;
  /** Start running rounds at once (default true). */
  autoStart?: boolean;
}

/** A coordinator listening on HTTP. */
export interface RunningCoordinator {
  coordinator: Coordinator;
  server: Server;
  /** Base URL, e.g. `http://127.0.0.1:41234/`. */
  url: string;
  host: string;
  port: number;
  /** Writes ledger.jsonl, coordinator-key.json and report.json into `dir`. */
  exportAudit(dir: string): Promise<LedgerExport>;
  /** Stops the rounds, closes the listener (dropping open long-polls) and the store. */
  close(): Promise<void>;
}

/** The coordinator identity a config designates, created (mode 0600) when the file does not exist. */
export function coordinatorIdentity(config: FederationConfig): KeyPair {
  const path = config.identity ?? (config.storage.path === ':memory:' ? null : `${config.storage.path}.coordinator-key.json`);
  if (path === null) return generateIdentity(defaultProvider, systemRandom);
  if (!existsSync(path)) writeIdentityFile(path, generateIdentity(defaultProvider, systemRandom));
  return readIdentityFile(path, defaultProvider);
}

/**
 * Opens the store, the coordinator and its HTTP API, and listens on `config.listen` (port 0 =
 * an ephemeral port; read it from the result). This is what `fedveil serve` and
 * `fedveil simulate` run.
 */
export async function startCoordinator(opts: StartCoordinatorOptions): Promise<RunningCoordinator> {
  const { config } = opts;
  const store = opts.store ?? new SqliteCoordinatorStore(config.storage.path);
  let coordinator: Coordinator;
  try {
    coordinator = await Coordinator.open({ ...opts, store, identity: opts.identity ?? coordinatorIdentity(config) });
  } catch (e) {
    await store.close();
    throw e;
  }
  const app = createCoordinatorApp(coordinator, { ...(opts.log ? { log: opts.log } : {}), ...opts.app });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.listen.port, config.listen.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  // Long-polls are answered before they reach these limits.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = Math.max(120_000, config.longPollMs * 2);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  if (opts.autoStart ?? true) coordinator.start();
  let closed = false;
  return {
    coordinator,
    server,
    url: `http://${host}:${address.port}/`,
    host: address.address,
    port: address.port,
    async exportAudit(dir: string): Promise<LedgerExport> {
      return exportLedger(dir, config, await coordinator.ledger(), coordinator.publicKey);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await coordinator.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
