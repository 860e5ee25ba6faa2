/**
 * The test-only under-noising factor from FEDVEIL_TEST_NOISE_SCALE (deliberately not an option:
 * it exists to prove the empirical audit catches under-noising, and the report still claims the
 * calibrated ε). `fedveil simulate` hands it to every simulated participant, `fedveil client` to
 * its own; undefined when unset.
 */
export function testNoiseScale(): number | undefined {
  const raw = process.env['FEDVEIL_TEST_NOISE_SCALE'];
  if (raw === undefined || raw === '') return undefined;
  const f = Number(raw);
  if (!(f > 0 && f <= 1)) throw new Error(`FEDVEIL_TEST_NOISE_SCALE must be a number in (0, 1], got '${raw}'`);
  return f;
}
