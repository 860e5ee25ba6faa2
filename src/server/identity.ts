import { chmodSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { CryptoProvider, KeyPair } from '../secagg/keys.js';
import { bytesEqual, fromHex, toHex } from '../secagg/util/bytes.js';
import { FedveilError } from '../secagg/util/errors.js';
import type { RandomSource } from '../secagg/util/random.js';
import { readJsonFile } from './json-file.js';

/** The JSON identity file written by `fedveil keygen`: a long-term Ed25519 key pair. */
export const IdentityFileSchema = z
  .object({
    type: z.literal('fedveil-identity'),
    version: z.literal(1),
    algorithm: z.literal('ed25519'),
    publicKey: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters'),
    secretKey: z.string().regex(/^[0-9a-f]{64}$/, 'must be the 32-byte seed as 64 lower-case hex characters'),
  })
  .strict();

/** A parsed identity file. */
export type IdentityFile = z.infer<typeof IdentityFileSchema>;

/** A fresh identity from `rng` (use systemRandom for real keys). */
export function generateIdentity(provider: CryptoProvider, rng: RandomSource): KeyPair {
  return provider.ed25519Keygen(rng);
}

/** The identity file's content for `identity` (what `fedveil keygen` writes and the browser participant exports). */
export function identityFile(identity: KeyPair): IdentityFile {
  return {
    type: 'fedveil-identity',
    version: 1,
    algorithm: 'ed25519',
    publicKey: toHex(identity.publicKey),
    secretKey: toHex(identity.secretKey),
  };
}

/**
 * The key pair of a parsed identity file, after checking that its public key belongs to its
 * secret key (FedveilError 'identity/invalid' naming `where` otherwise).
 */
export function identityFromFile(file: IdentityFile, provider: CryptoProvider, where: string): KeyPair {
  const secretKey = fromHex(file.secretKey);
  const publicKey = provider.ed25519PublicKey(secretKey);
  if (!bytesEqual(publicKey, fromHex(file.publicKey))) {
    throw new FedveilError('identity/invalid', `identity file ${where}: publicKey does not match secretKey`);
  }
  return { secretKey, publicKey };
}

/** Writes `identity` to `path` with mode 0600 (owner read/write only); refuses to overwrite. */
export function writeIdentityFile(path: string, identity: KeyPair): void {
  const file = identityFile(identity);
  try {
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new FedveilError('identity/exists', `${path} already exists; refusing to overwrite an identity`);
    throw new FedveilError('identity/unwritable', `cannot write ${path}: ${(err as Error).message}`);
  }
  // The umask may have narrowed the mode further but never widened it; make it exact.
  chmodSync(path, 0o600);
}

/**
 * Reads and checks an identity file: the schema, and that the public key belongs to the secret
 * key. Throws FedveilError 'identity/unreadable' or 'identity/invalid'.
 */
export function readIdentityFile(path: string, provider: CryptoProvider): KeyPair {
  const file = readJsonFile(path, IdentityFileSchema, 'identity file', { unreadable: 'identity/unreadable', invalid: 'identity/invalid' });
  return identityFromFile(file, provider, path);
}
