/**
 * Participant sets as strictly increasing index arrays (their canonical order on the wire and in
 * the signed bytes). Small helpers so the phase modules read like the paper's set notation.
 */

/** a ∩ b, both sorted. */
export function intersect(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

/** a ∖ b, both sorted. */
export function difference(a: readonly number[], b: readonly number[]): number[] {
  const inB = new Set(b);
  return a.filter((x) => !inB.has(x));
}

/** a ⊆ b. */
export function isSubset(a: readonly number[], b: readonly number[]): boolean {
  const inB = new Set(b);
  return a.every((x) => inB.has(x));
}

/** Equal as sets (both sorted, so element-wise). */
export function sameSet(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Sorted copy of the keys of a map or members of a set. */
export function sortedIndices(xs: Iterable<number>): number[] {
  return [...xs].sort((a, b) => a - b);
}
