import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../secagg/util/bytes.js';
import { HttpError } from './http-errors.js';

/**
 * Staging buffers for masked vectors in flight. An upload is authenticated only once its last
 * byte has arrived (the request signature covers the SHA-256 of the whole body), so a vector
 * cannot go into the round's sum as it streams in; it waits in one of these buffers instead. At
 * most `slots` buffers exist: memory is O(slots · vector bytes) however many clients upload at
 * once, and an upload that finds every slot taken is not read from its socket (TCP backpressure)
 * until one is given back.
 */
export class StagingPool {
  private free: Uint8Array[] = [];
  private allocated = 0;
  private bytes = 0;
  private readonly waiters: { size: number; resolve: (b: Uint8Array) => void; reject: (e: unknown) => void }[] = [];
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param slots most buffers lent at once
   * @param idleTrimMs how long the pool keeps its free buffers once none is lent and no upload
   *   waits: uploads come in bursts (one phase of a round), and a pool that kept `slots` vectors
   *   for good would hold them (32 MB at d = 10⁶ with 8 slots) through unmasking and release,
   *   the round's memory peak.
   */
  constructor(
    readonly slots: number,
    private readonly idleTrimMs = 1000,
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`staging slots must be a positive integer, got ${slots}`);
  }

  /** Buffers allocated, lent or free. */
  get held(): number {
    return this.allocated;
  }

  /** Buffers now lent out. */
  get inUse(): number {
    return this.allocated - this.free.length;
  }

  /** Uploads waiting for a buffer. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** A buffer of `size` bytes when one is free now (and nobody waits for one), else null. */
  tryAcquire(size: number): Uint8Array | null {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (size !== this.bytes) {
      // The vector size changed (a new round plan): buffers of the old size are dropped as returned.
      this.allocated -= this.free.length;
      this.free = [];
      this.bytes = size;
    }
    if (this.waiters.length > 0) return null;
    const ready = this.free.pop();
    if (ready !== undefined) return ready;
    if (this.allocated < this.slots) {
      this.allocated++;
      return new Uint8Array(size);
    }
    return null;
  }

  /** A buffer of `size` bytes, once one is free; rejects with the signal's reason when aborted first. */
  acquire(size: number, signal?: AbortSignal): Promise<Uint8Array> {
    const ready = this.tryAcquire(size);
    if (ready !== null) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const waiter = { size, resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Gives a buffer back (to the next waiter when there is one). */
  release(buffer: Uint8Array): void {
    if (buffer.byteLength !== this.bytes) {
      this.allocated--;
    } else {
      const next = this.waiters.shift();
      if (next !== undefined) {
        next.resolve(buffer);
        return;
      }
      this.free.push(buffer);
    }
    // A slot freed by a dropped buffer can serve a waiter with a fresh one.
    while (this.waiters.length > 0 && this.allocated < this.slots) {
      const w = this.waiters.shift()!;
      this.allocated++;
      w.resolve(new Uint8Array(w.size));
    }
    if (this.inUse === 0 && this.waiters.length === 0 && this.free.length > 0 && this.idleTimer === undefined) {
      this.idleTimer = setTimeout(() => this.trim(), this.idleTrimMs);
      this.idleTimer.unref?.();
    }
  }

  /** Drops the free buffers (lent ones are dropped as they come back only if the size changed). */
  private trim(): void {
    this.idleTimer = undefined;
    this.allocated -= this.free.length;
    this.free = [];
  }
}

/** What {@link readMaskedUpload} needs to know about the round before the body arrives. */
export interface MaskedUploadOptions {
  /** Bytes of this round's packed vector. */
  vectorBytes: number;
  /** Largest whole body accepted (413 beyond it, without reading the rest). */
  maxBodyBytes: number;
  /** Largest JSON envelope before the vector. */
  maxEnvelopeBytes: number;
  /** False when the request cannot be accepted whatever its body (not in the cohort, wrong phase …): its vector is hashed and dropped, never staged. */
  stage: boolean;
  pool: StagingPool;
  /**
   * Most uploads left waiting, unread, for a staging buffer: one more is refused at once with
   * 'request/busy' (503, Retry-After) rather than queued. Default unbounded.
   */
  maxWaiting?: number;
  /** Aborted when the upload's deadline passes. */
  signal: AbortSignal;
}

/** A masked-input body read from its socket. */
export interface MaskedUpload {
  /** SHA-256 (hex) of the whole body, for the request signature. */
  bodyHash: string;
  /** The JSON envelope's bytes. */
  envelope: Uint8Array;
  /** Bytes that followed the envelope. */
  vectorBytes: number;
  /** The vector, a view into a staging buffer; null when not staged or when its length is wrong. */
  vector: Uint8Array | null;
  /** The framing was broken (an envelope length beyond the body or the limit). */
  encodingError: HttpError | null;
  /** Gives the staging buffer back; call once the vector was added to the sum or refused. */
  release(): void;
}

/** Seconds a participant refused with 'request/busy' is told to wait before it tries again. */
export const BUSY_RETRY_AFTER_S = 1;

/**
 * Reads a masked-input body, `u32be(len(J)) ‖ J ‖ packed vector`, from `req` in the chunks the
 * socket delivers: the SHA-256 is computed as it arrives and the vector is copied into a staging
 * buffer of exactly `vectorBytes` (bytes beyond it are counted, not kept), so no whole body is ever
 * buffered. A staged upload takes its buffer before it reads a byte of its body: while it waits for
 * one its socket is paused, so that the body stays in the kernel's buffers (the TCP window holds
 * the sender back) rather than in this process. Rejects with HttpError 'request/busy' when
 * `maxWaiting` uploads wait already, 'request/body-too-large' past `maxBodyBytes`,
 * 'request/upload-timeout' when `signal` aborts, and 'request/bad-encoding' when the client
 * cuts the upload off; the staging buffer is then already given back.
 */
export async function readMaskedUpload(req: IncomingMessage, opts: MaskedUploadOptions): Promise<MaskedUpload> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > opts.maxBodyBytes) throw new HttpError('request/body-too-large', `the body is ${declared} bytes; the limit is ${opts.maxBodyBytes}`);
  const hash = sha256.create();
  const head = new Uint8Array(4);
  let envelope: Uint8Array | null = null;
  let envelopeLength = -1;
  let filled = 0;
  let total = 0;
  let vectorBytes = 0;
  let staging: Uint8Array | null = null;
  let encodingError: HttpError | null = null;
  const release = () => {
    if (staging !== null) opts.pool.release(staging);
    staging = null;
  };
  if (opts.stage) {
    staging = opts.pool.tryAcquire(opts.vectorBytes);
    if (staging === null) staging = await waitForStaging(req, opts);
  }
  const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      const next = chunks.next();
      next.catch(() => {});
      let r: IteratorResult<Buffer>;
      try {
        r = await untilDeadline(next, opts.signal);
      } catch (e) {
        if (e instanceof HttpError) throw e;
        throw new HttpError('request/bad-encoding', `the upload was cut off: ${(e as Error).message}`);
      }
      if (r.done) break;
      const chunk = r.value;
      total += chunk.byteLength;
      if (total > opts.maxBodyBytes) throw new HttpError('request/body-too-large', `the body exceeds the limit of ${opts.maxBodyBytes} bytes`);
      hash.update(chunk);
      let at = 0;
      while (at < chunk.byteLength) {
        if (envelopeLength < 0) {
          const n = Math.min(4 - filled, chunk.byteLength - at);
          head.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === 4) {
            envelopeLength = new DataView(head.buffer).getUint32(0, false);
            filled = 0;
            if (envelopeLength > opts.maxEnvelopeBytes || envelopeLength > opts.maxBodyBytes - 4) {
              encodingError = new HttpError('request/bad-encoding', `envelope length ${envelopeLength} exceeds the body`);
              envelope = new Uint8Array(0);
            } else {
              envelope = new Uint8Array(envelopeLength);
            }
          }
        } else if (encodingError === null && filled < envelopeLength) {
          const n = Math.min(envelopeLength - filled, chunk.byteLength - at);
          (envelope as Uint8Array).set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
        } else {
          const n = chunk.byteLength - at;
          if (staging !== null && encodingError === null && vectorBytes < opts.vectorBytes) {
            const k = Math.min(n, opts.vectorBytes - vectorBytes);
            staging.set(chunk.subarray(at, at + k), vectorBytes);
          }
          vectorBytes += n;
          at += n;
        }
      }
    }
  } catch (e) {
    release();
    throw e;
  }
  if (envelopeLength < 0) encodingError ??= new HttpError('request/bad-encoding', 'masked-input body is shorter than its 4-byte envelope length');
  else if (encodingError === null && filled < envelopeLength) encodingError = new HttpError('request/bad-encoding', `envelope length ${envelopeLength} exceeds the body`);
  const complete = staging !== null && vectorBytes === opts.vectorBytes;
  if (!complete) release();
  return {
    bodyHash: toHex(hash.digest()),
    envelope: envelope ?? new Uint8Array(0),
    vectorBytes,
    vector: complete ? (staging as Uint8Array) : null,
    encodingError,
    release,
  };
}

/**
 * Waits for a staging buffer with `req`'s socket paused: what the kernel holds for a paused socket
 * is bounded by its receive window and is not this process's memory. Reading the request later
 * resumes the socket (node's HTTP server does so when the body is read).
 */
async function waitForStaging(req: IncomingMessage, opts: MaskedUploadOptions): Promise<Uint8Array> {
  const waiting = opts.pool.waiting;
  if (opts.maxWaiting !== undefined && waiting >= opts.maxWaiting) {
    throw new HttpError('request/busy', `${waiting} masked inputs are waiting for the coordinator already; try again in ${BUSY_RETRY_AFTER_S} s`, undefined, BUSY_RETRY_AFTER_S);
  }
  (req.socket as Socket | undefined)?.pause();
  const lent = opts.pool.acquire(opts.vectorBytes, opts.signal);
  // A buffer handed over in the same tick as the deadline must still go back.
  lent.catch(() => {});
  return untilDeadline(lent, opts.signal).catch((e: unknown) => {
    void lent.then((b) => opts.pool.release(b), () => {});
    throw e;
  });
}

/**
 * `p`, or HttpError 'request/upload-timeout' once `signal` aborts. Not Promise.race with one
 * promise that stays pending for the whole upload: every race would leave a reaction on it that
 * holds the race's result, i.e. every chunk read, until the upload ends.
 */
function untilDeadline<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  const timeout = () => new HttpError('request/upload-timeout', 'the upload did not complete before its deadline');
  if (signal.aborted) return Promise.reject(timeout());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(timeout());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
