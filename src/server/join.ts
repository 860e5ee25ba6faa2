import express, { type Express, type Request } from 'express';
import { fromHex, type CryptoProvider } from '../secagg/index.js';
import type { FederationConfig } from './config.js';
import { HttpError } from './http-errors.js';
import { bodyHash, NONCE_HEADER, requestSigningBytes, SENDER_HEADER, SIGNATURE_HEADER } from './request-auth.js';
import { JOIN_TARGET, JoinRequestSchema, SESSION_HEADER, type JoinAck } from './wire.js';

/**
 * Joining a federation: a participant process announces itself with a signed `POST /v1/join`
 * before it takes part, claiming a session for its identity. The join is where a participant
 * learns at once that its key is not in the federation, or that another process already runs
 * with the same identity; and it is how the coordinator knows whom it is waiting for before its
 * first round.
 *
 * A session is a lease: every request that carries the session token (header
 * `x-fedveil-session`) renews it, and a session not heard from for `leaseMs` lapses. While a
 * session of an identity is live, a join of the same identity with another session is refused.
 * Sessions live in memory: after a coordinator restart every client is told
 * `join/unknown-session` on its next request and joins again (the transport does it).
 */

/** How far a join's `time` may be from the coordinator's clock. */
const JOIN_CLOCK_SKEW_MS = 5 * 60_000;

/** How long a session lasts without a request: a long-poll plus room for a slow client and retries. */
export function sessionLeaseMs(config: Pick<FederationConfig, 'longPollMs'>): number {
  return config.longPollMs + 30_000;
}

interface Session {
  session: string;
  lastSeen: number;
  open: number;
}

/** Options of a {@link JoinRegistry}. */
export interface JoinRegistryOptions {
  federationId: string;
  /** Allowed participant keys (hex). */
  allowed: ReadonlySet<string>;
  minJoined: number;
  leaseMs: number;
  clock?: () => number;
}

/** The coordinator's view of who has joined, with one live session per identity. */
export class JoinRegistry {
  readonly leaseMs: number;
  readonly minJoined: number;
  private readonly clock: () => number;
  private readonly byKey = new Map<string, Session>();
  private readonly bySession = new Map<string, string>();
  private readonly nonces = new Map<string, number>();
  private readonly listeners = new Set<(key: string) => void>();

  constructor(private readonly opts: JoinRegistryOptions) {
    this.leaseMs = opts.leaseMs;
    this.minJoined = opts.minJoined;
    this.clock = opts.clock ?? Date.now;
  }

  /**
   * Records `key` joining with `session`. Throws HttpError `join/identity-in-use` while another
   * session of the same key is live; a repeated join of the same session renews it.
   */
  join(key: string, session: string): void {
    const now = this.clock();
    const held = this.byKey.get(key);
    if (held && held.session !== session) {
      if (this.isLive(held, now)) {
        const ago = Math.round((now - held.lastSeen) / 1000);
        const lapses = Math.ceil((this.leaseMs - (now - held.lastSeen)) / 1000);
        throw new HttpError(
          'join/identity-in-use',
          `another client is running with identity ${key} (last heard from ${ago} s ago): run one client per identity; ` +
            `if that client has stopped, its claim lapses in ${lapses} s`,
        );
      }
      this.bySession.delete(held.session);
    }
    const existing = this.bySession.get(session);
    if (existing !== undefined && existing !== key) throw new HttpError('join/identity-in-use', 'this session token belongs to another identity');
    this.byKey.set(key, { session, lastSeen: now, open: held?.session === session ? held.open : 0 });
    this.bySession.set(session, key);
    for (const l of this.listeners) l(key);
  }

  /**
   * Marks `session` heard from at the start (`'open'`) or end (`'close'`) of a request; a session
   * with a request open is live whatever its age. False when the session is not (or no longer)
   * the identity's current one.
   */
  touch(session: string, edge: 'open' | 'close'): boolean {
    const key = this.bySession.get(session);
    const s = key === undefined ? undefined : this.byKey.get(key);
    if (s === undefined || s.session !== session) return false;
    s.lastSeen = this.clock();
    s.open = Math.max(0, s.open + (edge === 'open' ? 1 : -1));
    return true;
  }

  /** Keys with a live session. */
  live(): string[] {
    const now = this.clock();
    return [...this.byKey].filter(([, s]) => this.isLive(s, now)).map(([k]) => k);
  }

  /** Allowed keys without a live session, in config order. */
  waitingFor(participants: readonly string[]): string[] {
    const live = new Set(this.live());
    return participants.filter((k) => !live.has(k));
  }

  /** Whether every live session has been heard from at or after `t` (e.g. has seen the final state). */
  allHeardSince(t: number): boolean {
    const now = this.clock();
    return [...this.byKey.values()].every((s) => !this.isLive(s, now) || (s.lastSeen >= t && s.open === 0));
  }

  /** Calls `listener(key)` after every accepted join; returns the unsubscribe function. */
  onJoin(listener: (key: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Refuses a join nonce seen before (no state change). */
  checkNonce(sender: string, nonce: string): void {
    if (this.nonces.has(`${sender}:${nonce}`)) throw new HttpError('auth/replayed-nonce', 'this join request was already used');
  }

  /** Remembers an accepted join's nonce for as long as a join signed with it could be accepted. */
  useNonce(sender: string, nonce: string): void {
    const now = this.clock();
    for (const [k, expiry] of this.nonces) if (expiry < now) this.nonces.delete(k);
    this.nonces.set(`${sender}:${nonce}`, now + 2 * JOIN_CLOCK_SKEW_MS);
  }

  /** Checks a join's claimed time against the coordinator's clock. */
  checkTime(time: number): void {
    const skew = time - this.clock();
    if (Math.abs(skew) > JOIN_CLOCK_SKEW_MS) {
      throw new HttpError('join/stale-request', `the join was signed at a time ${Math.round(skew / 1000)} s from the coordinator's clock: check this machine's clock`, 'time');
    }
  }

  private isLive(s: Session, now: number): boolean {
    return s.open > 0 || now - s.lastSeen < this.leaseMs;
  }

  /** The federation this registry is for (messages). */
  get federationId(): string {
    return this.opts.federationId;
  }

  /** Whether `key` may join at all. */
  allows(key: string): boolean {
    return this.opts.allowed.has(key);
  }

  /** Number of allowed participants. */
  get population(): number {
    return this.opts.allowed.size;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX128 = /^[0-9a-f]{128}$/;

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? undefined : v;
}

/** Verifies a join request's signature; returns the sender's key. */
function authenticateJoin(joins: JoinRegistry, provider: CryptoProvider, req: Request, body: Uint8Array): { sender: string; nonce: string } {
  const sender = header(req, SENDER_HEADER);
  const nonce = header(req, NONCE_HEADER);
  const signature = header(req, SIGNATURE_HEADER);
  if (sender === undefined || nonce === undefined || signature === undefined) {
    throw new HttpError('auth/missing-headers', `a join must carry ${SENDER_HEADER}, ${NONCE_HEADER} and ${SIGNATURE_HEADER}`);
  }
  if (!HEX64.test(sender)) throw new HttpError('auth/malformed-headers', `${SENDER_HEADER} must be 64 lower-case hex characters`, SENDER_HEADER);
  if (!HEX32.test(nonce)) throw new HttpError('auth/malformed-headers', `${NONCE_HEADER} must be 32 lower-case hex characters`, NONCE_HEADER);
  if (!HEX128.test(signature)) throw new HttpError('auth/malformed-headers', `${SIGNATURE_HEADER} must be 128 lower-case hex characters`, SIGNATURE_HEADER);
  if (!joins.allows(sender)) {
    throw new HttpError(
      'auth/unknown-sender',
      `public key ${sender} is not among the ${joins.population} participants of federation '${joins.federationId}': send it to the operator, who adds it to \`participants\` in the federation config`,
    );
  }
  const signed = requestSigningBytes({ federationId: joins.federationId, ...JOIN_TARGET, method: 'POST', sender, bodyHash: bodyHash(body), nonce });
  if (!provider.ed25519Verify(fromHex(sender), signed, fromHex(signature))) {
    throw new HttpError('auth/bad-signature', 'the join signature does not verify for this sender, federation, body and nonce');
  }
  return { sender, nonce };
}

/**
 * Adds `POST /v1/join` and the session check to `app`: a request carrying an unknown or
 * superseded session token is answered 409 `join/unknown-session` (the client joins again); one
 * carrying a current token renews its lease. `status` reports the coordinator's status in the
 * join's answer.
 */
export function registerJoinRoutes(app: Express, joins: JoinRegistry, provider: CryptoProvider, status: () => JoinAck['status']): void {
  app.use((req, res, next) => {
    const session = header(req, SESSION_HEADER);
    if (session === undefined || req.path === '/v1/join') return next();
    if (!joins.touch(session, 'open')) {
      throw new HttpError('join/unknown-session', 'this session is not (or no longer) joined: join again with POST /v1/join');
    }
    res.on('close', () => joins.touch(session, 'close'));
    next();
  });

  app.post('/v1/join', express.raw({ type: () => true, limit: 4096 }), (req, res) => {
    const b: unknown = req.body;
    const body = Buffer.isBuffer(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(0);
    const { sender, nonce } = authenticateJoin(joins, provider, req, body);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
    } catch {
      throw new HttpError('request/malformed-json', 'a join body is JSON: {"session": 32 hex, "time": ms since the epoch}');
    }
    const parsed = JoinRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HttpError('request/invalid-body', `join ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, issue?.path.join('.'));
    }
    joins.checkTime(parsed.data.time);
    joins.checkNonce(sender, nonce);
    joins.join(sender, parsed.data.session);
    joins.useNonce(sender, nonce);
    const ack: JoinAck = {
      joined: true,
      session: parsed.data.session,
      leaseMs: joins.leaseMs,
      joinedCount: joins.live().length,
      minJoined: joins.minJoined,
      status: status(),
    };
    res.json(ack);
  });
}
