/** Sample mean and unbiased sample variance of `x`. */
export function moments(x: ArrayLike<number>): { mean: number; variance: number } {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += (x[i] as number) / x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += ((x[i] as number) - m) ** 2 / (x.length - 1);
  return { mean: m, variance: v };
}
