/**
 * Browser entry of the spec-vector check (test/server/vectors.browser.test.ts): bundled with the
 * participant page's build options (same shims, the noble provider), it recomputes in Chromium
 * what the spec vectors pin: the composite vectors (KDF, PRG, pairwise and self masks, Shamir,
 * sealed shares, packing, the SecAgg+ graph), a whole client round, RFC 8032 signatures, the
 * protocol's signed-message bytes and AES-256-CTR keystreams (the rounding and noise stream). The
 * Node test compares every byte with spec/vectors and node:crypto.
 */
import '../../web/dashboard/zod-jitless.js';
import { createCipheriv } from 'node:crypto';
import { aesBackend } from '../../web/dashboard/shims/crypto.js';
import { messageSignedBytes } from '../../src/protocol/canonical.js';
import type { ClientMessage } from '../../src/protocol/messages.js';
import { decodeClientMessage } from '../../src/protocol/wire/serialize.js';
import { fromHex, nobleProvider, toHex } from '../../src/secagg/index.js';
import { keystreamBackend } from '../../src/secagg/keystream.js';
import { buildClientRoundVectors } from '../protocol/client-round-vectors.js';
import { buildCompositeVectors } from '../secagg/composite-vectors.js';

interface Inputs {
  ed25519: { tests: { secretKey: string; message: string }[] };
  signedMessage: { identitySecretKey: string; binding: string; message: unknown };
  /** AES-256-CTR streams to compute: the data written in pieces of `sizes`. */
  aes: { key: string; iv: string; data: string; sizes: number[] }[];
}

/** The AES-256-CTR of `data` fed in pieces of `sizes` (cycled), with the bundle's node:crypto. */
function aesStream(c: Inputs['aes'][number]): string {
  const cipher = createCipheriv('aes-256-ctr', fromHex(c.key), fromHex(c.iv));
  const data = fromHex(c.data);
  const out = new Uint8Array(data.length);
  for (let off = 0, i = 0; off < data.length; i++) {
    const piece = data.subarray(off, off + (c.sizes[i % c.sizes.length] as number));
    out.set(cipher.update(piece), off);
    off += piece.length;
  }
  return toHex(out);
}

function vectors(inputs: Inputs): Record<string, unknown> {
  const msg = decodeClientMessage(inputs.signedMessage.message) as ClientMessage;
  const signedBytes = messageSignedBytes(msg, fromHex(inputs.signedMessage.binding));
  return {
    composite: buildCompositeVectors(),
    clientRound: buildClientRoundVectors(),
    ed25519: inputs.ed25519.tests.map((t) => ({
      publicKey: toHex(nobleProvider.ed25519PublicKey(fromHex(t.secretKey))),
      signature: toHex(nobleProvider.ed25519Sign(fromHex(t.secretKey), fromHex(t.message))),
    })),
    signedMessage: { signedBytes: toHex(signedBytes), signature: toHex(nobleProvider.ed25519Sign(fromHex(inputs.signedMessage.identitySecretKey), signedBytes)) },
    // Which node:crypto the bundle computed with: the shim, not Node's.
    isBrowser: 'document' in globalThis && !('process' in globalThis),
    // The masks' keystream: the SIMD WebAssembly ChaCha20, not the shim's JavaScript one.
    keystream: keystreamBackend,
    aes: inputs.aes.map(aesStream),
    // The rounding stream's AES: the WebAssembly one where the page compiles WebAssembly.
    aesBackend: aesBackend(),
  };
}

(globalThis as { fedveilVectors?: typeof vectors }).fedveilVectors = vectors;
