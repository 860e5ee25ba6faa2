/*
 * The few Buffer calls the verifier's modules make (hex and base64 conversions and the like), for
 * the dashboard's browser bundle, where esbuild injects this as the global `Buffer`.
 */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Bytes that print as node's Buffer does. */
class BrowserBuffer extends Uint8Array {
  override toString(encoding?: string): string {
    if (encoding === 'hex') {
      let s = '';
      for (const b of this) s += HEX[b] as string;
      return s;
    }
    if (encoding === 'base64' || encoding === 'base64url') {
      let s = '';
      for (const b of this) s += String.fromCharCode(b);
      const b64 = btoa(s);
      return encoding === 'base64' ? b64 : b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    }
    return new TextDecoder().decode(this);
  }
}

const wrap = (b: Uint8Array): BrowserBuffer => new BrowserBuffer(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);

/** `Buffer.from` (bytes, a buffer slice, or a hex, base64 or UTF-8 string), `alloc`, `concat` and `isBuffer`. */
export const Buffer = {
  from(value: ArrayBufferLike | ArrayLike<number> | string, offsetOrEncoding?: number | string, length?: number): BrowserBuffer {
    if (typeof value === 'string') {
      const encoding = offsetOrEncoding ?? 'utf8';
      if (encoding === 'hex') {
        const out = new BrowserBuffer(value.length >>> 1);
        for (let i = 0; i < out.length; i++) {
          const byte = parseInt(value.slice(2 * i, 2 * i + 2), 16);
          // node's decoder stops at the first pair that is not hex
          if (Number.isNaN(byte)) return wrap(out.subarray(0, i));
          out[i] = byte;
        }
        return out;
      }
      if (encoding === 'base64') return wrap(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
      return wrap(new TextEncoder().encode(value));
    }
    if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) {
      const offset = typeof offsetOrEncoding === 'number' ? offsetOrEncoding : 0;
      return new BrowserBuffer(value as ArrayBuffer, offset, length ?? value.byteLength - offset);
    }
    return wrap(Uint8Array.from(value as ArrayLike<number>));
  },
  alloc(n: number): BrowserBuffer {
    return new BrowserBuffer(n);
  },
  concat(parts: readonly Uint8Array[]): BrowserBuffer {
    const out = new BrowserBuffer(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  },
  isBuffer(x: unknown): boolean {
    return x instanceof BrowserBuffer;
  },
};
