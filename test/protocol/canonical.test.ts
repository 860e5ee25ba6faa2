import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  canonicalPayload,
  CanonicalWriter,
  consistencySignedBytes,
  consistencySignedBytesOver,
  messageSignedBytes,
  signedBytes,
  verifyMessage,
} from '../../src/protocol/canonical.js';
import type { AdvertiseKeysMessage, ClientMessage, ConsistencyCheckMessage } from '../../src/protocol/messages.js';
import { decodeClientMessage, encodeClientMessage } from '../../src/protocol/wire/serialize.js';
import { nobleProvider, nodeProvider } from '../../src/secagg/index.js';
import { fromHex, toHex } from '../../src/secagg/util/bytes.js';

const vector = JSON.parse(readFileSync(new URL('../../spec/vectors/protocol-signed-message.json', import.meta.url), 'utf8')) as {
  identitySecretKey: string;
  identityPublicKey: string;
  binding: string;
  message: unknown;
  canonicalPayload: string;
  payloadSha256: string;
  signedBytes: string;
  signature: string;
};

describe('canonical encoding and signed bytes (spec/vectors/protocol-signed-message.json)', () => {
  const msg = decodeClientMessage(vector.message) as AdvertiseKeysMessage;
  const binding = fromHex(vector.binding);

  it('reproduces the canonical payload, its hash and the signed bytes', () => {
    expect(toHex(canonicalPayload(msg))).toBe(vector.canonicalPayload);
    expect(toHex(sha256(canonicalPayload(msg)))).toBe(vector.payloadSha256);
    expect(toHex(messageSignedBytes(msg, binding))).toBe(vector.signedBytes);
    expect(toHex(signedBytes(msg.header, fromHex(vector.payloadSha256), binding))).toBe(vector.signedBytes);
  });

  it('the signature is the deterministic Ed25519 signature under both providers', () => {
    for (const p of [nobleProvider, nodeProvider]) {
      expect(toHex(p.ed25519PublicKey(fromHex(vector.identitySecretKey)))).toBe(vector.identityPublicKey);
      expect(toHex(p.ed25519Sign(fromHex(vector.identitySecretKey), fromHex(vector.signedBytes)))).toBe(vector.signature);
      expect(verifyMessage(p, fromHex(vector.identityPublicKey), msg, binding)).toBe(true);
    }
  });

  it('re-encodes to the same JSON', () => {
    expect(encodeClientMessage(msg).json).toEqual(vector.message);
  });

  it('binds every header field: changing any one breaks the signature', () => {
    const pk = fromHex(vector.identityPublicKey);
    const variants: ClientMessage[] = [
      { ...msg, header: { ...msg.header, version: 1 } },
      { ...msg, header: { ...msg.header, federationId: 'vector-federatioN' } },
      { ...msg, header: { ...msg.header, round: 43 } },
      { ...msg, header: { ...msg.header, phase: 'share-keys' } },
      { ...msg, header: { ...msg.header, sender: 4 } },
      { ...msg, maskingKey: msg.encryptionKey },
    ];
    for (const v of variants) expect(verifyMessage(nodeProvider, pk, v, binding)).toBe(false);
  });

  it('binds the round binding: another binding, or none, breaks the signature', () => {
    const pk = fromHex(vector.identityPublicKey);
    const other = binding.slice();
    other[0] = (other[0] as number) ^ 1;
    expect(verifyMessage(nodeProvider, pk, msg, other)).toBe(false);
    expect(verifyMessage(nodeProvider, pk, msg, new Uint8Array(0))).toBe(false);
  });

  it('is injective where a naive concatenation would not be: lengths are part of the encoding', () => {
    const a = new CanonicalWriter().text('ab').text('c').finish();
    const b = new CanonicalWriter().text('a').text('bc').finish();
    expect(toHex(a)).not.toBe(toHex(b));
    expect(toHex(new CanonicalWriter().indices([1, 2]).finish())).toBe('000000020000000100000002');
  });
});

describe('consistency-check signed bytes for many signers of one U3', () => {
  const header = { version: 1, federationId: 'fed-consistency', round: 7 };
  const binding = new Uint8Array(32).fill(9);
  const u3 = [0, 2, 3, 5, 8];

  it('equal, for every signer, the signed bytes of the consistency-check message that signer sends', () => {
    // A federation id of multi-byte characters moves where the sender is written.
    for (const h of [header, { ...header, federationId: 'fédération-ü-€' }]) {
      const over = consistencySignedBytesOver(h, u3, binding);
      for (const signer of [0, 2, 3, 5, 8, 1000, 65_536, 2 ** 32 - 1]) {
        const msg: ConsistencyCheckMessage = {
          type: 'consistency-check',
          header: { ...h, phase: 'consistency-check', sender: signer },
          u3: [...u3],
          signature: new Uint8Array(64),
        };
        const expected = toHex(messageSignedBytes(msg, binding));
        // Each signer's bytes are its own: changing one array changes no other.
        over(signer).fill(0);
        expect(toHex(over(signer))).toBe(expected);
        expect(toHex(consistencySignedBytes(h, signer, u3, binding))).toBe(expected);
      }
    }
  });

  it('differ when the U3, the round or the binding differs', () => {
    const base = toHex(consistencySignedBytesOver(header, u3, binding)(2));
    expect(toHex(consistencySignedBytesOver(header, [0, 2, 3, 5], binding)(2))).not.toBe(base);
    expect(toHex(consistencySignedBytesOver({ ...header, round: 8 }, u3, binding)(2))).not.toBe(base);
    expect(toHex(consistencySignedBytesOver(header, u3, new Uint8Array(32).fill(1))(2))).not.toBe(base);
    expect(toHex(consistencySignedBytesOver(header, u3, binding)(3))).not.toBe(base);
  });
});
