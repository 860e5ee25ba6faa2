/**
 * A radix-2 complex FFT and the convolutions the PLD accountant needs. The privacy-loss PMFs are
 * 10^4–10^6 buckets long, so direct O(n·m) convolution is out of the question except for tiny
 * inputs; a power-of-two transform is enough (dp_accounting uses scipy's mixed-radix size, which
 * only changes the padding, not the result beyond rounding).
 */

/** Smallest power of two >= n (n >= 1). */
export function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Twiddle tables per size, so repeated transforms of one size do not recompute cos/sin. */
const twiddles = new Map<number, { cos: Float64Array; sin: Float64Array }>();

function twiddleTable(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = twiddles.get(n);
  if (t === undefined) {
    const half = n >> 1;
    const cos = new Float64Array(half);
    const sin = new Float64Array(half);
    for (let k = 0; k < half; k++) {
      cos[k] = Math.cos((2 * Math.PI * k) / n);
      sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    t = { cos, sin };
    if (twiddles.size > 32) twiddles.clear();
    twiddles.set(n, t);
  }
  return t;
}

/**
 * In-place iterative radix-2 FFT of (re, im), length a power of two. `inverse` uses the conjugate
 * twiddles and divides by n.
 */
export function fftInPlace(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (n <= 1) return;
  if ((n & (n - 1)) !== 0 || im.length !== n) throw new RangeError(`FFT length must be a power of two, got ${n}`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i] as number;
      re[i] = re[j] as number;
      re[j] = tr;
      const ti = im[i] as number;
      im[i] = im[j] as number;
      im[j] = ti;
    }
  }
  const { cos, sin } = twiddleTable(n);
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const step = n / len;
    for (let start = 0; start < n; start += len) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step] as number;
        const wi = sign * (sin[k * step] as number);
        const a = start + k;
        const b = a + half;
        const xr = re[b] as number;
        const xi = im[b] as number;
        const tr = xr * wr - xi * wi;
        const ti = xr * wi + xi * wr;
        re[b] = (re[a] as number) - tr;
        im[b] = (im[a] as number) - ti;
        re[a] = (re[a] as number) + tr;
        im[a] = (im[a] as number) + ti;
      }
    }
  }
  if (inverse) {
    for (let i = 0; i < n; i++) {
      re[i] = (re[i] as number) / n;
      im[i] = (im[i] as number) / n;
    }
  }
}

/** Below this many multiply-adds a direct convolution is faster than three transforms. */
const DIRECT_CONVOLUTION_LIMIT = 1 << 16;

/** Linear convolution of two real sequences (length a.length + b.length − 1). */
export function convolve(a: Float64Array, b: Float64Array): Float64Array {
  const outLen = a.length + b.length - 1;
  const out = new Float64Array(outLen);
  if (a.length * b.length <= DIRECT_CONVOLUTION_LIMIT) {
    for (let i = 0; i < a.length; i++) {
      const ai = a[i] as number;
      if (ai === 0) continue;
      for (let j = 0; j < b.length; j++) out[i + j] = (out[i + j] as number) + ai * (b[j] as number);
    }
    return out;
  }
  const n = powerOfTwoAtLeast(outLen);
  // Both real inputs in one complex transform: z = a + i·b, then A·B from the symmetric parts.
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  re.set(a);
  im.set(b);
  fftInPlace(re, im);
  const pr = new Float64Array(n);
  const pi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const m = (n - k) & (n - 1);
    const zr = re[k] as number;
    const zi = im[k] as number;
    const cr = re[m] as number;
    const ci = -(im[m] as number);
    // A = (z + conj(z[-k]))/2, B = (z − conj(z[-k]))/(2i)
    const ar = (zr + cr) / 2;
    const ai = (zi + ci) / 2;
    const br = (zi - ci) / 2;
    const bi = -(zr - cr) / 2;
    pr[k] = ar * br - ai * bi;
    pi[k] = ar * bi + ai * br;
  }
  fftInPlace(pr, pi, true);
  for (let i = 0; i < outLen; i++) out[i] = pr[i] as number;
  return out;
}

/**
 * The `times`-fold self-convolution of `p`, cyclically on `size` points (a power of two): the
 * transform raised to the power `times`, element by element in polar form. Entries that wrap
 * around land modulo `size`; the caller picks `size` so that only truncated tail mass does.
 */
export function selfConvolveCyclic(p: Float64Array, times: number, size: number): Float64Array {
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  re.set(p.length <= size ? p : p.subarray(0, size));
  // Entries beyond `size` would wrap; callers ensure size >= p.length.
  fftInPlace(re, im);
  for (let k = 0; k < size; k++) {
    const r = Math.hypot(re[k] as number, im[k] as number);
    if (r === 0) continue;
    const theta = Math.atan2(im[k] as number, re[k] as number) * times;
    const m = Math.pow(r, times);
    re[k] = m * Math.cos(theta);
    im[k] = m * Math.sin(theta);
  }
  fftInPlace(re, im, true);
  return re;
}
