import fc from 'fast-check';
import { PHASES } from '../../src/protocol/phases.js';
import { nodeProvider, seededRandom, type KeyPair } from '../../src/secagg/index.js';
import { signRequest } from '../../src/server/request-auth.js';
import type { RunningCoordinator } from '../../src/server/start.js';
import { ErrorBodySchema } from '../../src/server/wire.js';

/** One generated request. */
export interface FuzzRequest {
  method: string;
  path: string;
  query: string;
  auth: 'none' | 'valid' | 'garbage' | 'wrong-key';
  signer: number;
  signedRound: number | null;
  signedPhase: string | null;
  contentType: string | null;
  body: Uint8Array;
}

/** Replaces the value at a random path of a JSON value with `replacement`. */
function mutateAt(value: unknown, pick: number, replacement: unknown): unknown {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(value, []);
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path.at(-1)!] = replacement;
  return copy;
}

const text = (s: string) => new TextEncoder().encode(s);

/** Frames a masked-input body: u32be(len(json)) ‖ json ‖ vector. */
export function frame(json: Uint8Array, vector: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + json.length + vector.length);
  new DataView(out.buffer).setUint32(0, json.length, false);
  out.set(json, 4);
  out.set(vector, 4 + json.length);
  return out;
}

/**
 * Requests derived from the API's shapes: every endpoint and method, round/phase segments valid
 * and not, query parameters of every name with good and bad values, every auth state, media
 * types, and bodies that are random bytes, random JSON, or a valid protocol message (given) with
 * one field replaced by arbitrary JSON, in JSON or masked-input framing.
 */
export function requestArbitrary(validMessages: readonly unknown[], round: number, vectorBytes: number, currentPhase: string): fc.Arbitrary<FuzzRequest> {
  const phase = fc.oneof(
    { arbitrary: fc.constant(currentPhase), weight: 6 },
    { arbitrary: fc.constantFrom(...PHASES), weight: 3 },
    { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  );
  const roundSeg = fc.oneof(
    { arbitrary: fc.constant(String(round)), weight: 8 },
    { arbitrary: fc.nat({ max: 5 }).map(String), weight: 1 },
    { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
    { arbitrary: fc.constant('99999999999'), weight: 1 },
  );
  const path = fc.oneof(
    {
      arbitrary: fc.constantFrom('v1/round', 'v1/model', 'v1/ledger', 'v1/ledger/key', 'v1/report', 'v1/federation', 'v1/healthz', 'v1/metrics', 'v1/', ''),
      weight: 2,
    },
    { arbitrary: fc.tuple(roundSeg, phase).map(([r, p]) => `v1/rounds/${encodeURIComponent(r)}/${encodeURIComponent(p)}`), weight: 8 },
    { arbitrary: fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }).map((xs) => `v1/${xs.map(encodeURIComponent).join('/')}`), weight: 1 },
  );
  const queryValue = fc.oneof(fc.nat({ max: 50 }).map(String), fc.string({ maxLength: 6 }), fc.constantFrom(...PHASES, 'end', '-1', '1e3', ''));
  const query = fc
    .array(fc.tuple(fc.constantFrom('since', 'waitFor', 'round', 'timeoutMs', 'version', 'x', 'since[]'), queryValue), { maxLength: 3 })
    .map((kv) => (kv.length === 0 ? '' : `?${kv.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`));
  const messageBody = fc
    .tuple(fc.constantFrom(...validMessages), fc.nat(), fc.jsonValue({ maxDepth: 2 }), fc.boolean(), fc.uint8Array({ maxLength: vectorBytes + 2 }))
    .map(([msg, pick, repl, framed, vec]) => {
      const json = text(JSON.stringify(mutateAt(msg, pick, repl)));
      return framed ? frame(json, vec) : json;
    });
  const body = fc.oneof(
    { arbitrary: fc.constant(new Uint8Array(0)), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 6000 }), weight: 2 },
    // around and beyond the body limit (fast-check keeps arrays small by default)
    { arbitrary: fc.integer({ min: 3000, max: 9000 }).map((n) => new Uint8Array(n).fill(0x7b)), weight: 1 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => text(JSON.stringify(v))), weight: 2 },
    { arbitrary: messageBody, weight: 8 },
  );
  const wild = fc.record({
    method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'),
    path,
    query,
    auth: fc.constantFrom('none', 'valid', 'valid', 'valid', 'valid', 'valid', 'garbage', 'wrong-key'),
    signer: fc.nat(),
    // mostly sign what the URL names; sometimes another round or phase
    signedRound: fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: fc.nat({ max: 3 }), weight: 1 }),
    signedPhase: fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: fc.constantFrom(...PHASES), weight: 1 }),
    contentType: fc.option(
      fc.constantFrom('application/json', 'application/json', 'application/octet-stream', 'application/octet-stream', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', ''),
      { freq: 8 },
    ),
    body,
  });
  // Requests that pass authentication and reach the body parsers and the protocol checks: a
  // member's valid signature for the running round and phase, the phase's media type, and a
  // valid message with one field replaced (or framing and vector bytes randomised).
  const targeted = fc.record({
    method: fc.constant('POST'),
    path: fc.constant(`v1/rounds/${round}/${currentPhase}`),
    query: fc.constant(''),
    auth: fc.constant<'valid'>('valid'),
    signer: fc.nat(),
    signedRound: fc.constant(null),
    signedPhase: fc.constant(null),
    contentType: fc.constant(currentPhase === 'masked-input' ? 'application/octet-stream' : 'application/json'),
    body: messageBody,
  });
  return fc.oneof(wild, targeted);
}

/** Sends `r`; returns status and parsed body. */
export async function send(running: RunningCoordinator, r: FuzzRequest, signers: readonly KeyPair[], federationId: string, round: number, seq: number) {
  const headers: Record<string, string> = {};
  if (r.contentType !== null) headers['content-type'] = r.contentType;
  const m = /^v1\/rounds\/([^/]*)\/([^/]*)$/.exec(r.path);
  const signedRound = r.signedRound ?? (m ? Number(decodeURIComponent(m[1]!)) : round);
  const signedPhase = r.signedPhase ?? (m ? decodeURIComponent(m[2]!) : 'advertise-keys');
  const id = signers[r.signer % signers.length]!;
  const body = r.method === 'GET' ? new Uint8Array(0) : r.body;
  if (r.auth === 'valid' || r.auth === 'wrong-key') {
    const signer = r.auth === 'valid' ? id : signers[(r.signer + 1) % signers.length]!;
    const h = signRequest(
      nodeProvider,
      signer,
      { federationId, round: Number.isSafeInteger(signedRound) ? signedRound : 0, phase: signedPhase, method: r.method === 'GET' ? 'GET' : 'POST', body },
      seededRandom(`fuzz-${seq}`),
    );
    if (r.auth === 'wrong-key') h['x-fedveil-sender'] = Buffer.from(id.publicKey).toString('hex');
    Object.assign(headers, h);
  } else if (r.auth === 'garbage') {
    Object.assign(headers, { 'x-fedveil-sender': 'ab', 'x-fedveil-nonce': '00'.repeat(16), 'x-fedveil-signature': 'zz'.repeat(64) });
  }
  const res = await fetch(new URL(r.path + r.query, running.url), {
    method: r.method,
    headers,
    ...(r.method === 'GET' ? {} : { body }),
  });
  const raw = await res.text();
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // binary or text answers of the public GET endpoints
  }
  return { status: res.status, body: parsed };
}

/**
 * Runs `numRuns` generated requests against a running coordinator: never a 5xx, every 4xx has a
 * valid error body, and a rejected request leaves the coordinator's fingerprint unchanged.
 * Returns the number of requests sent and the status histogram.
 */
export async function fuzzEndpoints(
  running: RunningCoordinator,
  arb: fc.Arbitrary<FuzzRequest>,
  signers: readonly KeyPair[],
  numRuns: number,
  seed: number,
): Promise<{ tried: number; statuses: Record<number, number> }> {
  let tried = 0;
  const statuses: Record<number, number> = {};
  const fed = running.coordinator.config.federationId;
  await fc.assert(
    fc.asyncProperty(arb, async (r) => {
      const round = running.coordinator.state().round ?? 0;
      const before = running.coordinator.fingerprint();
      const a = await send(running, r, signers, fed, round, tried);
      tried++;
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      if (process.env.FEDVEIL_FUZZ_DEBUG) console.log(r.method, r.path, a.status, JSON.stringify(a.body).slice(0, 120));
      if (a.status >= 500) throw new Error(`5xx for ${r.method} ${r.path}${r.query}: ${JSON.stringify(a.body)}`);
      if (a.status >= 400) {
        const e = ErrorBodySchema.safeParse(a.body);
        if (!e.success) throw new Error(`bad error body for ${r.method} ${r.path}: ${JSON.stringify(a.body)}`);
        if (running.coordinator.fingerprint() !== before) throw new Error(`state changed on a ${a.status} ${e.data.error.code}`);
      }
    }),
    { numRuns, seed, endOnFailure: true },
  );
  return { tried, statuses };
}
