import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { defaultProvider, systemRandom, type KeyPair } from '../secagg/index.js';
import { createCoordinatorApp, joinRegistryFor, type CoordinatorAppOptions } from './app.js';
import type { FederationConfig } from './config.js';
import { Coordinator, type CoordinatorOptions } from './coordinator.js';
import { generateIdentity, readIdentityFile, writeIdentityFile } from './identity.js';
import type { JoinRegistry } from './join.js';
import { DashboardFeed } from './dashboard/feed.js';
import { exportLedger, type LedgerExport } from './report.js';
import type { CoordinatorStore } from './store.js';
import { openConfiguredStore, type OpenedStore } from './store-open.js';
import { readTlsFiles } from './tls.js';

/** How often a coordinator waiting for participants to join says whom it waits for. */
const WAITING_LOG_EVERY_MS = 30_000;

/** Options of {@link startCoordinator}. */
export interface StartCoordinatorOptions extends Omit<CoordinatorOptions, 'store' | 'identity'> {
  /** Default: the store `config.storage` names (on Postgres, once this process holds the leader lock). */
  store?: CoordinatorStore;
  /** How often a Postgres standby asks for the leader lock (ms, default 500). */
  leaderPollMs?: number;
  /** Default: read from `config.identity` (created when missing), else `<storage.path>.coordinator-key.json`; ephemeral for ':memory:'. */
  identity?: KeyPair;
  app?: CoordinatorAppOptions;
  /**
   * When to start running rounds: at once (true, the default), when `config.minJoined`
   * participants have joined ('when-joined', what `fedveil serve` does), or never (false: call
   * `coordinator.start()`).
   */
  autoStart?: boolean | 'when-joined';
}

/** A coordinator listening on HTTP. */
export interface RunningCoordinator {
  coordinator: Coordinator;
  server: Server;
  /** Who has joined the federation. */
  joins: JoinRegistry;
  /** The dashboard's live feed (null when `config.dashboard` is false). */
  dashboard: DashboardFeed | null;
  /** Base URL, e.g. `http://127.0.0.1:41234/` (`https://` with `listen.tls`). */
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
  const stored = config.storage.path;
  const path = config.identity ?? (stored === undefined || stored === ':memory:' ? null : `${stored}.coordinator-key.json`);
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
  // The closures below outlive this call: they must not capture `opts`, which holds the initial
  // model (d floats, already copied into the store and the published model).
  const log = opts.log ?? (() => {});
  const given = opts.store;
  let lostLeadership: (reason: string) => void = () => {};
  const opened: OpenedStore =
    given === undefined
      ? await openConfiguredStore(config, {
          ...(opts.log ? { log: opts.log } : {}),
          ...(opts.leaderPollMs !== undefined ? { leaderPollMs: opts.leaderPollMs } : {}),
          onLeadershipLost: (reason) => lostLeadership(reason),
        })
      : { store: given, leader: null, close: () => given.close() };
  const store = opened.store;
  let coordinator: Coordinator;
  try {
    coordinator = await Coordinator.open({ ...opts, store, identity: opts.identity ?? coordinatorIdentity(config) });
  } catch (e) {
    await opened.close();
    throw e;
  }
  lostLeadership = (reason) => {
    // A standby may now lead: this process must not start another round (the store refuses
    // releasing one the new leader recorded aborted).
    log(`${reason}: no longer the leader, stopping`);
    coordinator.stop().catch((e: unknown) => log(`stopping after losing leadership: ${String(e)}`));
  };
  const joins = opts.app?.joins ?? joinRegistryFor(coordinator);
  const dashboard = config.dashboard ? new DashboardFeed(coordinator, joins) : null;
  const app = createCoordinatorApp(coordinator, { ...(opts.log ? { log: opts.log } : {}), ...opts.app, joins, ...(dashboard ? { dashboard } : {}) });
  let server: Server;
  try {
    const tls = config.listen.tls ? readTlsFiles(config.listen.tls) : null;
    server = await new Promise<Server>((resolve, reject) => {
      const s: Server = tls === null ? app.listen(config.listen.port, config.listen.host) : createHttpsServer(tls, app).listen(config.listen.port, config.listen.host);
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
  } catch (e) {
    dashboard?.close();
    await coordinator.stop();
    await opened.close();
    throw e;
  }
  // Long-polls are answered before they reach these limits. A masked upload held back while every
  // staging slot is taken has its own deadline (the masked-input phase's); the server's
  // whole-request limit must not cut it off earlier.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = Math.max(120_000, config.longPollMs * 2, (opts.app?.uploadDeadlineMs ?? config.deadlines['masked-input']) + 10_000);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopWaiting = () => {};
  if (opts.autoStart === 'when-joined') stopWaiting = startWhenJoined(coordinator, joins, log);
  else if (opts.autoStart ?? true) coordinator.start();
  let closed = false;
  return {
    coordinator,
    server,
    joins,
    dashboard,
    url: `${config.listen.tls ? 'https' : 'http'}://${host}:${address.port}/`,
    host: address.address,
    port: address.port,
    async exportAudit(dir: string): Promise<LedgerExport> {
      return exportLedger(dir, config, await coordinator.ledger(), coordinator.publicKey);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      stopWaiting();
      dashboard?.close();
      await coordinator.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await opened.close();
    },
  };
}

/** Short form of a key in log lines. */
function short(key: string): string {
  return `${key.slice(0, 16)}…`;
}

/**
 * Starts `coordinator` once `joins.minJoined` participants hold live sessions, saying whom it
 * waits for at every join and every so often. Returns a function that stops waiting.
 */
function startWhenJoined(coordinator: Coordinator, joins: JoinRegistry, log: (line: string) => void): () => void {
  const participants = coordinator.config.participants;
  if (coordinator.state().roundsCompleted >= coordinator.config.rounds) {
    // Nothing left to run (a restart after the last round): finish at once.
    coordinator.start();
    return () => {};
  }
  const waiting = () => {
    const missing = joins.waitingFor(participants);
    const shown = missing.slice(0, 10).map(short).join(', ') + (missing.length > 10 ? ` and ${missing.length - 10} more` : '');
    return `${joins.live().length} of ${participants.length} participants joined, ${joins.minJoined} needed before the first round; waiting for ${shown}`;
  };
  let done = false;
  const check = (joined?: string) => {
    if (done) return;
    if (joins.live().length >= joins.minJoined) {
      done = true;
      stop();
      log(`${joined ? `${short(joined)} joined; ` : ''}${joins.live().length} of ${participants.length} participants joined: starting rounds`);
      coordinator.start();
    } else if (joined) {
      log(`${short(joined)} joined; ${waiting()}`);
    }
  };
  const unsubscribe = joins.onJoin((key) => check(key));
  const timer = setInterval(() => {
    if (!done) log(waiting());
  }, WAITING_LOG_EVERY_MS);
  timer.unref();
  const stop = () => {
    unsubscribe();
    clearInterval(timer);
  };
  log(waiting());
  check();
  return () => {
    done = true;
    stop();
  };
}
