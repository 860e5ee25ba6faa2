import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { roundDim } from './federated-evaluation.js';
import { z } from 'zod';
import { nextPowerOfTwo } from '../dp/index.js';
import type { RoundPlan } from '../protocol/config.js';
import { PHASES, type Phase } from '../protocol/phases.js';
import { decodeClientMessage, serverMessageJson } from '../protocol/wire/serialize.js';
import { ClientMessageSchema } from '../protocol/wire/schemas.js';
import { FedveilError, fromHex, packedLength } from '../secagg/index.js';
import { formatIssuePath } from './config.js';
import type { Coordinator, CoordinatorState } from './coordinator.js';
import { errorMiddleware, HttpError } from './http-errors.js';
import { JoinRegistry, registerJoinRoutes, sessionLeaseMs } from './join.js';
import { ledgerLine } from './ledger-entry.js';
import { readMaskedUpload, StagingPool, type MaskedUpload } from './masked-upload.js';
import { OCTET_STREAM, READY_TARGET, ReadyRequestSchema, type ReadyAck } from './wire.js';
import { buildPrivacyReport } from './report.js';
import type { DashboardFeed } from './dashboard/feed.js';
import { registerDashboardRoutes, type DashboardRoutesOptions } from './dashboard/routes.js';
import { corsMiddleware } from './cors.js';
import { registerParticipantPage, type ParticipantPageOptions } from './participant-page.js';
import { bodyHash, NONCE_HEADER, requestSigningBytes, SENDER_HEADER, SIGNATURE_HEADER } from './request-auth.js';

/** Options of {@link createCoordinatorApp}. */
export interface CoordinatorAppOptions {
  /** Largest request body in bytes; default from the config, else sized for the largest masked vector. */
  maxBodyBytes?: number;
  /** Longest a long-poll is held, in ms; default the config's `longPollMs`. */
  maxLongPollMs?: number;
  /** Receives one line per rejected request and per internal error. */
  log?: (line: string) => void;
  /** Who has joined; default a fresh registry for the coordinator's config. */
  joins?: JoinRegistry;
  /** Serve the dashboard (at `/`, see src/server/dashboard) from this feed; none when absent. */
  dashboard?: DashboardFeed;
  dashboardRoutes?: DashboardRoutesOptions;
  /** Where the browser participant's page (served at `/participant/`) is built; default dist/participant. */
  participantPage?: ParticipantPageOptions;
  /**
   * Origins (scheme://host[:port]) whose pages may call the API: where the participant page is
   * hosted when not by this coordinator. None by default (same origin only).
   */
  corsOrigins?: readonly string[];
  /**
   * Masked vectors staged at once (default 8): memory for uploads is this many vectors, however
   * many clients upload together; further uploads wait, unread, for a free slot.
   */
  uploadSlots?: number;
  /**
   * Uploads left waiting, unread, for a staging slot (default 64): each holds at most what its
   * socket read before it was paused. One more is answered 503 'request/busy' with Retry-After.
   */
  uploadQueue?: number;
  /** Longest one masked-input upload may take, waiting for a slot included (default: the phase's deadline). */
  uploadDeadlineMs?: number;
}

const DEFAULT_UPLOAD_SLOTS = 8;
const DEFAULT_UPLOAD_QUEUE = 64;
/** The masked-input envelope is a small JSON object (header, length, bits, hash, signature). */
const MAX_ENVELOPE_BYTES = 64 * 1024;

/** A join registry for coordinator `c`'s federation. */
export function joinRegistryFor(c: Coordinator): JoinRegistry {
  return new JoinRegistry({ federationId: c.config.federationId, allowed: c.allowed, minJoined: c.config.minJoined, leaseMs: sessionLeaseMs(c.config) });
}


const RoundParam = z.string().regex(/^(0|[1-9][0-9]{0,9})$/).transform(Number).pipe(z.number().int().max(0xffffffff));
const PhaseParam = z.enum(PHASES as [Phase, ...Phase[]]);

const RoundQuerySchema = z
  .object({
    since: z.string().regex(/^[0-9]{1,15}$/, 'must be a non-negative integer').transform(Number).optional(),
    waitFor: z.enum(['end', ...PHASES] as [string, ...string[]]).optional(),
    round: z.string().regex(/^[0-9]{1,10}$/, 'must be a non-negative integer').transform(Number).optional(),
    timeoutMs: z.string().regex(/^[0-9]{1,7}$/, 'must be a non-negative integer').transform(Number).optional(),
  })
  .strict();

const HeadQuerySchema = z.object({ seq: z.string().regex(/^[0-9]{1,10}$/, 'must be a non-negative integer').transform(Number).optional() }).strict();

const ModelQuerySchema = z.object({ version: z.string().regex(/^[0-9]{1,10}$/, 'must be a non-negative integer').transform(Number).optional() }).strict();

const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/** Phase order used by long-polls: the phases, then 'finalizing', then the end of the round. */
function phaseRank(phase: CoordinatorState['phase'] | 'end'): number {
  if (phase === null) return -1;
  if (phase === 'end') return PHASES.length + 1;
  const i = PHASES.indexOf(phase as Phase);
  return i >= 0 ? i : PHASES.length;
}

/** Parses `value` with `schema` or throws a 400 naming the field. */
function parseQuery<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0] as z.core.$ZodIssue;
  throw new HttpError('request/bad-query', `query ${formatIssuePath(issue.path)}: ${issue.message}`, formatIssuePath(issue.path));
}

function roundParam(req: Request): number {
  const round = RoundParam.safeParse(req.params.round);
  if (!round.success) throw new HttpError('request/not-found', `no such round endpoint: ${req.path}`);
  return round.data;
}

function params(req: Request): { round: number; phase: Phase } {
  const round = RoundParam.safeParse(req.params.round);
  const phase = PhaseParam.safeParse(req.params.phase);
  if (!round.success || !phase.success) throw new HttpError('request/not-found', `no such round endpoint: ${req.path}`);
  return { round: round.data, phase: phase.data };
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? undefined : v;
}

/** The body bytes (empty when none was sent). */
function rawBody(req: Request): Uint8Array {
  const b: unknown = req.body;
  return Buffer.isBuffer(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(0);
}

/**
 * Verifies the request signature (sender known, signature over federation, round, phase, method,
 * body hash and nonce). Returns the sender's key and nonce; throws the HttpError of the rule broken.
 */
function authenticate(c: Coordinator, req: Request, round: number, phase: Phase, body: Uint8Array): { sender: string; nonce: string } {
  return authenticateHash(c, req, round, phase, bodyHash(body));
}

/** The auth headers, checked without the signature: the sender's key, or the HttpError of the rule broken. */
function authHeaders(c: Coordinator, req: Request): { sender: string; nonce: string; signature: string } {
  const sender = header(req, SENDER_HEADER);
  const nonce = header(req, NONCE_HEADER);
  const signature = header(req, SIGNATURE_HEADER);
  if (sender === undefined || nonce === undefined || signature === undefined) {
    throw new HttpError('auth/missing-headers', `requests must carry ${SENDER_HEADER}, ${NONCE_HEADER} and ${SIGNATURE_HEADER}`);
  }
  if (!HEX64.test(sender)) throw new HttpError('auth/malformed-headers', `${SENDER_HEADER} must be 64 lower-case hex characters`, SENDER_HEADER);
  if (!HEX32.test(nonce)) throw new HttpError('auth/malformed-headers', `${NONCE_HEADER} must be 32 lower-case hex characters`, NONCE_HEADER);
  if (!HEX128.test(signature)) throw new HttpError('auth/malformed-headers', `${SIGNATURE_HEADER} must be 128 lower-case hex characters`, SIGNATURE_HEADER);
  if (!c.allowed.has(sender)) throw new HttpError('auth/unknown-sender', 'the sender is not an allowed participant of this federation');
  return { sender, nonce, signature };
}

/** {@link authenticate} for a body known by its SHA-256 (hex), e.g. one hashed as it streamed in. */
function authenticateHash(c: Coordinator, req: Request, round: number, phase: Phase | typeof READY_TARGET.phase, hash: string): { sender: string; nonce: string } {
  const { sender, nonce, signature } = authHeaders(c, req);
  const signed = requestSigningBytes({
    federationId: c.config.federationId,
    round,
    phase,
    method: req.method === 'GET' ? 'GET' : 'POST',
    sender,
    bodyHash: hash,
    nonce,
  });
  if (!c.provider.ed25519Verify(fromHex(sender), signed, fromHex(signature))) {
    throw new HttpError('auth/bad-signature', 'the request signature does not verify for this sender, round, phase, body and nonce');
  }
  return { sender, nonce };
}

/** Checks the envelope's coordinate count and the packed vector's byte length against the round's plan. */
function checkVectorLength(json: unknown, vectorBytes: number, plan: RoundPlan): void {
  const envelope = json as { length?: unknown };
  if (typeof envelope === 'object' && envelope !== null && typeof envelope.length === 'number' && envelope.length !== plan.vectorLength) {
    throw new HttpError('vector/wrong-length', `the masked vector has ${envelope.length} coordinates; this round's have ${plan.vectorLength}`, 'length');
  }
  if (vectorBytes !== packedLength(plan.vectorLength, plan.bits)) {
    throw new HttpError('vector/wrong-length', `the packed vector is ${vectorBytes} bytes; this round's are ${packedLength(plan.vectorLength, plan.bits)}`);
  }
}

/** The round's plan when `req` could be accepted in its masked-input phase; null when it cannot (it is refused once read). */
function stageable(c: Coordinator, req: Request, round: number): RoundPlan | null {
  try {
    const sender = header(req, SENDER_HEADER) as string;
    c.authorize(round, 'masked-input', sender);
    if (c.state().phase !== 'masked-input') return null;
    const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    return type === OCTET_STREAM ? c.plan(round) : null;
  } catch {
    return null;
  }
}

function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError('request/bad-encoding', 'the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError('request/malformed-json', `the body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Decodes a protocol message, mapping schema failures to 422 with the first failing field. */
function decodeMessage(json: unknown, vector: Uint8Array | undefined): ReturnType<typeof decodeClientMessage> {
  try {
    return decodeClientMessage(json, vector);
  } catch (e) {
    if (e instanceof FedveilError) {
      if (e.code === 'protocol/vector-size-mismatch') throw new HttpError('vector/wrong-length', e.message);
      if (e.code === 'protocol/malformed-message') {
        const r = ClientMessageSchema.safeParse(json);
        const path = r.success ? undefined : formatIssuePath((r.error.issues[0] as z.core.$ZodIssue).path);
        throw new HttpError('request/invalid-body', e.message, path);
      }
      throw new HttpError('request/invalid-body', `${e.code}: ${e.message}`);
    }
    throw e;
  }
}

/**
 * The coordinator's HTTP API (Express 5), all under /v1:
 *
 * - `GET  /v1/healthz`, `GET /v1/metrics` (Prometheus text, the coordinator's own registry)
 * - `GET  /v1/federation`: federation id, dim, model, data schema, mode, phases, coordinator key
 * - `POST /v1/join`: a signed join claiming a session for the sender's identity (src/server/join.ts)
 * - `POST /v1/ready`: asynchronous federations: a signed announcement that the sender's update,
 *   trained on a given model version, waits for a group (src/server/async-groups.ts)
 * - `GET  /v1/round[?since=V | ?waitFor=PHASE|end&round=R][&timeoutMs=T]`: the state; long-polls
 * - `GET  /v1/model[?version=N]`: float32 little-endian weights (`application/octet-stream`)
 * - `GET  /v1/ledger` (JSON lines), `GET /v1/ledger/head[?seq=K]` (a coordinator-signed head: a
 *   participant's receipt), `GET /v1/ledger/key`, `GET /v1/report` (privacy report)
 * - `GET  /`, `GET /v1/dashboard[/events]`: the dashboard, when enabled (src/server/dashboard)
 * - `POST /v1/rounds/:round/:phase`: a signed protocol submission
 * - `GET  /v1/rounds/:round/:phase`: the signed-for request the sender must answer in that phase
 *
 * Every rejection is a 4xx `{error: {code, message, field?}}` and changes nothing.
 */
export function createCoordinatorApp(c: Coordinator, opts: CoordinatorAppOptions = {}): Express {
  const log = opts.log ?? (() => {});
  const maxLongPoll = opts.maxLongPollMs ?? c.config.longPollMs;
  const padded = c.dp.rotation ? nextPowerOfTwo(roundDim(c.config)) : roundDim(c.config);
  const maxCohort = 'size' in c.config.cohort ? c.config.cohort.size : c.config.participants.length;
  const limit = opts.maxBodyBytes ?? c.config.maxBodyBytes ?? packedLength(padded + 64, 32) + 64 * 1024 + maxCohort * 1024;

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (opts.corsOrigins !== undefined && opts.corsOrigins.length > 0) app.use(corsMiddleware(opts.corsOrigins));

  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      c.metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      if (route !== '/v1/round') c.metrics.requestSeconds.observe({ method: req.method, route }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  });

  const raw = express.raw({ type: () => true, limit });
  const joins = opts.joins ?? joinRegistryFor(c);
  registerJoinRoutes(app, joins, c.provider, () => c.state().status);

  app.get('/v1/healthz', (_req, res) => {
    const s = c.state();
    res.json({ ok: true, federationId: s.federationId, status: s.status, round: s.round, phase: s.phase });
  });

  app.get('/v1/metrics', async (_req, res) => {
    const { contentType, body } = await c.metrics.render();
    res.type(contentType).send(body);
  });

  app.get('/v1/federation', (_req, res) => {
    res.json({
      federationId: c.config.federationId,
      dim: c.config.dim,
      model: c.config.model,
      mode: c.config.mode,
      colluders: c.config.colluders,
      rounds: c.config.rounds,
      phases: c.config.mode === 'malicious' ? PHASES : PHASES.filter((p) => p !== 'consistency-check'),
      dp: c.dp,
      delta: c.config.dp.delta,
      samplingRate: c.samplingRate,
      coordinatorPublicKey: Buffer.from(c.publicKey).toString('hex'),
      longPollMs: maxLongPoll,
      data: c.config.data ?? null,
      evaluation: c.config.evaluation ?? null,
      async: c.config.async ?? null,
      standardization: c.standardization,
      clipping: c.config.clipping ?? null,
      noiseProbe: c.config.noiseProbe ?? 0,
    });
  });

  // Asynchronous federations: a participant's update is trained and waits for a group.
  app.post('/v1/ready', express.raw({ type: () => true, limit: 4096 }), (req: Request, res: Response) => {
    const body = rawBody(req);
    const { sender, nonce } = authenticateHash(c, req, READY_TARGET.round, READY_TARGET.phase, bodyHash(body));
    const parsed = ReadyRequestSchema.safeParse(parseJson(body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0] as z.core.$ZodIssue;
      throw new HttpError('request/invalid-body', `ready ${formatIssuePath(issue.path)}: ${issue.message}`, formatIssuePath(issue.path));
    }
    // A replayed announcement would put back a participant that already left the line.
    joins.checkTime(parsed.data.time);
    joins.checkNonce(sender, nonce);
    const queued = c.announceReady(sender, parsed.data.modelVersion);
    joins.useNonce(sender, nonce);
    const ack: ReadyAck = { ready: true, modelVersion: parsed.data.modelVersion, queued };
    res.json(ack);
  });

  app.get('/v1/round', async (req, res) => {
    const q = parseQuery(RoundQuerySchema, req.query);
    const timeout = Math.min(q.timeoutMs ?? maxLongPoll, maxLongPoll);
    let ready: ((s: CoordinatorState) => boolean) | null = null;
    if (q.since !== undefined) {
      const since = q.since;
      // Any other version, not only a larger one: a coordinator that restarted or took over
      // from a lost leader counts its versions from 0 again, and its clients must not wait on it.
      ready = (s) => s.stateVersion !== since;
    } else if (q.waitFor !== undefined) {
      const target = phaseRank(q.waitFor as Phase | 'end');
      const round = q.round;
      ready = (s) =>
        round === undefined
          ? s.phase === q.waitFor
          : s.round !== null && (s.round > round || (s.round === round && (s.phase === null || phaseRank(s.phase) >= target)));
    }
    const state = ready === null || timeout === 0 ? c.state() : await c.waitFor(ready, timeout);
    res.json(state);
  });

  app.get('/v1/model', async (req, res) => {
    const q = parseQuery(ModelQuerySchema, req.query);
    const m = q.version === undefined ? c.model : await c.getModel(q.version);
    if (m === null) throw new HttpError('request/not-found', `no model version ${q.version}`, 'version');
    res
      .set('x-fedveil-model-version', String(m.version))
      .set('x-fedveil-model-hash', m.hash)
      .type(OCTET_STREAM)
      .send(Buffer.from(m.weights.buffer, m.weights.byteOffset, m.weights.byteLength));
  });

  app.get('/v1/ledger', async (_req, res) => {
    const entries = await c.ledger();
    res
      .type('application/x-ndjson')
      .set('x-fedveil-coordinator-key', Buffer.from(c.publicKey).toString('hex'))
      .send(entries.map((e) => `${ledgerLine(e)}\n`).join(''));
  });

  app.get('/v1/ledger/head', async (req, res) => {
    const q = parseQuery(HeadQuerySchema, req.query);
    let entry = c.ledgerHead;
    if (q.seq !== undefined && q.seq !== entry.seq) {
      const found = (await c.ledger())[q.seq];
      if (found === undefined) throw new HttpError('request/not-found', `the ledger has no entry ${q.seq}`, 'seq');
      entry = found;
    }
    res.json(c.signedHead(entry));
  });

  app.get('/v1/ledger/key', (_req, res) => {
    res.json({ algorithm: 'ed25519', federationId: c.config.federationId, publicKey: Buffer.from(c.publicKey).toString('hex') });
  });

  app.get('/v1/report', async (_req, res) => {
    res.json(buildPrivacyReport(await c.ledger()));
  });

  const pool = new StagingPool(opts.uploadSlots ?? DEFAULT_UPLOAD_SLOTS);
  const maxWaiting = opts.uploadQueue ?? DEFAULT_UPLOAD_QUEUE;
  c.metrics.uploadPool = pool;
  const uploadDeadline = opts.uploadDeadlineMs ?? c.config.deadlines['masked-input'];
  app.post('/v1/rounds/:round/masked-input', async (req: Request, res: Response) => {
    const round = roundParam(req);
    const phase: Phase = 'masked-input';
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), uploadDeadline);
    let upload: MaskedUpload;
    try {
      authHeaders(c, req);
      // Only a request that could be accepted gets a staging buffer; any other body is hashed
      // and dropped, so that its refusal comes in the same order as for the other phases.
      const plan = stageable(c, req, round);
      upload = await readMaskedUpload(req, {
        vectorBytes: plan === null ? 0 : packedLength(plan.vectorLength, plan.bits),
        maxBodyBytes: limit,
        maxEnvelopeBytes: MAX_ENVELOPE_BYTES,
        stage: plan !== null,
        pool,
        maxWaiting,
        signal: timeout.signal,
      });
    } catch (e) {
      // A busy refusal comes before any of the body was read: node's server discards the body
      // as it arrives (keeping nothing), so that the client reads the 503 and its Retry-After
      // rather than a reset connection.
      if (e instanceof HttpError && e.code === 'request/busy') throw e;
      // The rest of the body is never read: answer, then close the connection.
      res.set('connection', 'close');
      res.on('finish', () => req.socket.destroy());
      throw e;
    } finally {
      clearTimeout(timer);
    }
    try {
      const { sender, nonce } = authenticateHash(c, req, round, phase, upload.bodyHash);
      const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== OCTET_STREAM) throw new HttpError('request/unsupported-media-type', `phase ${phase} takes ${OCTET_STREAM}, not '${type}'`);
      const index = c.authorize(round, phase, sender);
      const state = c.state();
      if (state.phase !== phase) throw new HttpError('round/wrong-phase', `round ${round} is in phase ${state.phase}, not ${phase}`);
      c.checkNonce(sender, nonce);
      if (upload.encodingError !== null) throw upload.encodingError;
      const json = parseJson(upload.envelope);
      const plan = c.plan(round);
      checkVectorLength(json, upload.vectorBytes, plan);
      if (upload.vector === null) throw new HttpError('vector/wrong-length', `the packed vector is ${upload.vectorBytes} bytes; this round's are ${packedLength(plan.vectorLength, plan.bits)}`);
      // Adds the vector into the round's sum (or refuses it) before the staging buffer is reused.
      c.submit(round, phase, index, decodeMessage(json, upload.vector), () => c.useNonce(round, sender, nonce));
      res.status(202).json({ accepted: true, round, phase });
    } finally {
      upload.release();
    }
  });

  app.post('/v1/rounds/:round/:phase', raw, (req: Request, res: Response) => {
    const { round, phase } = params(req);
    const body = rawBody(req);
    const { sender, nonce } = authenticate(c, req, round, phase, body);
    const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const wanted = 'application/json';
    if (type !== wanted) throw new HttpError('request/unsupported-media-type', `phase ${phase} takes ${wanted}, not '${type}'`);
    const index = c.authorize(round, phase, sender);
    const state = c.state();
    if (state.phase !== phase) throw new HttpError('round/wrong-phase', `round ${round} is in phase ${state.phase}, not ${phase}`);
    c.checkNonce(sender, nonce);
    const message = decodeMessage(parseJson(body), undefined);
    c.submit(round, phase, index, message, () => c.useNonce(round, sender, nonce));
    res.status(202).json({ accepted: true, round, phase });
  });

  app.get('/v1/rounds/:round/:phase', (req: Request, res: Response) => {
    const { round, phase } = params(req);
    const { sender, nonce } = authenticate(c, req, round, phase, new Uint8Array(0));
    const index = c.authorize(round, phase, sender);
    c.checkNonce(sender, nonce);
    const m = c.view(round, phase, index);
    c.useNonce(round, sender, nonce);
    res.type('application/json').send(serverMessageJson(m));
  });

  if (opts.dashboard) registerDashboardRoutes(app, opts.dashboard, opts.dashboardRoutes);
  registerParticipantPage(app, opts.participantPage);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError('request/not-found', `no endpoint ${req.method} ${req.path}`));
  });
  app.use(
    errorMiddleware((e) => {
      if (e.status < 500) c.metrics.rejections.inc({ code: e.code });
      log(`${e.status} ${e.code} ${e.method} ${e.path}: ${e.message}`);
    }),
  );
  return app;
}
