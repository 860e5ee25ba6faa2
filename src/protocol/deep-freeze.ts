/**
 * Freezes `x` and every object and array in it, so that one value can be handed to many holders
 * without any of them changing what the others see. Byte arrays cannot be frozen and are left as
 * they are: their holders only read them.
 */
export function deepFreeze<T>(x: T): T {
  if (typeof x !== 'object' || x === null || ArrayBuffer.isView(x)) return x;
  for (const v of Object.values(x)) deepFreeze(v);
  return Object.freeze(x);
}
