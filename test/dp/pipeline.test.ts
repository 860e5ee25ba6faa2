import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  RandomizedHadamard,
  centreModulo,
  checkModulusHeadroom,
  clipL2InPlace,
  createClientEncoder,
  createServerDecoder,
  decodeSum,
  fwhtInPlace,
  integerNoiseParameters,
  l2Norm,
  rotationSigns,
  type DpConfig,
} from '../../src/dp/index.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import type { FedveilError } from '../../src/secagg/util/errors.js';
import { errorCode as codeOf } from './error-code.js';

const seed = new Uint8Array(32).fill(7);

function base(over: Partial<DpConfig> = {}): DpConfig {
  return { mechanism: 'none', clipNorm: 1, bits: 32, scale: 1 / 1024, rotation: true, noiseMultiplier: 0, minContributors: 1, ...over };
}

function addMod(a: Uint32Array, b: Uint32Array, bits: number): Uint32Array {
  const m = 2 ** bits;
  return a.map((v, i) => (v + (b[i] as number)) % m);
}

describe('encoding stages', () => {
  it('fast Walsh–Hadamard is orthonormal and its own inverse', () => {
    const x = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const y = Float64Array.from(x);
    fwhtInPlace(y);
    expect(y[0]).toBeCloseTo(36 / Math.sqrt(8), 12);
    expect(l2Norm(y)).toBeCloseTo(l2Norm(x), 12);
    fwhtInPlace(y);
    y.forEach((v, i) => expect(v).toBeCloseTo(x[i] as number, 12));
  });

  it('rotation signs are a deterministic function of the seed', () => {
    const a = rotationSigns(seed, 1024);
    expect(rotationSigns(seed, 1024)).toEqual(a);
    const other = rotationSigns(new Uint8Array(32).fill(8), 1024);
    expect(other).not.toEqual(a);
    const plus = a.filter((s) => s === 1).length;
    expect(plus).toBeGreaterThan(400);
    expect(plus).toBeLessThan(624);
  });

  it('randomized Hadamard rotation round-trips', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 40 }), (arr) => {
        const r = new RandomizedHadamard(seed, arr.length);
        const x = new Float64Array(r.paddedDim);
        x.set(arr);
        const y = Float64Array.from(x);
        r.forwardInPlace(y);
        r.inverseInPlace(y);
        y.forEach((v, i) => expect(v).toBeCloseTo(x[i] as number, 9));
      }),
      { numRuns: 50 },
    );
  });

  it('clipping bounds the norm and leaves short vectors alone', () => {
    const long = Float64Array.from([3, 4]);
    clipL2InPlace(long, 1);
    expect(l2Norm(long)).toBeLessThanOrEqual(1);
    expect(long[0]).toBeCloseTo(0.6, 12);
    const short = Float64Array.from([0.3, 0.4]);
    expect(clipL2InPlace(short, 1)).toBe(1);
    expect(Array.from(short)).toEqual([0.3, 0.4]);
    expect(codeOf(() => clipL2InPlace(Float64Array.from([NaN]), 1))).toBe('dp/non-finite-update');
  });
});

describe('pipeline', () => {
  it('without noise, decode(Σ encode(x_i)) = mean of clipped updates within the rounding bound γ√d', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        (dim, n, rotation, s) => {
          const cfg = base({ rotation, scale: 1 / 256 });
          const rng = seededRandom(s);
          const enc = createClientEncoder(cfg, dim, seed);
          let sum: Uint32Array = new Uint32Array(enc.encodedLength);
          const expected = new Float64Array(dim);
          for (let c = 0; c < n; c++) {
            const u = new Float32Array(dim).map((_, i) => Math.sin(s + 7 * c + i) * 2);
            const clipped = Float64Array.from(u);
            clipL2InPlace(clipped, cfg.clipNorm);
            clipped.forEach((v, i) => (expected[i] = (expected[i] as number) + v / n));
            const e = enc.encode(u, rng);
            e.forEach((v) => expect(v).toBeLessThan(2 ** 32));
            sum = addMod(sum, e, cfg.bits);
          }
          const out = decodeSum(cfg, dim, seed, sum, n, rng);
          expect(out.length).toBe(dim);
          const err = l2Norm(out.map((v, i) => v - (expected[i] as number)));
          // Per client the rounding error has L2 norm < √d'; the mean of n of them too; float32 output adds ~1e-7.
          expect(err).toBeLessThanOrEqual(cfg.scale * Math.sqrt(enc.encodedLength) + 1e-5);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('encodes into [0, 2^bits) for small moduli and decodes a worst-case aligned sum exactly when the headroom check passes', () => {
    const cfg = base({ bits: 16, scale: 1 / 64, rotation: false });
    const dim = 8;
    const n = 30;
    checkModulusHeadroom(cfg, dim, n); // 30·(64+√8) fits in ±32767
    const enc = createClientEncoder(cfg, dim, seed);
    const rng = seededRandom('aligned');
    const u = new Float32Array(dim).fill(0);
    u[0] = 5; // clipped to norm 1: coordinate 0 = C, the worst case for one coordinate
    let sum: Uint32Array = new Uint32Array(dim);
    for (let c = 0; c < n; c++) {
      const e = enc.encode(u, rng);
      e.forEach((v) => expect(v).toBeLessThan(2 ** 16));
      sum = addMod(sum, e, 16);
    }
    const out = decodeSum(cfg, dim, seed, sum, n, rng);
    expect(out[0]).toBeCloseTo(1, 1);
  });

  it('refuses a modulus that n contributors plus noise could wrap, naming the bound', () => {
    const cfg = base({ bits: 16, scale: 1 / 1024, rotation: false });
    const err = (() => {
      try {
        checkModulusHeadroom(cfg, 8, 100);
      } catch (e) {
        return e as FedveilError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('dp/modulus-overflow');
    expect(err?.message).toMatch(/could reach .* beyond the centred range ±32767 of 16 bits/);
    // Noise alone can exhaust the headroom: a huge Skellam variance.
    const noisy = base({ mechanism: 'skellam', noiseMultiplier: 1000, bits: 18, scale: 1 / 64, minContributors: 2 });
    expect(codeOf(() => checkModulusHeadroom(noisy, 8, 2))).toBe('dp/modulus-overflow');
    expect(codeOf(() => checkModulusHeadroom(base(), 1000, 100))).toBeUndefined();
  });

  it('adds Skellam noise whose decoded variance matches z²C²/t per client', () => {
    const cfg = base({ mechanism: 'skellam', noiseMultiplier: 2, minContributors: 4, rotation: false, scale: 1 / 16 });
    const dim = 4000;
    const enc = createClientEncoder(cfg, dim, seed);
    const e = enc.encode(new Float32Array(dim), seededRandom(1));
    const out = decodeSum(cfg, dim, seed, e, 1, seededRandom(2));
    let m = 0;
    let v = 0;
    out.forEach((x) => (m += x / dim));
    out.forEach((x) => (v += (x - m) ** 2 / dim));
    // Expected variance: (zC)²/t = 1, plus rounding variance of a zero vector (0).
    expect(Math.abs(m)).toBeLessThan(0.06);
    expect(v).toBeGreaterThan(0.9);
    expect(v).toBeLessThan(1.1);
  });

  it('central mode adds Gaussian noise z·C at decode and none at encode', () => {
    const cfg = base({ mechanism: 'central', noiseMultiplier: 3, rotation: false });
    const dim = 4000;
    const enc = createClientEncoder(cfg, dim, seed);
    const e = enc.encode(new Float32Array(dim), seededRandom(3));
    expect(e.every((v) => v === 0)).toBe(true);
    const out = decodeSum(cfg, dim, seed, e, 1, seededRandom(4));
    let v = 0;
    out.forEach((x) => (v += x * x / dim));
    expect(v).toBeGreaterThan(9 * 0.9);
    expect(v).toBeLessThan(9 * 1.1);
  });

  it('rejects bad configs and inputs with specific codes', () => {
    expect(codeOf(() => createClientEncoder({ ...base(), clipNorm: -1 }, 4, seed))).toBe('dp/bad-config');
    expect(codeOf(() => createClientEncoder({ ...base(), bits: 33 }, 4, seed))).toBe('dp/bad-config');
    expect(codeOf(() => createClientEncoder(base({ mechanism: 'skellam' }), 4, seed))).toBe('dp/bad-config');
    expect(codeOf(() => createClientEncoder(base(), 0, seed))).toBe('dp/bad-dimension');
    expect(codeOf(() => createClientEncoder(base(), 4, new Uint8Array(8)))).toBe('dp/bad-round-seed');
    const enc = createClientEncoder(base(), 4, seed);
    expect(codeOf(() => enc.encode(new Float32Array(3), seededRandom(1)))).toBe('dp/bad-dimension');
    expect(codeOf(() => decodeSum(base(), 4, seed, new Uint32Array(4), 0, seededRandom(1)))).toBe('dp/bad-contributors');
    expect(codeOf(() => decodeSum(base(), 4, seed, new Uint32Array(3), 1, seededRandom(1)))).toBe('dp/bad-dimension');
  });

  it('a reusable server decoder gives the same mean as decodeSum, and honours a fixed denominator', () => {
    const cfg = base({ scale: 1 / 512 });
    const dim = 20;
    const enc = createClientEncoder(cfg, dim, seed);
    const u = new Float32Array(dim).map((_, i) => (i % 3) * 0.1);
    const sum = enc.encode(u, seededRandom('dec'));
    const dec = createServerDecoder(cfg, dim, seed);
    expect(dec.encodedLength).toBe(32);
    const a = dec.decode(sum, 1, seededRandom(0));
    expect(Array.from(a)).toEqual(Array.from(decodeSum(cfg, dim, seed, sum, 1, seededRandom(0))));
    const half = dec.decode(sum, 1, seededRandom(0), { denominator: 2 });
    half.forEach((v, i) => expect(v).toBeCloseTo((a[i] as number) / 2, 6));
    expect(codeOf(() => dec.decode(new Uint32Array(32).fill(70000), 1, seededRandom(0)))).toBeUndefined();
    const narrow = createServerDecoder(base({ bits: 16, rotation: false }), 4, seed);
    expect(codeOf(() => narrow.decode(new Uint32Array(4).fill(70000), 1, seededRandom(0)))).toBe('dp/bad-sum');
  });

  it('decodes without rotation exactly as the stages one by one (centre, ×γ, ÷ denominator, float32); centreModulo is the first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 32 }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 2 ** -30, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        fc.option(fc.double({ min: 0.01, max: 1e6, noNaN: true })),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (bits, dim, scale, contributors, denominator, salt) => {
          const m = 2 ** bits;
          // Values spread over Z_m with both ends (0, m/2 − 1, m/2, m − 1) always present.
          const sum = Uint32Array.from({ length: dim }, (_, i) => [0, m / 2 - 1, m / 2, m - 1][i] ?? ((i * 2654435761 + salt) >>> 0) % m);
          const out = decodeSum(base({ bits, scale, rotation: false }), dim, seed, sum, contributors, seededRandom(0), denominator === null ? {} : { denominator });
          // The stages one by one, written out: signed representative, ×γ, ÷ denominator, float32.
          const centred = Float64Array.from(sum, (v) => (v >= m / 2 ? v - m : v));
          const scaled = centred.map((c) => c * scale);
          const expected = Float32Array.from(scaled, (v) => v / (denominator ?? contributors));
          expect(Array.from(out)).toEqual(Array.from(expected));
          expect(Array.from(centreModulo(sum, bits))).toEqual(Array.from(centred));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('derives integer noise parameters from the config', () => {
    const p = integerNoiseParameters(base({ mechanism: 'skellam', noiseMultiplier: 1, minContributors: 10, scale: 1 / 4096 }), 65536);
    expect(p.paddedDim).toBe(65536);
    expect(p.centralStddev).toBe(4096);
    expect(p.localSkellamMu).toBeCloseTo((4096 * 4096) / 20, 6);
  });
});

describe('rotation sign known answer (spec/dp.md §2)', () => {
  it('matches the vector computed independently with HMAC-SHA256 and openssl AES-256-CTR', () => {
    const s = rotationSigns(Uint8Array.from({ length: 32 }, (_, i) => i), 16);
    expect(Array.from(s)).toEqual([1, 1, -1, 1, 1, 1, -1, 1, -1, -1, -1, -1, -1, -1, -1, 1]);
  });
});
