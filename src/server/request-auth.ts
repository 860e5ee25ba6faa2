import { sha256 } from '@noble/hashes/sha2.js';
import type { CryptoProvider } from '../secagg/keys.js';
import { toHex, utf8 } from '../secagg/util/bytes.js';
import { randomBytes, type RandomSource } from '../secagg/util/random.js';
import { canonicalJson } from './canonical-json.js';

/** Header carrying the sender's Ed25519 public key (64 hex). */
export const SENDER_HEADER = 'x-fedveil-sender';
/** Header carrying the request nonce (32 hex = 16 random bytes). */
export const NONCE_HEADER = 'x-fedveil-nonce';
/** Header carrying the Ed25519 signature (128 hex) over {@link requestSigningBytes}. */
export const SIGNATURE_HEADER = 'x-fedveil-signature';
/** Domain string of a request signature. */
export const REQUEST_SIGNATURE_DOMAIN = 'fedveil/http-request/v1';

/** What a request signature binds. */
export interface RequestBinding {
  federationId: string;
  round: number;
  /** Protocol phase the request is for. */
  phase: string;
  /** 'GET' (a phase view) or 'POST' (a submission): a signed GET can never be replayed as a POST. */
  method: 'GET' | 'POST';
  /** Sender's Ed25519 public key, hex. */
  sender: string;
  /** SHA-256 of the exact body bytes (the empty string's hash for a GET), hex. */
  bodyHash: string;
  /** 16 random bytes, hex; each is accepted once per sender. */
  nonce: string;
}

/**
 * The bytes a participant signs for a request: the canonical JSON (sorted keys, no whitespace) of
 * the binding plus the domain string under key `v`. See spec/ledger.md, "Request signatures".
 */
export function requestSigningBytes(b: RequestBinding): Uint8Array {
  return utf8(
    canonicalJson({
      v: REQUEST_SIGNATURE_DOMAIN,
      federationId: b.federationId,
      round: b.round,
      phase: b.phase,
      method: b.method,
      sender: b.sender,
      bodyHash: b.bodyHash,
      nonce: b.nonce,
    }),
  );
}

/** SHA-256 hex of request body bytes. */
export function bodyHash(body: Uint8Array): string {
  return toHex(sha256(body));
}

/** The three auth headers for a request, signed with the participant's Ed25519 seed. */
export function signRequest(
  provider: CryptoProvider,
  identity: { secretKey: Uint8Array; publicKey: Uint8Array },
  b: Omit<RequestBinding, 'sender' | 'bodyHash' | 'nonce'> & { body: Uint8Array },
  rng: RandomSource,
): Record<string, string> {
  const binding: RequestBinding = {
    federationId: b.federationId,
    round: b.round,
    phase: b.phase,
    method: b.method,
    sender: toHex(identity.publicKey),
    bodyHash: bodyHash(b.body),
    nonce: toHex(randomBytes(rng, 16)),
  };
  const sig = provider.ed25519Sign(identity.secretKey, requestSigningBytes(binding));
  return { [SENDER_HEADER]: binding.sender, [NONCE_HEADER]: binding.nonce, [SIGNATURE_HEADER]: toHex(sig) };
}
