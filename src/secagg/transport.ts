import nacl from 'tweetnacl';
import { check, FedveilError } from './util/errors.js';
import { randomBytes, type RandomSource } from './util/random.js';
import { bytesEqual, concatBytes } from './util/bytes.js';
import { checkFederationRound, deriveKey } from './kdf.js';
import type { X25519Agreement } from './keys.js';

/*
 * Sealed share = nonce (24 bytes) ‖ XSalsa20-Poly1305 secretbox of
 *   0x01 (version) ‖ u8 len(fid) ‖ fid (UTF-8) ‖ u32be round ‖ u32be sender ‖ u32be recipient ‖ payload.
 * The binding lives inside the authenticated plaintext, so a box replayed to another recipient,
 * round or federation opens (with the right key) but fails the binding check with its own code.
 */

/** What a sealed share is bound to; checked on open. `sender`/`recipient` are participant indices. */
export interface ShareBinding {
  federationId: string;
  round: number;
  sender: number;
  recipient: number;
}

const NONCE_BYTES = nacl.secretbox.nonceLength; // 24
const TAG_BYTES = nacl.secretbox.overheadLength; // 16
const VERSION = 1;
/** Smallest possible sealed share: nonce, tag and a header with a 1-byte federation id. */
export const MIN_SEALED_BYTES = NONCE_BYTES + TAG_BYTES + 2 + 1 + 12;

/** Error codes {@link openShare} uses for a box that authenticates but is bound to something else. */
export const TRANSPORT_BINDING_CODES: readonly string[] = [
  'transport/wrong-federation',
  'transport/wrong-round',
  'transport/wrong-sender',
  'transport/wrong-recipient',
];

function checkIndex(v: number, what: string): void {
  check(
    Number.isInteger(v) && v >= 0 && v <= 0xffffffff,
    'transport/bad-binding',
    () => `${what} must be an integer in [0, 2^32-1], got ${v}`,
  );
}

function encodeBinding(b: ShareBinding): Uint8Array {
  check(typeof b === 'object' && b !== null, 'transport/bad-binding', 'binding must be an object');
  const fid = checkFederationRound(b.federationId, b.round, 'transport/bad-binding');
  checkIndex(b.sender, 'sender');
  checkIndex(b.recipient, 'recipient');
  const out = new Uint8Array(2 + fid.length + 12);
  out[0] = VERSION;
  out[1] = fid.length;
  out.set(fid, 2);
  const dv = new DataView(out.buffer);
  dv.setUint32(2 + fid.length, b.round, false);
  dv.setUint32(6 + fid.length, b.sender, false);
  dv.setUint32(10 + fid.length, b.recipient, false);
  return out;
}

function checkKey(key: unknown): asserts key is Uint8Array {
  check(
    key instanceof Uint8Array && key.length === 32,
    'transport/bad-key',
    () => `share key must be 32 bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`,
  );
}

/**
 * The secretbox key for shares between me and a peer: deriveKey('share-key', X25519(mySecret,
 * peerPublic), context), with `agree = provider.x25519Agreement(mySecret)`.
 */
export function shareKey(agree: X25519Agreement, peerPublic: Uint8Array, context: Uint8Array): Uint8Array {
  return deriveKey('share-key', agree(peerPublic), context);
}

/** Seals `plaintext` for `binding` under `key` with a fresh 24-byte nonce from `rng`; returns nonce ‖ box. */
export function sealShare(key: Uint8Array, binding: ShareBinding, plaintext: Uint8Array, rng: RandomSource): Uint8Array {
  checkKey(key);
  check(plaintext instanceof Uint8Array, 'transport/bad-plaintext', 'plaintext must be a Uint8Array');
  const header = encodeBinding(binding);
  const nonce = randomBytes(rng, NONCE_BYTES);
  const box = nacl.secretbox(concatBytes(header, plaintext), nonce, key);
  return concatBytes(nonce, box);
}

/**
 * Opens a sealed share and checks its binding; returns the payload. Errors, each its own code:
 * `transport/truncated` (shorter than any sealed share), `transport/auth-failed` (tampered or cut
 * ciphertext, or a wrong key — the AEAD cannot tell these apart), `transport/malformed` (authentic
 * but not a version-1 share), then `transport/wrong-federation`, `transport/wrong-round`,
 * `transport/wrong-sender`, `transport/wrong-recipient` (authentic but bound elsewhere).
 */
export function openShare(key: Uint8Array, binding: ShareBinding, sealed: Uint8Array): Uint8Array {
  checkKey(key);
  const expected = encodeBinding(binding);
  check(sealed instanceof Uint8Array, 'transport/truncated', 'sealed share must be a Uint8Array');
  check(
    sealed.length >= MIN_SEALED_BYTES,
    'transport/truncated',
    () => `sealed share has ${sealed.length} bytes, fewer than the minimum ${MIN_SEALED_BYTES}`,
  );
  const opened = nacl.secretbox.open(sealed.subarray(NONCE_BYTES), sealed.subarray(0, NONCE_BYTES), key);
  if (opened === null) {
    throw new FedveilError('transport/auth-failed', 'sealed share failed authentication (tampered, truncated or wrong key)');
  }
  check(opened.length >= 15 && opened[0] === VERSION, 'transport/malformed', 'sealed share is not a version-1 share');
  const fidLen = opened[1] as number;
  check(opened.length >= 2 + fidLen + 12 && fidLen >= 1, 'transport/malformed', 'sealed share header is cut short');
  const fidBytes = opened.subarray(2, 2 + fidLen);
  const dv = new DataView(opened.buffer, opened.byteOffset, opened.length);
  const round = dv.getUint32(2 + fidLen, false);
  const sender = dv.getUint32(6 + fidLen, false);
  const recipient = dv.getUint32(10 + fidLen, false);
  const expFid = expected.subarray(2, 2 + (expected[1] as number));
  check(bytesEqual(fidBytes, expFid), 'transport/wrong-federation', 'sealed share belongs to another federation');
  check(round === binding.round, 'transport/wrong-round', () => `sealed share is for round ${round}, expected ${binding.round}`);
  check(sender === binding.sender, 'transport/wrong-sender', () => `sealed share is from sender ${sender}, expected ${binding.sender}`);
  check(
    recipient === binding.recipient,
    'transport/wrong-recipient',
    () => `sealed share is for recipient ${recipient}, expected ${binding.recipient}`,
  );
  return opened.slice(2 + fidLen + 12);
}
