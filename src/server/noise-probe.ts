/**
 * The noise probe (spec/protocol.md, spec/dp.md §6): a federation with `noiseProbe` P > 0 has
 * every participant append P coordinates whose input is exactly 0 after the rest of its vector
 * (the model update, then the evaluation counts). They are encoded, noised, masked, aggregated,
 * unmasked and decoded with the rest, so the last P coordinates of a released mean are the
 * aggregate noise alone; the ledger entry records them and verify-report tests their variance
 * against the one the round's mechanism claims. A zero block adds nothing to the clipped norm.
 */

/** P, the probe coordinates of a federation config (0 when it has none). */
export function noiseProbeCoordinates(config: { noiseProbe?: number | undefined }): number {
  return config.noiseProbe ?? 0;
}

/** `input` followed by `probe` zeros: what an honest participant encodes. */
export function withNoiseProbe(input: Float32Array, probe: number): Float32Array {
  if (probe === 0) return input;
  const out = new Float32Array(input.length + probe);
  out.set(input, 0);
  return out;
}

/** The released probe values: the last `probe` coordinates of a round's decoded mean, as numbers. */
export function releasedNoiseProbe(mean: Float32Array, probe: number): number[] {
  return Array.from(mean.subarray(mean.length - probe));
}
