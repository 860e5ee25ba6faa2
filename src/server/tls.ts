import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { FedveilError } from '../secagg/index.js';

/**
 * TLS for the coordinator's HTTP API. The protocol protects content on its own: every message is
 * signed, updates travel masked and shares encrypted end to end, so a network attacker cannot
 * read an update or forge a message. TLS adds what the protocol does not cover: confidentiality
 * of metadata (who takes part, when, request sizes and timing; the session token), and
 * protection against an attacker who rewrites or drops traffic to stall rounds or to make
 * participants fall back to the coordinator they were not meant to reach.
 */

/** Reads a PEM certificate chain and private key; errors name the file. */
export function readTlsFiles(tls: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new FedveilError('config/tls-unreadable', `cannot read the TLS ${what} ${path}: ${(e as Error).message}`);
    }
  };
  return { cert: read(tls.cert, 'certificate (listen.tls.cert)'), key: read(tls.key, 'private key (listen.tls.key)') };
}

/** Reads a PEM CA bundle for {@link fetchTrusting}; errors name the file. */
export function readCaFile(path: string): Buffer {
  try {
    const pem = readFileSync(path);
    if (!pem.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return pem;
  } catch (e) {
    throw new FedveilError('client/bad-ca', `cannot use ${path} as a CA certificate: ${(e as Error).message}`);
  }
}

/** Responses that cannot carry a body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` that trusts the certificates in `ca` (PEM), and only those, for https:// URLs: the
 * coordinator's own self-signed certificate, or the private CA that signed it. Node 20's
 * global fetch takes no CA option, so this one is built on node:https; http:// URLs go to the
 * global fetch. Network failures reject like fetch's: a TypeError('fetch failed') whose `cause`
 * is the socket's error (its `code` names a TLS failure).
 */
export function fetchTrusting(ca: Buffer | string): typeof fetch {
  const agent = new Agent({ ca, keepAlive: true });
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return fetch(input, init);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const body = init?.body;
    if (body !== undefined && body !== null && !(body instanceof Uint8Array) && typeof body !== 'string') {
      throw new TypeError('fetchTrusting sends only string or byte bodies');
    }
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: init?.method ?? 'GET', headers, agent, ...(init?.signal ? { signal: init.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const x of v) h.append(k, x);
            else if (v !== undefined) h.set(k, v);
          }
          const status = res.statusCode ?? 500;
          resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h }));
        });
      });
      req.on('error', (e) => reject(init?.signal?.aborted ? e : new TypeError('fetch failed', { cause: e })));
      req.end(body === undefined || body === null ? undefined : body);
    });
  };
}
