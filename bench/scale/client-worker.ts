/**
 * One process of the scale load generator: real participants — every message produced by the
 * protocol's ClientRound, correctly masked and signed, every request signed — for the indices
 * `i ≡ worker (mod workers)` of the federation, driven phase by phase against the coordinator at
 * `url`. Cheap on purpose: all clients share one update vector, none fetches the model, and a
 * masked vector is dropped as soon as it is uploaded (and never copied into a request body), so a
 * worker holds at most `batch` of them; each batch is computed first and then uploaded all at once
 * (concurrent uploads).
 *
 * Usage: node --import tsx bench/scale/client-worker.ts URL N D WORKER WORKERS BATCH DROPOUT DROPOUT_PHASE
 * Prints `ready` once its identities are made, `stats <json>` (CPU per phase, per client) and `done`.
 */
import { request as httpRequest } from 'node:http';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { ClientRound } from '../../src/protocol/client/client-round.js';
import { planRound, RoundConfigSchema, type RoundConfig } from '../../src/protocol/config.js';
import type { ClientMessage, MaskedInputMessage } from '../../src/protocol/messages.js';
import type { Phase } from '../../src/protocol/phases.js';
import { decodeServerMessage, encodeClientMessage } from '../../src/protocol/wire/serialize.js';
import { defaultProvider, randomBytes, randomUnit, systemRandom, toHex, type KeyPair } from '../../src/secagg/index.js';
import { NONCE_HEADER, requestSigningBytes, SENDER_HEADER, SIGNATURE_HEADER } from '../../src/server/request-auth.js';
import { backoffDelay, DEFAULT_RETRY, retryAfterMs } from '../../src/server/retry.js';
import { scaleIdentity, shouldDrop } from './federation.js';

const [url, nArg, dArg, workerArg, workersArg, batchArg, dropoutArg, dropPhaseArg] = process.argv.slice(2) as string[];
const n = Number(nArg);
const dim = Number(dArg);
const worker = Number(workerArg);
const workers = Number(workersArg);
const batch = Math.max(1, Number(batchArg));
const dropout = Number(dropoutArg);
const dropPhase = dropPhaseArg as Phase;
const out = (line: string) => process.stdout.write(`${line}\n`);

const update = new Float32Array(dim);
for (let i = 0; i < dim; i++) update[i] = (((i * 2654435761) % 1000) / 1000 - 0.5) / Math.sqrt(dim);

interface Client {
  id: KeyPair;
  index: number;
  round: ClientRound;
  dropped: boolean;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const cpuByPhase = new Map<string, number>();
const timed = <T>(phase: string, f: () => T): T => {
  const t = cpu();
  try {
    return f();
  } finally {
    cpuByPhase.set(phase, (cpuByPhase.get(phase) ?? 0) + cpu() - t);
  }
};

async function state(query = ''): Promise<{ phase: string | null; round: number | null; roundConfig: unknown; stateVersion: number; lastRound: unknown }> {
  for (;;) {
    try {
      return (await (await fetch(new URL(`v1/round${query}`, url))).json()) as never;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function until(ready: (s: Awaited<ReturnType<typeof state>>) => boolean): Promise<Awaited<ReturnType<typeof state>>> {
  let s = await state();
  while (!ready(s)) s = await state(`?since=${s.stateVersion}&timeoutMs=20000`);
  return s;
}

/** A failed exchange; `transient` when the participant's transport would try again (a 503, or no answer at all). */
class ExchangeError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/**
 * One signed request, on a connection of its own, its body written part by part; resolves with
 * the answer's JSON, rejects with an error naming the request, the client and the cause.
 *
 * Not fetch, for two reasons. Its keep-alive pool: this process blocks its event loop for as long
 * as its clients' cryptography takes (masking a batch of 500 at d = 10⁵ on a loaded machine, more
 * than a minute), and a pooled connection left idle past the coordinator's keepAliveTimeout (65 s)
 * has been closed by the coordinator without this process having run to notice; the next request
 * written onto it fails with a bare EPIPE, ECONNRESET or "other side closed". And fetch copies a
 * typed-array body, where here a masked vector is written to the socket as it is.
 */
function exchange(c: Client, config: RoundConfig, phase: string, method: 'GET' | 'POST', parts: Uint8Array[] = [], contentType?: string): Promise<unknown> {
  const hash = sha256.create();
  for (const part of parts) hash.update(part);
  const binding = { federationId: config.federationId, round: config.round, phase, method, sender: toHex(c.id.publicKey), bodyHash: toHex(hash.digest()), nonce: toHex(randomBytes(systemRandom, 16)) };
  const signature = toHex(defaultProvider.ed25519Sign(c.id.secretKey, requestSigningBytes(binding)));
  const what = `${method} ${phase} for client ${c.index}`;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(new URL(`v1/rounds/${config.round}/${phase}`, url), {
      method,
      agent: false,
      headers: {
        [SENDER_HEADER]: binding.sender,
        [NONCE_HEADER]: binding.nonce,
        [SIGNATURE_HEADER]: signature,
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
        ...(method === 'POST' ? { 'content-length': String(parts.reduce((a, p) => a + p.length, 0)) } : {}),
      },
    });
    req.on('response', (res) => {
      answered = true;
      const got: Buffer[] = [];
      res.on('data', (d: Buffer) => got.push(d));
      res.on('error', (e) => reject(new Error(`${what}: the coordinator's answer (${res.statusCode}) was cut off: ${e.message}`)));
      res.on('end', () => {
        const text = Buffer.concat(got).toString();
        if (res.statusCode === undefined || res.statusCode >= 300) {
          const header = res.headers['retry-after'];
          reject(new ExchangeError(`${what}: ${res.statusCode} ${text}`, res.statusCode === 503, retryAfterMs(typeof header === 'string' ? header : null, Date.now())));
        }
        else {
          try {
            resolve(JSON.parse(text) as unknown);
          } catch {
            reject(new Error(`${what}: the coordinator's answer (${res.statusCode}) is not JSON: ${text.slice(0, 200)}`));
          }
        }
      });
    });
    // A coordinator that refuses an upload answers and closes before reading the rest: the
    // answer, not the write error that follows it, says why.
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!answered) reject(new ExchangeError(`${what}: the connection to the coordinator failed before it answered (${e.code ?? e.message})`, true));
    });
    for (const part of parts) req.write(part);
    req.end();
  });
}

const send = (c: Client, config: RoundConfig, phase: string, method: 'GET' | 'POST', message?: ClientMessage): Promise<unknown> =>
  message === undefined
    ? exchange(c, config, phase, method)
    : exchange(c, config, phase, method, [new TextEncoder().encode(JSON.stringify(encodeClientMessage(message).json))], 'application/json');

let busyRetries = 0;

/**
 * Uploads a masked vector: `u32be(len(J)) ‖ J ‖ vector`, the vector itself never copied. A busy
 * coordinator (503, Retry-After) or a connection cut before its answer is tried again as the
 * participant's transport does: after the asked wait plus the jittered back-off.
 */
async function upload(c: Client, config: RoundConfig, m: MaskedInputMessage): Promise<unknown> {
  const wire = encodeClientMessage(m);
  const json = new TextEncoder().encode(JSON.stringify(wire.json));
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, json.length, false);
  const giveUpAt = Date.now() + 30 * 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await exchange(c, config, 'masked-input', 'POST', [head, json, wire.body as Uint8Array], 'application/octet-stream');
    } catch (e) {
      if (!(e instanceof ExchangeError) || !e.transient || Date.now() > giveUpAt) throw e;
      busyRetries++;
      await new Promise((r) => setTimeout(r, (e.retryAfterMs ?? 0) + backoffDelay(attempt, DEFAULT_RETRY, randomUnit(systemRandom))));
    }
  }
}

/** Runs `f` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, f: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await f(items[next++] as T);
    }),
  );
}

const identities = new Map<number, KeyPair>();
for (let i = worker; i < n; i += workers) identities.set(i, scaleIdentity(i));
out('ready');
const first = await until((s) => s.phase === 'advertise-keys' && s.roundConfig !== null);
// CPU from here on: the round's work, not this process's start-up.
const cpuAtStart = cpu();
const config = z.decode(RoundConfigSchema, first.roundConfig as z.input<typeof RoundConfigSchema>) as RoundConfig;
// One plan for all of this worker's clients, as one participant process plans its round once: a
// plan per client held the whole n·k neighbour graph per client (about 3 MB a client at n = 2000,
// O(n²) memory and planning CPU per worker).
const plan = planRound(config);
const mine: Client[] = [];
for (let i = worker; i < n; i += workers) {
  const id = identities.get(i) as KeyPair;
  const index = config.participants.findIndex((p) => Buffer.from(p).equals(Buffer.from(id.publicKey)));
  if (index < 0) continue;
  const round = new ClientRound(plan, { index, identitySecretKey: id.secretKey, input: () => update, extra: [], rng: systemRandom, provider: defaultProvider });
  mine.push({ id, index, round, dropped: false });
}
const k = config.graph.kind === 'complete' ? config.participants.length : config.graph.degree + 1;
const phases: Phase[] = config.mode === 'malicious' ? ['advertise-keys', 'share-keys', 'masked-input', 'consistency-check', 'unmask'] : ['advertise-keys', 'share-keys', 'masked-input', 'unmask'];
const live = () => mine.filter((c) => !c.dropped);
for (const phase of phases) {
  await until((s) => s.phase === phase || s.lastRound !== null);
  for (const c of live()) if (phase === dropPhase && shouldDrop(c.index, config.participants.length, dropout)) c.dropped = true;
  if (phase === 'advertise-keys') {
    await pool(live(), 64, async (c) => {
      const step = timed(phase, () => c.round.start());
      if (step.kind !== 'send') throw new Error(`client ${c.index} could not start`);
      await send(c, config, phase, 'POST', step.message);
    });
  } else if (phase === 'masked-input') {
    const clients = live();
    for (let b = 0; b < clients.length; b += batch) {
      const group = clients.slice(b, b + batch);
      const requests = await Promise.all(group.map((c) => send(c, config, phase, 'GET')));
      const messages = group.map((c, j) => {
        const step = timed(phase, () => c.round.receive(decodeServerMessage(requests[j])));
        if (step.kind !== 'send') throw new Error(`client ${c.index} at ${phase}: ${step.kind}`);
        return step.message as MaskedInputMessage;
      });
      // All of the batch's uploads start together.
      await Promise.all(
        group.map(async (c, j) => {
          const m = messages[j] as MaskedInputMessage;
          await upload(c, config, m);
          // The ClientRound keeps its last answer for retries; this generator never retries.
          (m as { vector: Uint8Array }).vector = new Uint8Array(0);
        }),
      );
    }
  } else {
    await pool(live(), 64, async (c) => {
      const request = await send(c, config, phase, 'GET');
      const step = timed(phase, () => c.round.receive(decodeServerMessage(request)));
      if (step.kind === 'aborted') return;
      if (step.kind !== 'send') throw new Error(`client ${c.index} at ${phase}: ${step.kind}`);
      await send(c, config, phase, 'POST', step.message);
    });
  }
}
await until((s) => s.lastRound !== null);
const perClient = (phase: string) => (1000 * (cpuByPhase.get(phase) ?? 0)) / Math.max(1, mine.length);
out(
  `stats ${JSON.stringify({
    clients: mine.length,
    k,
    t: config.threshold,
    cpuS: cpu() - cpuAtStart,
    shareKeysMs: perClient('share-keys'),
    maskedInputMs: (1000 * (cpuByPhase.get('masked-input') ?? 0)) / Math.max(1, mine.filter((c) => !(dropPhase === 'masked-input' && c.dropped)).length),
    busyRetries,
  })}`,
);
out('done');
