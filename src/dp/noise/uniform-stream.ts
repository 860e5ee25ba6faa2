import { createCipheriv } from 'node:crypto';
import type { RandomSource } from '../../secagg/util/random.js';

/** Bytes of keystream produced per refill: large enough to amortise the cipher call. */
const BLOCK_BYTES = 64 * 1024;

/**
 * A fast stream of uniform draws for the noise samplers and randomized rounding.
 *
 * Sampling a million Skellam or discrete-Gaussian values needs tens of megabytes of randomness;
 * calling the injected {@link RandomSource} for every word would dominate the cost. Instead the
 * stream draws a fresh 256-bit key and 128-bit counter block from the source once and expands them
 * with AES-256-CTR (a cryptographic PRG). With `systemRandom` the draws are therefore
 * cryptographically random; with `seededRandom` they are reproducible.
 */
export class UniformStream {
  private readonly cipher: ReturnType<typeof createCipheriv>;
  private readonly zeros = new Uint8Array(BLOCK_BYTES);
  private words = new Uint32Array(0);
  private pos = 0;

  constructor(rng: RandomSource) {
    const material = rng.fill(new Uint8Array(48));
    this.cipher = createCipheriv('aes-256-ctr', material.subarray(0, 32), material.subarray(32, 48));
  }

  private refill(): void {
    const out = this.cipher.update(this.zeros);
    this.words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
    this.pos = 0;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    if (this.pos >= this.words.length) this.refill();
    return this.words[this.pos++] as number;
  }

  /**
   * The next min(n, k) uniform 32-bit words as a view, where k >= 1 is what remains of the current
   * block (n >= 1): the same words, in the same order, as that many {@link uint32} calls. For hot
   * loops, which then index a local array instead of calling a method per draw.
   */
  uint32Run(n: number): Uint32Array {
    if (this.pos >= this.words.length) this.refill();
    const start = this.pos;
    this.pos = Math.min(this.words.length, start + n);
    return this.words.subarray(start, this.pos);
  }

  /**
   * For hot loops that draw {@link unit} doubles themselves: the unread words of the current block,
   * at least two (refilling exactly when {@link unit} would). Reading pairs (w[0], w[1]),
   * (w[2], w[3]), … as {@link unit} does and then consuming them with {@link advance} gives the
   * same doubles, in the same order, as that many {@link unit} calls.
   */
  unitWords(): Uint32Array {
    if (this.pos > this.words.length - 2) this.refill();
    return this.words.subarray(this.pos);
  }

  /** Consumes `count` words of the view last returned by {@link unitWords}. */
  advance(count: number): void {
    this.pos += count;
  }

  /** A uniform double in [0, 1) carrying 53 random bits (exactly representable). */
  unit(): number {
    // A pair never straddles a refill: a lone trailing word is skipped.
    if (this.pos > this.words.length - 2) this.refill();
    const hi = (this.words[this.pos] as number) >>> 5; // 27 bits
    const lo = (this.words[this.pos + 1] as number) >>> 6; // 26 bits
    this.pos += 2;
    return (hi * 67108864 + lo) * 1.1102230246251565e-16; // 2^-53
  }

  /** A uniform double in (0, 1]: never 0, so its logarithm is finite. */
  unitPositive(): number {
    return 1 - this.unit();
  }
}
