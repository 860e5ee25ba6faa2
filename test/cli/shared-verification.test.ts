import { describe, expect, it } from 'vitest';
import { withSharedVerification } from '../../src/cli/simulate/shared-verification.js';
import { nodeProvider, seededRandom } from '../../src/secagg/index.js';
import type { CryptoProvider } from '../../src/secagg/index.js';

describe('withSharedVerification (one memory of Ed25519 verifications per simulation worker)', () => {
  const rng = seededRandom(new Uint8Array(32).fill(4));
  const a = nodeProvider.ed25519Keygen(rng);
  const b = nodeProvider.ed25519Keygen(rng);
  const message = new TextEncoder().encode('consistency over U3');
  const signature = nodeProvider.ed25519Sign(a.secretKey, message);

  const counting = (): { provider: CryptoProvider; calls: () => number } => {
    let calls = 0;
    return {
      provider: { ...nodeProvider, ed25519Verify: (pk, m, s) => (calls++, nodeProvider.ed25519Verify(pk, m, s)) },
      calls: () => calls,
    };
  };

  it('answers exactly as the provider does, and verifies a repeated triple once', () => {
    const inner = counting();
    const shared = withSharedVerification(inner.provider);
    for (let i = 0; i < 5; i++) expect(shared.ed25519Verify(a.publicKey, message, signature)).toBe(true);
    expect(inner.calls()).toBe(1);
  });

  it('does not mix answers: another key, message or signature is checked on its own and refused', () => {
    const inner = counting();
    const shared = withSharedVerification(inner.provider);
    expect(shared.ed25519Verify(a.publicKey, message, signature)).toBe(true);
    expect(shared.ed25519Verify(b.publicKey, message, signature)).toBe(false);
    expect(shared.ed25519Verify(a.publicKey, new TextEncoder().encode('consistency over U3 '), signature)).toBe(false);
    const flipped = Uint8Array.from(signature);
    flipped[10]! ^= 1;
    expect(shared.ed25519Verify(a.publicKey, message, flipped)).toBe(false);
    // A refused triple stays refused when asked again, and the valid one stays valid.
    expect(shared.ed25519Verify(a.publicKey, message, flipped)).toBe(false);
    expect(shared.ed25519Verify(a.publicKey, message, signature)).toBe(true);
    expect(inner.calls()).toBe(4);
  });

  it('does not mix answers for long messages: one byte changed at the end, or the same start, is refused', () => {
    const inner = counting();
    const shared = withSharedVerification(inner.provider);
    const long = new Uint8Array(5000).fill(3);
    const longSignature = nodeProvider.ed25519Sign(a.secretKey, long);
    const changed = Uint8Array.from(long);
    changed[4999] = 4;
    expect(shared.ed25519Verify(a.publicKey, long, longSignature)).toBe(true);
    expect(shared.ed25519Verify(a.publicKey, changed, longSignature)).toBe(false);
    expect(shared.ed25519Verify(a.publicKey, long.subarray(0, 1024), longSignature)).toBe(false);
    expect(shared.ed25519Verify(a.publicKey, long, longSignature)).toBe(true);
    expect(inner.calls()).toBe(3);
  });

  it('keys a message by its own bytes, not the rest of the buffer it is a view of', () => {
    const inner = counting();
    const shared = withSharedVerification(inner.provider);
    const buffer = new Uint8Array(message.length + 8);
    buffer.set(message, 4);
    expect(shared.ed25519Verify(a.publicKey, buffer.subarray(4, 4 + message.length), signature)).toBe(true);
    expect(shared.ed25519Verify(a.publicKey, buffer.subarray(3, 3 + message.length), signature)).toBe(false);
    expect(inner.calls()).toBe(2);
  });

  it('keeps giving correct answers once its bounded memory is full', () => {
    const inner = counting();
    const shared = withSharedVerification(inner.provider, 2);
    const messages = [0, 1, 2, 3].map((i) => Uint8Array.of(i));
    for (const m of messages) expect(shared.ed25519Verify(a.publicKey, m, nodeProvider.ed25519Sign(a.secretKey, m))).toBe(true);
    expect(shared.ed25519Verify(a.publicKey, messages[0]!, nodeProvider.ed25519Sign(a.secretKey, messages[1]!))).toBe(false);
  });
});
