import { ClientRound } from '../../src/protocol/client/client-round.js';
import { RoundConfigSchema, type RoundConfig } from '../../src/protocol/config.js';
import type { ClientMessage } from '../../src/protocol/messages.js';
import { decodeServerMessage, encodeClientMessage } from '../../src/protocol/wire/serialize.js';
import { bytesEqual, nodeProvider, seededRandom, toHex, type KeyPair } from '../../src/secagg/index.js';
import { signRequest } from '../../src/server/request-auth.js';
import { z } from 'zod';

/** Raw HTTP answer. */
export interface Answer {
  status: number;
  body: unknown;
}

/** Sends one request, signed by `id` for (round, phase) unless `sign` is false. */
export async function signedFetch(
  url: string,
  id: KeyPair,
  opts: { federationId: string; round: number; phase: string; method: 'GET' | 'POST'; body?: Uint8Array; contentType?: string; headers?: Record<string, string> },
): Promise<Answer> {
  const body = opts.body ?? new Uint8Array(0);
  const headers: Record<string, string> = {
    ...signRequest(nodeProvider, id, { federationId: opts.federationId, round: opts.round, phase: opts.phase, method: opts.method, body }, seededRandom(`${Math.floor(performance.now() * 1000)}-${body.length}-${toHex(id.publicKey)}`)),
    ...(opts.contentType ? { 'content-type': opts.contentType } : {}),
    ...opts.headers,
  };
  const res = await fetch(new URL(`v1/rounds/${opts.round}/${opts.phase}`, url), {
    method: opts.method,
    headers,
    ...(opts.method === 'POST' ? { body } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

/** Encodes a protocol message as the coordinator expects it (JSON, or framed masked-input). */
export function wireBody(message: ClientMessage): { body: Uint8Array; contentType: string } {
  const wire = encodeClientMessage(message);
  const json = new TextEncoder().encode(JSON.stringify(wire.json));
  if (message.type !== 'masked-input') return { body: json, contentType: 'application/json' };
  const v = wire.body as Uint8Array;
  const body = new Uint8Array(4 + json.length + v.length);
  new DataView(body.buffer).setUint32(0, json.length, false);
  body.set(json, 4);
  body.set(v, 4 + json.length);
  return { body, contentType: 'application/octet-stream' };
}

/** A hand-driven protocol client: the test decides what to send and when. */
export class ManualClient {
  round!: ClientRound;
  config!: RoundConfig;

  constructor(
    readonly url: string,
    readonly id: KeyPair,
    readonly dim: number,
  ) {}

  /** Joins the running round from its public state. */
  async join(): Promise<boolean> {
    const state = (await (await fetch(new URL('v1/round', this.url))).json()) as { roundConfig: unknown };
    this.config = z.decode(RoundConfigSchema, state.roundConfig as z.input<typeof RoundConfigSchema>) as RoundConfig;
    const index = this.config.participants.findIndex((p) => bytesEqual(p, this.id.publicKey));
    if (index < 0) return false;
    this.round = new ClientRound(this.config, {
      index,
      identitySecretKey: this.id.secretKey,
      input: new Float32Array(this.dim).fill(0.01),
      rng: seededRandom(`manual-${index}`),
      provider: nodeProvider,
    });
    return true;
  }

  target(phase: string, method: 'GET' | 'POST') {
    return { federationId: this.config.federationId, round: this.config.round, phase, method };
  }

  /** Posts `message` (default: this client's next message). */
  async post(message: ClientMessage): Promise<Answer> {
    const { body, contentType } = wireBody(message);
    return signedFetch(this.url, this.id, { ...this.target(message.header.phase, 'POST'), body, contentType });
  }

  /** Fetches this client's request for `phase` and feeds it to the ClientRound; returns the answer to send. */
  async next(phase: string): Promise<ClientMessage> {
    const a = await signedFetch(this.url, this.id, this.target(phase, 'GET'));
    if (a.status !== 200) throw new Error(`GET ${phase}: ${a.status} ${JSON.stringify(a.body)}`);
    const step = this.round.receive(decodeServerMessage(a.body));
    if (step.kind !== 'send') throw new Error(`client step ${step.kind}`);
    return step.message;
  }
}

/** Waits until the coordinator's state satisfies `ready`. */
export async function until(url: string, ready: (s: { phase: string | null; round: number | null }) => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = (await (await fetch(new URL('v1/round', url))).json()) as { phase: string | null; round: number | null };
    if (ready(s)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('state never became ready');
}
