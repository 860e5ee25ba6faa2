import { FedveilError } from '../secagg/util/errors.js';

/**
 * Canonical JSON (the RFC 8785 "JCS" rules for the values fedveil writes): object keys sorted by
 * UTF-16 code units, no whitespace, numbers and strings serialised as ECMAScript's JSON.stringify
 * does. The same value always yields the same bytes, so hashes and signatures over it are stable.
 *
 * Refuses what JSON cannot represent faithfully: non-finite numbers, `undefined` object values,
 * functions, symbols, bigints, and objects that are not plain (Date, Map, typed arrays …), so a
 * value never hashes differently from the way it is later read back.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new FedveilError('canonical-json/non-finite', `${where}: ${value} has no JSON form`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${where}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new FedveilError('canonical-json/not-plain', `${where}: only plain objects and arrays can be encoded`);
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      const parts: string[] = [];
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) throw new FedveilError('canonical-json/undefined', `${where}.${k} is undefined`);
        parts.push(`${JSON.stringify(k)}:${encode(v, `${where}.${k}`)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new FedveilError('canonical-json/unsupported', `${where}: a ${typeof value} has no JSON form`);
  }
}
