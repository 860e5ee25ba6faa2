/** A new element with attributes (`data-*` included) and children (text is set as text, never as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | null | undefined> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

/** The element with `id`; throws when the page lacks it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e as T;
}

/** Replaces the rows of a table body. */
export function setRows(table: string, rows: HTMLTableRowElement[]): void {
  byId(table).querySelector('tbody')?.replaceChildren(...rows);
}

/** ε as shown (full precision stays in data attributes). */
export function fmtEps(e: number | null | undefined): string {
  return e === null || e === undefined ? '∞' : e.toFixed(3);
}

/** A public key shortened for display. */
export function shortKey(k: string): string {
  return `${k.slice(0, 12)}…`;
}

/** Milliseconds as seconds. */
export function fmtMs(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}
