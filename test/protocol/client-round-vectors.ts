/**
 * Builds spec/vectors/protocol-client-round.json: one client's share-keys and masked-input
 * messages in a small complete round, produced by the real protocol code (an in-memory round with
 * recorded randomness), together with every input and intermediate value an implementation needs to
 * reproduce them from spec/protocol.md §5, spec/secagg.md and spec/dp.md §2. Regenerate with
 * `npx tsx test/protocol/client-round-vectors.ts --write`; client-round-vectors.test.ts checks the
 * file against this builder and recomputes it from the spec's formulas.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeClientMessage } from '../../src/protocol/wire/serialize.js';
import { canonicalPayload } from '../../src/protocol/canonical.js';
import { planRound, toWireConfig, type RoundConfig } from '../../src/protocol/config.js';
import { runRoundInMemory } from '../../src/protocol/in-memory.js';
import type { ClientMessage, MaskedInputMessage, ShareKeysMessage } from '../../src/protocol/messages.js';
import type { ClientStep } from '../../src/protocol/results.js';
import { maskingSecretFromSeed } from '../../src/protocol/secrets.js';
import { rotationSigns } from '../../src/dp/index.js';
import { replayHex } from '../secagg/composite-vectors.js';
import { clipFactor, updateL2Norm } from '../../src/dp/encoding/clip.js';
import { fwhtNormalisation } from '../../src/dp/encoding/hadamard.js';
import { UniformStream } from '../../src/dp/noise/uniform-stream.js';
import { integerNoiseParameters, parseDpConfig, type DpConfig } from '../../src/dp/config.js';
import {
  deriveKey,
  nobleProvider,
  openShare,
  pairwiseMaskSeed,
  pairwiseMaskSign,
  prgExpand,
  seededRandom,
  selfMaskSeed,
  shamirSplit,
  toHex,
  unpackBits,
  fromHex,
  type RandomSource,
} from '../../src/secagg/index.js';

const SEED = 'fedveil/vectors/client-round';
/** The client whose messages the vector spells out: it has a lower and a higher neighbour. */
export const SUBJECT = 1;

/** The round: three participants, complete graph, t = 2, one extra coordinate, 12-bit masked vectors. */
const DP: DpConfig = {
  mechanism: 'none',
  clipNorm: 1,
  bits: 12,
  scale: 0.0625,
  rotation: true,
  noiseMultiplier: 0,
  minContributors: 1,
};
const UPDATES = [
  [0.25, 0.125, -0.375],
  [0.75, -0.5, 0.625],
  [-0.25, 0.5, 0.0625],
];
const EXTRA = [[1], [3], [2]];


/** A RandomSource that records every fill (length and bytes), in order. */
function recording(inner: RandomSource): { rng: RandomSource; draws: Uint8Array[] } {
  const draws: Uint8Array[] = [];
  return {
    draws,
    rng: {
      fill(out: Uint8Array): Uint8Array {
        inner.fill(out);
        draws.push(out.slice());
        return out;
      },
    },
  };
}

/** The words of an AES-256-CTR UniformStream after `material` (key ‖ counter block), read by the reference layout. */
function firstWords(material: Uint8Array, count: number): number[] {
  const u = new UniformStream({ fill: (out) => (out.set(material), out) });
  return Array.from({ length: count }, () => u.uint32());
}

/**
 * The encoder's stages for the subject's update, spelled out (spec/dp.md §2): the values the
 * rounding step compares, the words it compares them with, and the result. Throws if the encoder
 * produced anything else.
 */
function encodingTrace(dp: DpConfig, update: Float32Array, roundSeed: Uint8Array, material: Uint8Array, encoding: Uint32Array) {
  const cfg = parseDpConfig(dp);
  const p = integerNoiseParameters(cfg, update.length);
  const norm = updateL2Norm(update);
  const factor = clipFactor(norm, cfg.clipNorm);
  const signs = rotationSigns(roundSeed, p.paddedDim);
  const x = new Float64Array(p.paddedDim);
  for (let i = 0; i < p.paddedDim; i++) x[i] = ((i < update.length ? (update[i] as number) : 0) * factor) * (signs[i] as number);
  const signed = Array.from(x);
  for (let h = 1; h < x.length; h *= 2) {
    for (let i = 0; i < x.length; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const a = x[j] as number;
        const b = x[j + h] as number;
        x[j] = a + b;
        x[j + h] = a - b;
      }
    }
  }
  const transformed = Array.from(x);
  const hadamardNorm = fwhtNormalisation(p.paddedDim);
  const inv = 1 / cfg.scale;
  const v = transformed.map((t) => (t * hadamardNorm) * inv);
  const words = firstWords(material, 1000 * p.paddedDim);
  const attempts: { words: number[]; rounded: number[]; norm2: number }[] = [];
  const bound2 = p.l2Bound * p.l2Bound;
  for (let a = 0; ; a++) {
    const w = words.slice(a * p.paddedDim, (a + 1) * p.paddedDim);
    const rounded = v.map((vi, i) => Math.floor(vi) + ((w[i] as number) * 2 ** -32 < vi - Math.floor(vi) ? 1 : 0));
    const norm2 = rounded.reduce((s, r) => s + r * r, 0);
    attempts.push({ words: w, rounded, norm2 });
    if (norm2 <= bound2) break;
  }
  const m = 2 ** cfg.bits;
  const wrapped = (attempts.at(-1) as { rounded: number[] }).rounded.map((r) => ((r % m) + m) % m);
  if (wrapped.some((w, i) => w !== encoding[i]) || wrapped.length !== encoding.length) {
    throw new Error(`encoder output [${Array.from(encoding).join(',')}] differs from the spelled-out stages [${wrapped.join(',')}]`);
  }
  return {
    updateFloat32: Array.from(update),
    l2Norm: norm,
    clipFactor: factor,
    paddedDim: p.paddedDim,
    rotationSigns: Array.from(signs),
    signedClipped: signed,
    unnormalisedHadamard: transformed,
    hadamardNormalisation: hadamardNorm,
    inverseScale: inv,
    beforeRounding: v,
    l2Bound: p.l2Bound,
    uniformStreamMaterial: toHex(material),
    roundingAttempts: attempts,
    encoding: Array.from(encoding),
  };
}

/** A UniformStream vector whose counter block carries out of its low 64 bits after the first AES block. */
function uniformStreamVector() {
  const material = new Uint8Array(48);
  for (let i = 0; i < 32; i++) material[i] = 0x20 + i;
  for (let i = 32; i < 40; i++) material[i] = 0x60 + i;
  material.fill(0xff, 40, 48);
  const source = (): RandomSource => ({ fill: (out) => (out.set(material), out) });
  const u = new UniformStream(source());
  const units = Array.from({ length: 4 }, () => u.unit());
  const odd = new UniformStream(source());
  for (let i = 0; i < 16383; i++) odd.uint32();
  return {
    material: toHex(material),
    first8Words: firstWords(material, 8),
    first4Units: units,
    words16384And16385: firstWords(material, 16386).slice(16384),
    unitAfter16383Words: odd.unit(),
  };
}

/** The vector file's content, from one in-memory round of the real protocol code. */
export function buildClientRoundVectors(): Record<string, unknown> {
  const provider = nobleProvider;
  const n = UPDATES.length;
  const identities = Array.from({ length: n }, (_, i) => provider.ed25519Keygen(seededRandom(`${SEED}/identity/${i}`)));
  const config: RoundConfig = {
    federationId: 'fedveil-vectors',
    round: 7,
    participants: identities.map((k) => k.publicKey),
    threshold: 2,
    graph: { kind: 'complete' },
    mode: 'semi-honest',
    dim: 3,
    extraCoordinates: 1,
    dp: DP,
    roundSeed: seededRandom(`${SEED}/round-seed`).fill(new Uint8Array(32)),
  };
  const plan = planRound(config);
  const recorders = identities.map((_, i) => recording(seededRandom(`${SEED}/client/${i}`)));
  const sentBy = new Map<string, ClientMessage>();
  const encodings = new Map<number, Uint32Array>();
  const result = runRoundInMemory({
    config: plan,
    provider,
    serverRng: seededRandom(`${SEED}/server`),
    participants: identities.map((id, i) => ({
      identitySecretKey: id.secretKey,
      input: Float32Array.from(UPDATES[i] as number[]),
      extra: EXTRA[i] as number[],
      rng: (recorders[i] as { rng: RandomSource }).rng,
    })),
    observeEncoding: (i, e) => encodings.set(i, e.slice()),
    instrument: (target, work) => {
      const out = work();
      if (target.role === 'client') {
        const step = out as ClientStep;
        if (step.kind === 'send') sentBy.set(`${target.index}/${step.message.type}`, step.message);
      }
      return out;
    },
  });
  if (result.outcome.status !== 'completed') throw new Error(`the vector round did not complete: ${JSON.stringify(result.outcome)}`);

  const t = plan.threshold;
  const ctx = plan.kdfContext;
  // Every participant's draws, in the order the client makes them (spec/protocol.md §5): X25519
  // secret c (32 bytes), masking seed m (31), self-mask seed b (31), the t − 1 coefficients of b's
  // polynomial then of m's (32 each), one 24-byte nonce per other holder in ascending order, the
  // 48 bytes of the encoder's UniformStream.
  const holdersOf = (i: number) => [...plan.neighbourhood(i)];
  const participants = recorders.map(({ draws }, i) => {
    const others = holdersOf(i).filter((v) => v !== i);
    const expected = [32, 31, 31, ...Array<number>(2 * (t - 1)).fill(32), ...others.map(() => 24), 48];
    const sizes = draws.map((d) => d.length);
    if (sizes.join(',') !== expected.join(',')) throw new Error(`client ${i} drew [${sizes.join(',')}], expected [${expected.join(',')}]`);
    const pad = (b: Uint8Array) => Uint8Array.from([...b, 0]);
    const encryptionSecret = draws[0] as Uint8Array;
    const maskingSeed = pad(draws[1] as Uint8Array);
    const maskingSecret = maskingSecretFromSeed(maskingSeed);
    return {
      index: i,
      identitySecretKey: toHex((identities[i] as { secretKey: Uint8Array }).secretKey),
      identityPublicKey: toHex((identities[i] as { publicKey: Uint8Array }).publicKey),
      encryptionSecret: toHex(encryptionSecret),
      encryptionKey: toHex(provider.x25519PublicKey(encryptionSecret)),
      maskingSeed: toHex(maskingSeed),
      maskingSecret: toHex(maskingSecret),
      maskingKey: toHex(provider.x25519PublicKey(maskingSecret)),
      selfSeed: toHex(pad(draws[2] as Uint8Array)),
      selfSeedCoefficientDraws: draws.slice(3, 3 + (t - 1)).map(toHex),
      maskingSeedCoefficientDraws: draws.slice(3 + (t - 1), 3 + 2 * (t - 1)).map(toHex),
      nonces: Object.fromEntries(others.map((v, j) => [String(v), toHex(draws[3 + 2 * (t - 1) + j] as Uint8Array)])),
      uniformStreamMaterial: toHex(draws.at(-1) as Uint8Array),
    };
  });

  const me = participants[SUBJECT] as (typeof participants)[number];
  const shareKeysMsg = sentBy.get(`${SUBJECT}/share-keys`) as ShareKeysMessage;
  const maskedMsg = sentBy.get(`${SUBJECT}/masked-input`) as MaskedInputMessage;
  const holders = holdersOf(SUBJECT);
  const boxes = shareKeysMsg.shares.map(({ peer, ciphertext }) => {
    const peerKeys = participants[peer] as (typeof participants)[number];
    const shared = provider.x25519(fromHex(me.encryptionSecret), fromHex(peerKeys.encryptionKey));
    const key = deriveKey('share-key', shared, ctx);
    const binding = { federationId: config.federationId, round: config.round, sender: SUBJECT, recipient: peer };
    const payload = openShare(key, binding, ciphertext);
    const fid = new TextEncoder().encode(config.federationId);
    const header = new Uint8Array(2 + fid.length + 12);
    header[0] = 1;
    header[1] = fid.length;
    header.set(fid, 2);
    const dv = new DataView(header.buffer);
    dv.setUint32(2 + fid.length, config.round, false);
    dv.setUint32(6 + fid.length, SUBJECT, false);
    dv.setUint32(10 + fid.length, peer, false);
    return {
      recipient: peer,
      x25519Shared: toHex(shared),
      shareKey: toHex(key),
      nonce: toHex(ciphertext.subarray(0, 24)),
      header: toHex(header),
      payload: toHex(payload),
      plaintext: toHex(header) + toHex(payload),
      sealed: toHex(ciphertext),
    };
  });
  // The shares, from the recorded coefficient draws (shamirSplit draws a_1..a_{t−1} in order).
  const xs = holders.map((v) => v + 1);
  const selfShares = shamirSplit(fromHex(me.selfSeed), t, xs, replayHex(me.selfSeedCoefficientDraws.join('')));
  const maskShares = shamirSplit(fromHex(me.maskingSeed), t, xs, replayHex(me.maskingSeedCoefficientDraws.join('')));
  const shares = holders.map((v, j) => ({
    holder: v,
    x: v + 1,
    selfSeedShare: toHex((selfShares[j] as { y: Uint8Array }).y),
    maskingSeedShare: toHex((maskShares[j] as { y: Uint8Array }).y),
  }));
  for (const b of boxes) {
    const s = shares.find((sh) => sh.holder === b.recipient) as (typeof shares)[number];
    if (b.payload !== s.selfSeedShare + s.maskingSeedShare) throw new Error(`the box for ${b.recipient} does not carry y_b ‖ y_m`);
  }

  const encoding = encodings.get(SUBJECT) as Uint32Array;
  const input = [...encoding, ...(EXTRA[SUBJECT] as number[])];
  const L = plan.vectorLength;
  const selfSeed = selfMaskSeed(fromHex(me.selfSeed), ctx);
  const agree = provider.x25519Agreement(fromHex(me.maskingSecret));
  const pairwise = holders
    .filter((v) => v !== SUBJECT)
    .map((v) => {
      const peerKey = fromHex((participants[v] as (typeof participants)[number]).maskingKey);
      const seed = pairwiseMaskSeed(agree, peerKey, ctx);
      return {
        peer: v,
        x25519Shared: toHex(provider.x25519(fromHex(me.maskingSecret), peerKey)),
        seed: toHex(seed),
        sign: pairwiseMaskSign(SUBJECT, v),
        words: Array.from(prgExpand(seed, L, plan.bits)),
      };
    });
  const { json: maskedJson, body } = encodeClientMessage(maskedMsg);
  const y = Array.from(unpackBits(body as Uint8Array, L, plan.bits));
  const mod = 2 ** plan.bits;
  const selfWords = prgExpand(selfSeed, L, plan.bits);
  for (let i = 0; i < L; i++) {
    let s = (input[i] as number) + (selfWords[i] as number);
    for (const p of pairwise) s += p.sign * (p.words[i] as number);
    if (((s % mod) + mod) % mod !== y[i]) throw new Error(`masked coordinate ${i} is not x + self mask ± pairwise masks`);
  }

  return {
    description:
      'One client\'s share-keys and masked-input messages in a small round (spec/protocol.md §5). Generated by test/protocol/client-round-vectors.ts from an in-memory round of the protocol code.',
    config: toWireConfig(config),
    kdfContext: toHex(ctx),
    subject: SUBJECT,
    participants,
    shareKeys: {
      holders,
      xs,
      threshold: t,
      shares,
      boxes,
      canonicalPayload: toHex(canonicalPayload(shareKeysMsg)),
      message: encodeClientMessage(shareKeysMsg).json,
    },
    encoding: encodingTrace(DP, Float32Array.from(UPDATES[SUBJECT] as number[]), config.roundSeed, fromHex(me.uniformStreamMaterial), encoding),
    uniformStream: uniformStreamVector(),
    maskedInput: {
      u2: [...Array(n).keys()],
      bits: plan.bits,
      length: L,
      encoding: Array.from(encoding),
      extra: EXTRA[SUBJECT],
      input,
      selfMaskSeed: toHex(selfSeed),
      selfMaskWords: Array.from(selfWords),
      pairwise,
      y,
      body: toHex(body as Uint8Array),
      bodySha256: toHex(sha256(body as Uint8Array)),
      message: maskedJson,
    },
  };
}

if (process.argv.includes('--write')) {
  const { writeFileSync } = await import('node:fs');
  const path = new URL('../../spec/vectors/protocol-client-round.json', import.meta.url);
  writeFileSync(path, JSON.stringify(buildClientRoundVectors(), null, 2) + '\n');
  console.log(`wrote ${path.pathname}`);
}
