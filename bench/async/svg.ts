/** Accuracy (y, 0–100%) against simulated wall-clock (x, hours) of several runs, as SVG text. */
export interface TimeSeries {
  label: string;
  points: { seconds: number; accuracy: number }[];
}

const COLOURS = ['#d73a49', '#1f6feb', '#2da44e', '#bf8700'];

export function accuracyTimeSvg(series: TimeSeries[], target: number | null, caption: string): string {
  const W = 560;
  const H = 360;
  const m = { l: 60, r: 20, t: 30, b: 70 };
  const hours = series.flatMap((s) => s.points.map((p) => p.seconds / 3600));
  const x1 = Math.max(1e-9, ...hours);
  const accs = series.flatMap((s) => s.points.map((p) => p.accuracy));
  const y0 = Math.max(0, Math.floor(Math.min(...accs) * 10) / 10);
  const X = (h: number) => m.l + (h / x1) * (W - m.l - m.r);
  const Y = (a: number) => H - m.b - ((a - y0) / (1 - y0)) * (H - m.t - m.b);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">MNIST test accuracy vs simulated wall-clock</text>`,
  ];
  for (let a = y0; a <= 1.0001; a += 0.1) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(a)}" y2="${Y(a)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${Y(a) + 4}" text-anchor="end">${Math.round(a * 100)}%</text>`);
  }
  const step = x1 > 10 ? 2 : x1 > 4 ? 1 : x1 > 1 ? 0.5 : 0.1;
  for (let h = 0; h <= x1 + 1e-9; h += step) {
    parts.push(`<line x1="${X(h)}" x2="${X(h)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${X(h)}" y="${H - m.b + 16}" text-anchor="middle">${Number(h.toFixed(1))}</text>`);
  }
  parts.push(`<text x="${(W + m.l) / 2}" y="${H - m.b + 34}" text-anchor="middle">simulated hours</text>`);
  if (target !== null) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(target)}" y2="${Y(target)}" stroke="#888" stroke-dasharray="5,4"/>`);
    parts.push(`<text x="${W - m.r - 4}" y="${Y(target) - 5}" text-anchor="end" fill="#555">target ${(target * 100).toFixed(1)}%</text>`);
  }
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length] as string;
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${s.points.map((p) => `${X(p.seconds / 3600)},${Y(p.accuracy)}`).join(' ')}"/>`);
    parts.push(`<rect x="${m.l + 10}" y="${m.t + 8 + 18 * i}" width="14" height="3" fill="${colour}"/>`);
    parts.push(`<text x="${m.l + 30}" y="${m.t + 13 + 18 * i}">${esc(s.label)}</text>`);
  });
  parts.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle" fill="#555">${esc(caption)}</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
