import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningCoordinator } from '../../src/server/start.js';
import { fetchTrusting, readCaFile } from '../../src/server/tls.js';
import { identities, participant, smallConfig, startTestCoordinator } from './harness.js';

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl; null (and why) when openssl is missing. */
function selfSigned(): { cert: string; key: string } | { missing: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fedveil-tls-'));
  const paths = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  const res = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', paths.key, '-out', paths.cert],
    { encoding: 'utf8' },
  );
  if (res.error) return { missing: `openssl is not available (${res.error.message})` };
  if (res.status !== 0) return { missing: `openssl could not make a certificate: ${res.stderr}` };
  return paths;
}

const tls = selfSigned();
if ('missing' in tls) console.warn(`skipping the TLS tests: ${tls.missing}`);

let running: RunningCoordinator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe.skipIf('missing' in tls)('a coordinator behind TLS (listen.tls)', () => {
  const paths = tls as { cert: string; key: string };

  it('serves https, and participants that trust its certificate (--ca) complete a round', async () => {
    const people = identities(3, 'tls');
    running = await startTestCoordinator(smallConfig(people, { rounds: 1, listen: { host: '127.0.0.1', port: 0, tls: paths } }));
    expect(running.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const trusting = fetchTrusting(readCaFile(paths.cert));
    const results = await Promise.all(people.map((p) => participant(running!.url, p, 1, 4, { fetch: trusting }).run()));
    expect(results.map((r) => r.map((x) => x.status))).toEqual([['completed'], ['completed'], ['completed']]);
  });

  it('is refused at once, with what to do, by a participant that does not trust it', async () => {
    const people = identities(2, 'tls-untrusted');
    running = await startTestCoordinator(smallConfig(people, { rounds: 1, listen: { host: '127.0.0.1', port: 0, tls: paths } }));
    const t0 = performance.now();
    let err: { code?: string; message: string } | undefined;
    try {
      await participant(running.url, people[0]!, 1, 4, { retry: { baseDelayMs: 100, maxDelayMs: 1000, giveUpAfterMs: 60_000 } }).run();
    } catch (e) {
      err = e as { code: string; message: string };
    }
    expect(performance.now() - t0).toBeLessThan(10_000); // no retrying a certificate that will not change
    expect(err?.code).toBe('client/tls-failed');
    expect(err?.message).toContain(`TLS with the coordinator at ${running.url} failed: self-signed certificate`);
    expect(err?.message).toContain('pass the certificate (or the CA that signed it) with --ca FILE');
    expect(() => readCaFile(paths.key)).toThrow(expect.objectContaining({ code: 'client/bad-ca' }));
    expect(readFileSync(paths.cert, 'utf8')).toContain('BEGIN CERTIFICATE');
  });
});
