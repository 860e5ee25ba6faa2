import { createServer, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { ClientMessage } from '../../src/protocol/messages.js';
import { nodeProvider, seededRandom, toHex } from '../../src/secagg/index.js';
import type { HttpError } from '../../src/server/http-errors.js';
import { readMaskedUpload, StagingPool, type MaskedUploadOptions } from '../../src/server/masked-upload.js';
import { NONCE_HEADER, SENDER_HEADER, SIGNATURE_HEADER, signRequest } from '../../src/server/request-auth.js';
import { startCoordinator } from '../../src/server/start.js';
import { identities, smallConfig, startTestCoordinator } from './harness.js';
import { ManualClient, until, wireBody } from './signed-client.js';

/** A masked-input body: u32be(len(J)) ‖ J ‖ vector. */
function body(json: string, vector: Uint8Array): Uint8Array {
  const j = new TextEncoder().encode(json);
  const out = new Uint8Array(4 + j.length + vector.length);
  new DataView(out.buffer).setUint32(0, j.length, false);
  out.set(j, 4);
  out.set(vector, 4 + j.length);
  return out;
}

/** An IncomingMessage stand-in delivering `chunks`, then ending (or not, or failing). */
function req(chunks: Uint8Array[], end: 'end' | 'stall' | 'cut' = 'end', headers: Record<string, string> = {}): IncomingMessage {
  const s = new PassThrough();
  for (const c of chunks) s.write(Buffer.from(c));
  if (end === 'end') s.end();
  if (end === 'cut') setTimeout(() => s.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })), 5);
  return Object.assign(s, { headers }) as unknown as IncomingMessage;
}

function options(pool: StagingPool, more: Partial<MaskedUploadOptions> = {}): MaskedUploadOptions {
  return { vectorBytes: 16, maxBodyBytes: 1024, maxEnvelopeBytes: 256, stage: true, pool, signal: new AbortController().signal, ...more };
}

const vector = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
const whole = body('{"length":4}', vector);

describe('StagingPool', () => {
  it('lends at most `slots` buffers; the next waits for one given back, or gives up when aborted', async () => {
    const pool = new StagingPool(2);
    const a = await pool.acquire(8);
    const b = await pool.acquire(8);
    expect(pool.inUse).toBe(2);
    let got: Uint8Array | null = null;
    const c = pool.acquire(8).then((x) => (got = x));
    const stop = new AbortController();
    const d = pool.acquire(8, stop.signal);
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toBeNull();
    expect(pool.waiting).toBe(2);
    stop.abort(new Error('deadline'));
    await expect(d).rejects.toThrow('deadline');
    pool.release(a);
    await c;
    expect(got).toBe(a); // the same memory, reused
    pool.release(b);
    pool.release(got!);
    expect(pool.inUse).toBe(0);
    const bigger = await pool.acquire(32); // a new vector size: old buffers are dropped
    expect(bigger.byteLength).toBe(32);
    expect(pool.inUse).toBe(1);
  });
});

describe('StagingPool between bursts', () => {
  it('drops its free buffers once none has been lent for idleTrimMs, and keeps them while uploads come', async () => {
    // Fake timers: a loaded machine must not stretch "within the idle time" past it.
    vi.useFakeTimers();
    try {
      const pool = new StagingPool(2, 20);
      const a = await pool.acquire(8);
      const b = await pool.acquire(8);
      pool.release(a);
      await vi.advanceTimersByTimeAsync(40);
      expect(pool.held).toBe(2); // b is still lent: no trim
      pool.release(b);
      expect(pool.held).toBe(2);
      await vi.advanceTimersByTimeAsync(19);
      const again = await pool.acquire(8); // within the idle time: the same memory
      expect(again === a || again === b).toBe(true);
      pool.release(again);
      await vi.advanceTimersByTimeAsync(40);
      expect(pool.held).toBe(0);
      expect(pool.inUse).toBe(0);
      const fresh = await pool.acquire(8);
      expect(fresh !== a && fresh !== b).toBe(true);
      expect(pool.held).toBe(1);
      pool.release(fresh);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('reading a masked-input body as it streams in', () => {
  it('gives the same hash, envelope and vector whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 6 }), async (cuts) => {
        const points = [0, ...new Set(cuts)].sort((x, y) => x - y);
        const chunks = points.map((p, i) => whole.subarray(p, points[i + 1] ?? whole.length));
        const pool = new StagingPool(1);
        const u = await readMaskedUpload(req(chunks), options(pool));
        expect(u.bodyHash).toBe(toHex(sha256(whole)));
        expect(new TextDecoder().decode(u.envelope)).toBe('{"length":4}');
        expect(u.vector).toEqual(vector);
        expect(u.encodingError).toBeNull();
        u.release();
        expect(pool.inUse).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it('keeps no vector of the wrong length and stages nothing for a request that cannot be accepted', async () => {
    const pool = new StagingPool(1);
    const long = await readMaskedUpload(req([body('{}', new Uint8Array(20))]), options(pool));
    expect([long.vector, long.vectorBytes, pool.inUse]).toEqual([null, 20, 0]);
    const short = await readMaskedUpload(req([body('{}', new Uint8Array(15))]), options(pool));
    expect([short.vector, short.vectorBytes, pool.inUse]).toEqual([null, 15, 0]);
    const unstaged = await readMaskedUpload(req([whole]), options(pool, { stage: false }));
    expect([unstaged.vector, unstaged.vectorBytes, unstaged.bodyHash]).toEqual([null, 16, toHex(sha256(whole))]);
  });

  it('names broken framing: no envelope length, an envelope beyond the body or the limit', async () => {
    const pool = new StagingPool(1);
    expect((await readMaskedUpload(req([new Uint8Array(3)]), options(pool))).encodingError?.code).toBe('request/bad-encoding');
    const beyond = whole.slice();
    new DataView(beyond.buffer).setUint32(0, 200, false);
    expect((await readMaskedUpload(req([beyond]), options(pool))).encodingError?.code).toBe('request/bad-encoding');
    new DataView(beyond.buffer).setUint32(0, 0xffffffff, false);
    const huge = await readMaskedUpload(req([beyond]), options(pool));
    expect([huge.encodingError?.code, huge.vector, pool.inUse]).toEqual(['request/bad-encoding', null, 0]);
  });

  it('refuses a body over the limit, by its declared length or as it arrives', async () => {
    const pool = new StagingPool(1);
    await expect(readMaskedUpload(req([whole], 'stall', { 'content-length': '5000' }), options(pool))).rejects.toMatchObject({ code: 'request/body-too-large' });
    await expect(readMaskedUpload(req([whole, whole]), options(pool, { maxBodyBytes: whole.length + 3 }))).rejects.toMatchObject({ code: 'request/body-too-large' });
    expect(pool.inUse).toBe(0);
  });

  it('cuts off a stalled upload at its deadline and a connection closed mid-body, giving the buffer back', async () => {
    const pool = new StagingPool(1);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 30);
    await expect(readMaskedUpload(req([whole.subarray(0, 25)], 'stall'), options(pool, { signal: stop.signal }))).rejects.toMatchObject({ code: 'request/upload-timeout' });
    expect(pool.inUse).toBe(0);
    await expect(readMaskedUpload(req([whole.subarray(0, 25)], 'cut'), options(pool))).rejects.toMatchObject({ code: 'request/bad-encoding' });
    expect(pool.inUse).toBe(0);
  });

  it('backpressure: with every slot taken an upload is not read on; it continues once a slot is free', async () => {
    const pool = new StagingPool(1);
    const first = await readMaskedUpload(req([whole]), options(pool));
    let pulled = 0;
    const src = Readable.from(
      (function* () {
        for (let i = 0; i < whole.length; i += 4) {
          pulled++;
          yield Buffer.from(whole.subarray(i, i + 4));
        }
      })(),
      { highWaterMark: 1 },
    );
    const second = readMaskedUpload(Object.assign(src, { headers: {} }) as unknown as IncomingMessage, options(pool));
    await new Promise((r) => setTimeout(r, 30));
    expect(pulled).toBeLessThan(Math.ceil(whole.length / 4)); // not read on
    first.release();
    const done = await second;
    expect(done.vector).toEqual(vector);
    done.release();
  });
});

/** Resolves once `ready()` holds, checking on every turn of the event loop. */
async function untilTrue(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !ready(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(ready()).toBe(true);
}

describe('uploads waiting for a staging slot over real sockets', () => {
  it('hold none of their body: the socket is paused before the first body byte is read; past the queue bound an upload is refused busy', async () => {
    const vectorBytes = 256 * 1024;
    const pool = new StagingPool(1);
    const server = createServer((req, res) => {
      readMaskedUpload(req, { vectorBytes, maxBodyBytes: 1 << 20, maxEnvelopeBytes: 256, stage: true, pool, maxWaiting: 2, signal: new AbortController().signal }).then(
        (u) => {
          const staged = u.vector !== null;
          u.release();
          res.end(`${u.bodyHash} ${staged}`);
        },
        (e: HttpError) => res.writeHead(e.status, { 'retry-after': String(e.retryAfterS) }).end(e.code),
      );
    });
    const accepted: Socket[] = [];
    server.on('connection', (s: Socket) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const bodies = [0, 1, 2, 3].map((k) => body('{"length":1}', Uint8Array.from({ length: vectorBytes }, (_, i) => (i * 31 + k) & 0xff)));
    const head = (b: Uint8Array) => Buffer.from(`POST /u HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: ${b.length}\r\n\r\n`);
    const open = async (): Promise<{ socket: Socket; answer: Promise<string> }> => {
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('error', () => {}); // the answer read so far is what is checked
      const answer = new Promise<string>((r) => socket.on('close', () => r(text)));
      return { socket, answer };
    };
    const serverSide = (c: Socket) => accepted.find((s) => s.remotePort === c.localPort)!;
    try {
      // The first upload takes the only slot and stalls mid-vector.
      const holder = await open();
      holder.socket.write(Buffer.concat([head(bodies[0]!), bodies[0]!.subarray(0, 1000)]));
      await untilTrue(() => pool.inUse === 1 && accepted.length === 1 && serverSide(holder.socket).bytesRead === head(bodies[0]!).length + 1000);
      // Two more send their headers, wait for a slot, then send their whole bodies.
      const waiting = [await open(), await open()];
      for (const [i, w] of waiting.entries()) w.socket.write(head(bodies[i + 1]!));
      await untilTrue(() => pool.waiting === 2);
      await Promise.all(waiting.map((w, i) => new Promise((r) => w.socket.write(bodies[i + 1]!, r))));
      // A fourth finds the queue full: refused at once, before its body.
      const refused = await open();
      refused.socket.write(head(bodies[3]!));
      const busy = await refused.answer;
      expect(busy).toMatch(/^HTTP\/1\.1 503 /);
      expect(busy).toMatch(/retry-after: 1\r\n/i);
      expect(busy, busy).toMatch(/request\/busy/);
      await new Promise((r) => setTimeout(r, 50));
      // The waiting uploads' sockets read their request heads and nothing of the bodies sent since.
      for (const [i, w] of waiting.entries()) expect(serverSide(w.socket).bytesRead).toBe(head(bodies[i + 1]!).length);
      expect(pool.waiting).toBe(2);
      holder.socket.write(bodies[0]!.subarray(1000));
      const answers = await Promise.all([holder, ...waiting].map((w) => w.answer));
      answers.forEach((a, i) => expect(a.endsWith(`${toHex(sha256(bodies[i]!))} true`)).toBe(true));
      expect([pool.inUse, pool.waiting]).toEqual([0, 0]);
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});

/** A full garbage collection (V8's gc, exposed for this process). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('memory an upload holds while it streams', () => {
  it('keeps no chunk it has read: the vector is in its staging buffer, the chunks are garbage', async () => {
    const pool = new StagingPool(1);
    const chunks = Array.from({ length: 12 }, () => Buffer.alloc(8192, 7));
    const refs = chunks.map((c) => new WeakRef(c));
    const stream = new PassThrough();
    const head = Buffer.from(body('{"length":1}', new Uint8Array(0)));
    new DataView(head.buffer, head.byteOffset).setUint32(0, head.length - 4, false);
    stream.write(head);
    const stop = new AbortController();
    const upload = readMaskedUpload(Object.assign(stream, { headers: {} }) as unknown as IncomingMessage, options(pool, { vectorBytes: 1 << 20, maxBodyBytes: 2 << 20, signal: stop.signal }));
    upload.catch(() => {});
    // One chunk at a time, as a socket delivers them (the reader gets each chunk itself, not a
    // concatenation) … and never the rest: the upload waits for more after 96 kB.
    for (const c of chunks.splice(0)) {
      await untilTrue(() => stream.readableLength === 0);
      stream.write(c);
    }
    await untilTrue(() => stream.readableLength === 0);
    await new Promise((r) => setTimeout(r, 0));
    collectGarbage();
    await new Promise((r) => setTimeout(r, 0));
    // The last chunk may still be the reader's current one.
    expect(refs.filter((r) => r.deref() !== undefined).length).toBeLessThanOrEqual(1);
    stop.abort();
    await expect(upload).rejects.toMatchObject({ code: 'request/upload-timeout' });
    expect(pool.inUse).toBe(0);
  });
});

describe('what a running coordinator keeps', () => {
  it('not the initial model it was started with (the store and the published model have their own copy)', async () => {
    const people = identities(2, 'initial-model');
    const config = smallConfig(people, { dim: 4096 });
    let model: Float32Array | null = new Float32Array(config.dim).fill(0.5);
    const ref = new WeakRef(model);
    const running = await startCoordinator({ config, initialModel: model, identity: nodeProvider.ed25519Keygen(seededRandom('initial-model')), autoStart: false });
    try {
      model = null;
      await new Promise((r) => setTimeout(r, 0));
      collectGarbage();
      expect(ref.deref()).toBeUndefined();
      const { weights } = running.coordinator.model;
      expect(new Float32Array(weights.buffer, weights.byteOffset, config.dim)[config.dim - 1]).toBe(0.5);
    } finally {
      await running.close();
    }
  });
});

describe('masked-input uploads at the coordinator', () => {
  it('with every slot taken and no room to wait, an upload is answered 503 request/busy with Retry-After, changes nothing, and is accepted when tried again', async () => {
    const people = identities(3, 'busy');
    const long = { 'advertise-keys': 60_000, 'share-keys': 60_000, 'masked-input': 60_000, 'consistency-check': 60_000, unmask: 60_000 };
    const config = smallConfig(people, { cohort: { size: 3 }, deadlines: long, rounds: 1 });
    const running = await startTestCoordinator(config, { app: { uploadSlots: 1, uploadQueue: 0 } });
    try {
      await until(running.url, (s) => s.phase === 'advertise-keys');
      const members = people.map((p) => new ManualClient(running.url, p, config.dim));
      expect(await Promise.all(members.map((m) => m.join()))).toEqual([true, true, true]);
      for (const m of members) expect((await m.post((m.round.start() as { message: ClientMessage }).message)).status).toBe(202);
      await until(running.url, (s) => s.phase === 'share-keys');
      for (const m of members) expect((await m.post(await m.next('share-keys'))).status).toBe(202);
      await until(running.url, (s) => s.phase === 'masked-input');
      const uploads = await Promise.all(members.map(async (m) => ({ m, ...wireBody(await m.next('masked-input')) })));
      const signed = (i: number) => {
        const { m, body, contentType } = uploads[i]!;
        return { 'content-type': contentType, ...signRequest(nodeProvider, m.id, { ...m.target('masked-input', 'POST'), body }, seededRandom(`busy-${i}-${performance.now()}`)) };
      };
      const url = new URL('v1/rounds/0/masked-input', running.url);
      const staged = async () => /fedveil_masked_uploads\{state="staged"\} 1/.test(await (await fetch(new URL('v1/metrics', running.url))).text());
      // Member 0 takes the only slot and stalls mid-vector.
      const first = uploads[0]!.body;
      const r = request(url, { method: 'POST', headers: { ...signed(0), 'content-length': String(first.length) } });
      const held = new Promise<number>((resolve, reject) => {
        r.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        r.on('error', reject);
      });
      r.write(Buffer.from(first.subarray(0, first.length - 10)));
      for (let i = 0; i < 200 && !(await staged()); i++) await new Promise((w) => setTimeout(w, 10));
      expect(await staged()).toBe(true);
      const before = running.coordinator.fingerprint();
      const busy = await fetch(url, { method: 'POST', headers: signed(1), body: uploads[1]!.body });
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('request/busy');
      expect(running.coordinator.fingerprint()).toBe(before);
      r.end(Buffer.from(first.subarray(first.length - 10)));
      expect(await held).toBe(202);
      const again = await fetch(url, { method: 'POST', headers: signed(1), body: uploads[1]!.body });
      expect(again.status).toBe(202);
    } finally {
      await running.close();
    }
  });


  it('a client that stalls mid-upload is answered 408 request/upload-timeout at the deadline and cut off', async () => {
    const people = identities(2, 'stall');
    const running = await startTestCoordinator(smallConfig(people), { autoStart: false, app: { uploadDeadlineMs: 300 } });
    try {
      const started = Date.now();
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const r = request(new URL('v1/rounds/0/masked-input', running.url), {
          method: 'POST',
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(whole.length),
            [SENDER_HEADER]: toHex(people[0]!.publicKey),
            [NONCE_HEADER]: '0'.repeat(32),
            [SIGNATURE_HEADER]: '0'.repeat(128),
          },
        });
        r.on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        r.on('error', reject);
        r.write(Buffer.from(whole.subarray(0, 10))); // … and never the rest
      });
      expect(answer.status).toBe(408);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'request/upload-timeout' } });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await running.close();
    }
  });

  it("an upload held back for a staging slot is cut off by its own deadline, not earlier by the server's request timeout", async () => {
    const people = identities(2, 'long-upload');
    const deadlines = { 'advertise-keys': 3000, 'share-keys': 3000, 'masked-input': 600_000, 'consistency-check': 3000, unmask: 3000 };
    const running = await startTestCoordinator(smallConfig(people, { deadlines }), { autoStart: false });
    try {
      // Node's server answers 408 and closes the socket of any request still unread at this limit.
      expect(running.server.requestTimeout).toBeGreaterThan(600_000);
    } finally {
      await running.close();
    }
    const shorter = await startTestCoordinator(smallConfig(people, { deadlines }), { autoStart: false, app: { uploadDeadlineMs: 200_000 } });
    try {
      expect(shorter.server.requestTimeout).toBeGreaterThan(200_000);
      expect(shorter.server.requestTimeout).toBeLessThan(600_000);
    } finally {
      await shorter.close();
    }
  });
});
