import { createHash } from 'node:crypto';
import { utf8 } from '../secagg/util/bytes.js';
import type { CryptoProvider } from '../secagg/index.js';
import type { ClientHeader, ClientMessage, ConsistencyCheckMessage, MaskedInputMessage, RevealedShare } from './messages.js';
import { PHASE_CODE } from './phases.js';

/**
 * The one canonical byte encoding of the protocol (spec/protocol.md, "Canonical encoding"). Every
 * field is written in a fixed order; integers are big-endian; every byte string and text is
 * preceded by its u32 length; a list is a u32 count followed by its items. The encoding is
 * therefore injective: two different payloads never encode to the same bytes.
 */
export class CanonicalWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** One byte. */
  u8(x: number): this {
    this.reserve(1);
    this.view.setUint8(this.len, x);
    this.len += 1;
    return this;
  }

  /** Two bytes, big-endian. */
  u16(x: number): this {
    this.reserve(2);
    this.view.setUint16(this.len, x, false);
    this.len += 2;
    return this;
  }

  /** Four bytes, big-endian. */
  u32(x: number): this {
    this.reserve(4);
    this.view.setUint32(this.len, x, false);
    this.len += 4;
    return this;
  }

  /** u32 length ‖ bytes. */
  bytes(b: Uint8Array): this {
    this.u32(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** u32 length ‖ UTF-8 bytes. */
  text(s: string): this {
    return this.bytes(utf8(s));
  }

  /** u32 count ‖ u32 each. */
  indices(xs: readonly number[]): this {
    this.u32(xs.length);
    for (const x of xs) this.u32(x);
    return this;
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Domain tag that starts every signed byte string. */
export const SIGNED_MESSAGE_DOMAIN = 'fedveil/v1/signed-message';

function writeShares(w: CanonicalWriter, shares: readonly RevealedShare[]): void {
  w.u32(shares.length);
  for (const s of shares) w.u32(s.peer).bytes(s.share);
}

/** Canonical bytes of a client message's payload (everything but header, signature and binary body). */
export function canonicalPayload(msg: ClientMessage): Uint8Array {
  const w = new CanonicalWriter().text(msg.type);
  switch (msg.type) {
    case 'advertise-keys':
      return w.bytes(msg.encryptionKey).bytes(msg.maskingKey).finish();
    case 'share-keys':
      w.u32(msg.shares.length);
      for (const s of msg.shares) w.u32(s.peer).bytes(s.ciphertext);
      return w.finish();
    case 'masked-input':
      return w.u32(msg.length).u8(msg.bits).bytes(msg.vectorSha256).finish();
    case 'consistency-check':
      return w.indices(msg.u3).finish();
    case 'unmask':
      writeShares(w, msg.selfMaskShares);
      writeShares(w, msg.maskKeyShares);
      return w.finish();
  }
}

/**
 * The bytes a participant signs: lp(domain) ‖ u16 version ‖ lp(federationId) ‖ u32 round ‖
 * u8 phase ‖ u32 sender ‖ lp(binding) ‖ lp(SHA-256(canonical payload)) (lp = u32 length prefix).
 * `binding` is the round's {@link RoundConfig.binding} (empty when the round has none): every
 * signature of the round therefore also covers what the coordinator bound the round to.
 */
export function signedBytes(header: ClientHeader, payloadHash: Uint8Array, binding: Uint8Array): Uint8Array {
  return new CanonicalWriter()
    .text(SIGNED_MESSAGE_DOMAIN)
    .u16(header.version)
    .text(header.federationId)
    .u32(header.round)
    .u8(PHASE_CODE[header.phase])
    .u32(header.sender)
    .bytes(binding)
    .bytes(payloadHash)
    .finish();
}

/** The signed bytes of `msg` (its header, the round binding and the hash of its canonical payload). */
export function messageSignedBytes(msg: ClientMessage, binding: Uint8Array): Uint8Array {
  return signedBytes(msg.header, new Uint8Array(createHash('sha256').update(canonicalPayload(msg)).digest()), binding);
}

/** Distributes Omit over a union, so each member keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A client message before signing. */
export type UnsignedClientMessage = DistributiveOmit<ClientMessage, 'signature'>;

/** Signs `msg` with the sender's long-term Ed25519 secret key, under the round's `binding`. */
export function signMessage<M extends ClientMessage>(
  provider: CryptoProvider,
  identitySecretKey: Uint8Array,
  msg: Omit<M, 'signature'>,
  binding: Uint8Array,
): M {
  const withEmpty = { ...msg, signature: new Uint8Array(64) } as unknown as M;
  const signature = provider.ed25519Sign(identitySecretKey, messageSignedBytes(withEmpty, binding));
  return { ...withEmpty, signature };
}

/** True when `msg.signature` is the sender's valid signature under `publicKey` for the round's `binding`. Never throws. */
export function verifyMessage(provider: CryptoProvider, publicKey: Uint8Array, msg: ClientMessage, binding: Uint8Array): boolean {
  try {
    return provider.ed25519Verify(publicKey, messageSignedBytes(msg, binding), msg.signature);
  } catch {
    return false;
  }
}

/** The bytes of a consistency signature over `u3` by `signer` (as the signer's consistency-check message). */
export function consistencySignedBytes(
  header: Omit<ClientHeader, 'phase' | 'sender'>,
  signer: number,
  u3: readonly number[],
  binding: Uint8Array,
): Uint8Array {
  return consistencySignedBytesOver(header, u3, binding)(signer);
}

/**
 * {@link consistencySignedBytes} for many signers of one U3: the payload (and its hash) does not
 * depend on the signer, so it is encoded once rather than once per signature checked — a client
 * checks a quorum of signatures, each over a U3 of the whole cohort.
 */
export function consistencySignedBytesOver(
  header: Omit<ClientHeader, 'phase' | 'sender'>,
  u3: readonly number[],
  binding: Uint8Array,
): (signer: number) => Uint8Array {
  const payload: ConsistencyCheckMessage = {
    type: 'consistency-check',
    header: { ...header, phase: 'consistency-check', sender: 0 },
    u3: [...u3],
    signature: new Uint8Array(64),
  };
  const payloadHash = new Uint8Array(createHash('sha256').update(canonicalPayload(payload)).digest());
  // Only the sender differs between signers: its u32 follows the phase byte of one template.
  const template = signedBytes({ ...header, phase: 'consistency-check', sender: 0 }, payloadHash, binding);
  const senderAt = new CanonicalWriter()
    .text(SIGNED_MESSAGE_DOMAIN)
    .u16(header.version)
    .text(header.federationId)
    .u32(header.round)
    .u8(PHASE_CODE['consistency-check'])
    .finish().length;
  return (signer) => {
    const out = template.slice();
    new DataView(out.buffer).setUint32(senderAt, signer, false);
    return out;
  };
}

/**
 * The bytes of a masked-input signature by `sender` over a vector of `length` coordinates of
 * `bits` bits with SHA-256 `vectorSha256` (as the sender's masked-input message): what an auditor
 * re-verifies to check a contributor co-signed the round's binding.
 */
export function maskedInputSignedBytes(
  header: Omit<ClientHeader, 'phase' | 'sender'>,
  sender: number,
  envelope: { length: number; bits: number; vectorSha256: Uint8Array },
  binding: Uint8Array,
): Uint8Array {
  const msg: MaskedInputMessage = {
    type: 'masked-input',
    header: { ...header, phase: 'masked-input', sender },
    ...envelope,
    signature: new Uint8Array(64),
    vector: new Uint8Array(0),
  };
  return messageSignedBytes(msg, binding);
}

/**
 * SHA-256 of the masked vector's packed body, as carried in the signed envelope, on node:crypto:
 * the body is d·b/8 bytes, where a JS SHA-256 would cost more than the masking itself.
 */
export function vectorDigest(body: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(body).digest());
}
