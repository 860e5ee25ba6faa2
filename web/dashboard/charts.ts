import uPlot from 'uplot';

/** A line chart over rounds that keeps its series' values on its element (`data-points`, `data-values`) for readers and tests. */
export class RoundChart {
  private plot: uPlot | null = null;
  private data: uPlot.AlignedData = [[]];

  constructor(
    private readonly host: HTMLElement,
    private readonly options: (width: number) => uPlot.Options,
  ) {
    new ResizeObserver(() => this.resize()).observe(host);
  }

  /** Plots `x` (rounds) against each series in `ys`. */
  set(x: number[], ys: (number | null)[][]): void {
    this.data = [x, ...ys] as uPlot.AlignedData;
    this.host.dataset.points = String(x.length);
    this.host.dataset.values = JSON.stringify(this.data);
    if (this.plot === null) this.plot = new uPlot(this.options(this.width()), this.data, this.host);
    else this.plot.setData(this.data);
  }

  private width(): number {
    return Math.max(240, Math.floor(this.host.clientWidth));
  }

  private resize(): void {
    this.plot?.setSize({ width: this.width(), height: 220 });
  }
}

const axis = (label: string, extra: Partial<uPlot.Axis> = {}): uPlot.Axis => ({ label, labelSize: 20, size: 50, ...extra });
const x: uPlot.Series = { label: 'round' };
const point = { show: true, size: 7 };

/** ε of the report after each charged round, both adversaries, with the budget as a dashed line. */
export function epsilonChart(host: HTMLElement): RoundChart {
  return new RoundChart(host, (width) => ({
    width,
    height: 220,
    scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(max, 0.1) * 1.1] } },
    axes: [axis('round', { incrs: [1, 2, 5, 10, 20, 50, 100] }), axis('ε')],
    series: [
      x,
      { label: 'ε ledger readers', stroke: '#c62828', width: 2, points: point },
      { label: 'ε model observers', stroke: '#2454c5', width: 2, points: point },
      { label: 'budget', stroke: '#9a6700', width: 1, dash: [6, 4], points: { show: false } },
    ],
  }));
}

/** Accuracy (left axis, 0–1) and loss (right axis) of each evaluated round. */
export function accuracyChart(host: HTMLElement): RoundChart {
  return new RoundChart(host, (width) => ({
    width,
    height: 220,
    scales: { x: { time: false }, acc: { range: [0, 1] }, loss: {} },
    axes: [axis('round', { incrs: [1, 2, 5, 10, 20, 50, 100] }), axis('accuracy', { scale: 'acc' }), axis('loss', { scale: 'loss', side: 1, grid: { show: false } })],
    series: [
      x,
      { label: 'accuracy', scale: 'acc', stroke: '#1a7f37', width: 2, points: point },
      { label: 'loss', scale: 'loss', stroke: '#5d6576', width: 2, points: point },
    ],
  }));
}
