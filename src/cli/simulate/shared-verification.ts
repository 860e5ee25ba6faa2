import { createHash } from 'node:crypto';
import type { CryptoProvider } from '../../secagg/index.js';

/**
 * `provider` with one memory of Ed25519 verifications for every participant a simulation worker
 * hosts. Verification is a pure function of (key, message, signature), so each participant still
 * gets exactly the answer its own check would give; what is shared is only the work. It matters
 * because in malicious mode every participant checks a quorum of consistency signatures over the
 * same U3 — O(n) each, O(n²) per round — and a worker hosts hundreds of the cohort's members.
 * A real participant is one process and verifies everything itself.
 */
export function withSharedVerification(provider: CryptoProvider, capacity = 1 << 17): CryptoProvider {
  const answers = new Map<string, boolean>();
  const ed25519Verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
    // The key binds all three inputs, lengths included (SHA-256 of a length-prefixed encoding).
    const key = createHash('sha256')
      .update(Uint8Array.of(publicKey.length, signature.length))
      .update(publicKey)
      .update(signature)
      .update(message)
      .digest('base64');
    const known = answers.get(key);
    if (known !== undefined) return known;
    const ok = provider.ed25519Verify(publicKey, message, signature);
    // Bounded: a round's signatures are what repeats; older answers are dropped wholesale.
    if (answers.size >= capacity) answers.clear();
    answers.set(key, ok);
    return ok;
  };
  // Providers are plain objects of functions: every other operation is the provider's own.
  return { ...provider, ed25519Verify };
}
