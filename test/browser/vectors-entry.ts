/**
 * Browser entry of the spec-vector check (test/server/vectors.browser.test.ts): bundled with the
 * participant page's build options (same shims, the noble provider), it recomputes in Chromium
 * what the spec vectors pin: the composite vectors (KDF, PRG, pairwise and self masks, Shamir,
 * sealed shares, packing, the SecAgg+ graph), a whole client round, RFC 8032 signatures and the
 * protocol's signed-message bytes. The Node test compares every byte with spec/vectors.
 */
import '../../web/dashboard/zod-jitless.js';
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
  };
}

(globalThis as { fedveilVectors?: typeof vectors }).fedveilVectors = vectors;
