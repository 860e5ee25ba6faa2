/** A minimal line chart as SVG text: accuracy (y, 0–100% or from a floor) against ε (x, log scale). */
export interface Point {
  epsilon: number;
  accuracy: number;
}

/** One labelled curve of {@link accuracyEpsilonSeriesSvg}. */
export interface Series {
  label: string;
  points: Point[];
}

const COLOURS = ['#1f6feb', '#d73a49', '#2da44e', '#bf8700', '#8250df', '#1b7c83', '#e16f24', '#6e7781', '#bf3989', '#0a3069', '#4d2d00', '#116329'];
/** Past {@link COLOURS}' length the colours repeat, so each pass through them takes the next shape. */
const SHAPES = ['circle', 'square', 'diamond'] as const;

/** A point's marker centred on (x, y). */
function marker(shape: (typeof SHAPES)[number], x: number, y: number, colour: string): string {
  if (shape === 'square') return `<rect x="${x - 4}" y="${y - 4}" width="8" height="8" fill="${colour}"/>`;
  if (shape === 'diamond') return `<polygon points="${x},${y - 5} ${x + 5},${y} ${x},${y + 5} ${x - 5},${y}" fill="${colour}"/>`;
  return `<circle cx="${x}" cy="${y}" r="4" fill="${colour}"/>`;
}

/** The single-curve chart: {@link accuracyEpsilonSeriesSvg} with one unlabelled series. */
export function accuracyEpsilonSvg(points: Point[], noDpAccuracy: number | null, caption: string): string {
  return accuracyEpsilonSeriesSvg([{ label: '', points }], noDpAccuracy, caption);
}

/**
 * Several curves on one chart, each in its own colour and marker shape (colours repeat past twelve
 * curves, shapes do not until thirty-six), labelled in a legend when named: `top`
 * (inside the plot, top left) or `below` (under the axis, one row per curve, on a wider chart so
 * long labels fit). `yFrom` starts the accuracy axis above 0 so close curves can be told apart.
 * With more than four curves the points carry no value labels (they would overlap).
 */
export function accuracyEpsilonSeriesSvg(series: Series[], noDpAccuracy: number | null, caption: string, legend: 'top' | 'below' = 'top', yFrom = 0): string {
  const points = series.flatMap((s) => s.points);
  const rows = legend === 'below' ? series.filter((s) => s.label !== '').length : 0;
  const W = legend === 'below' ? 900 : 560;
  const H = 360 + 16 * rows;
  const m = { l: 60, r: 20, t: 30, b: 70 + 16 * rows };
  const xs = points.map((p) => Math.log10(p.epsilon));
  const x0 = Math.floor(Math.min(...xs));
  const x1 = Math.ceil(Math.max(...xs));
  const X = (e: number) => m.l + ((Math.log10(e) - x0) / Math.max(1e-9, x1 - x0)) * (W - m.l - m.r);
  const Y = (a: number) => H - m.b - ((a - yFrom) / (1 - yFrom)) * (H - m.t - m.b);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">MNIST test accuracy vs ε (δ = 1e-5, client-level)</text>`,
  ];
  for (let k = 0; k <= 5; k++) {
    const a = yFrom + (k * (1 - yFrom)) / 5;
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(a)}" y2="${Y(a)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${Y(a) + 4}" text-anchor="end">${Math.round(a * 100)}%</text>`);
  }
  for (let d = x0; d <= x1; d++) {
    for (const f of [1, 2, 5]) {
      const e = f * 10 ** d;
      if (Math.log10(e) > x1 + 1e-9) continue;
      parts.push(`<line x1="${X(e)}" x2="${X(e)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`);
      parts.push(`<text x="${X(e)}" y="${H - m.b + 16}" text-anchor="middle">${e}</text>`);
    }
  }
  parts.push(`<text x="${(W + m.l) / 2}" y="${H - m.b + 34}" text-anchor="middle">ε (log scale)</text>`);
  if (noDpAccuracy !== null) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(noDpAccuracy)}" y2="${Y(noDpAccuracy)}" stroke="#888" stroke-dasharray="5,4"/>`);
    parts.push(`<text x="${W - m.r - 4}" y="${Y(noDpAccuracy) - 5}" text-anchor="end" fill="#555">no DP: ${(noDpAccuracy * 100).toFixed(1)}%</text>`);
  }
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length] as string;
    const shape = SHAPES[Math.floor(i / COLOURS.length) % SHAPES.length] as (typeof SHAPES)[number];
    const sorted = [...s.points].sort((a, b) => a.epsilon - b.epsilon);
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${sorted.map((p) => `${X(p.epsilon)},${Y(p.accuracy)}`).join(' ')}"/>`);
    for (const p of sorted) {
      parts.push(marker(shape, X(p.epsilon), Y(p.accuracy), colour));
      if (series.length <= 4) parts.push(`<text x="${X(p.epsilon)}" y="${Y(p.accuracy) - 8}" text-anchor="middle">${(p.accuracy * 100).toFixed(1)}%</text>`);
    }
    if (s.label !== '') {
      const top = legend === 'top' ? m.t + 6 + 16 * i : H - m.b + 44 + 16 * i;
      parts.push(`<g class="legend">${marker(shape, m.l + 13, top + 5, colour)}<text x="${m.l + 22}" y="${top + 9}">${esc(s.label)}</text></g>`);
    }
  });
  parts.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle" fill="#555">${esc(caption)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
