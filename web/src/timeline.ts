// The timeline: a histogram of events (and findings) per bin on a canvas, with a brush. Drag
// across it to choose a window; the two range inputs under it do the same from the keyboard.
import { EventStore, MapFinding } from './data';

const BINS = 120;

export class Timeline {
  private t0 = 0;
  private t1 = 1;
  private from = -Infinity;
  private to = Infinity;
  private counts = new Uint32Array(BINS);
  private findingCounts = new Uint32Array(BINS);
  private dragStart: number | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly fromInput: HTMLInputElement,
    private readonly toInput: HTMLInputElement,
    private readonly label: HTMLElement,
    private readonly onBrush: (from: number, to: number) => void,
  ) {
    canvas.addEventListener('pointerdown', (e) => {
      this.dragStart = this.timeAt(e.offsetX);
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (this.dragStart === null) return;
      this.setWindow(Math.min(this.dragStart, this.timeAt(e.offsetX)), Math.max(this.dragStart, this.timeAt(e.offsetX)), false);
    });
    canvas.addEventListener('pointerup', (e) => {
      if (this.dragStart === null) return;
      const t = this.timeAt(e.offsetX);
      const [a, b] = [Math.min(this.dragStart, t), Math.max(this.dragStart, t)];
      this.dragStart = null;
      if (b - a < (this.t1 - this.t0) / BINS) this.setWindow(-Infinity, Infinity, true);
      else this.setWindow(a, b, true);
    });
    const fromInputs = () => {
      const a = this.t0 + (Number(fromInput.value) / 1000) * (this.t1 - this.t0);
      const b = this.t0 + (Number(toInput.value) / 1000) * (this.t1 - this.t0);
      this.setWindow(Math.min(a, b), Math.max(a, b), true);
    };
    fromInput.addEventListener('change', fromInputs);
    toInput.addEventListener('change', fromInputs);
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /** Recomputes the histogram of all events (not only the filtered ones: the brush is a filter). */
  setData(store: EventStore, findings: MapFinding[], shown: Uint32Array): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < store.n; i++) {
      lo = Math.min(lo, store.start[i]);
      hi = Math.max(hi, store.start[i]);
    }
    if (!Number.isFinite(lo)) {
      lo = Date.now() / 1000 - 86400;
      hi = Date.now() / 1000;
    }
    this.t0 = lo;
    this.t1 = Math.max(hi, lo + 3600) + 1;
    this.counts.fill(0);
    this.findingCounts.fill(0);
    const bin = (t: number) => Math.min(BINS - 1, Math.max(0, Math.floor(((t - this.t0) / (this.t1 - this.t0)) * BINS)));
    for (const i of shown) this.counts[bin(store.start[i])]++;
    for (const f of findings) this.findingCounts[bin(f.occurred)]++;
    this.draw();
  }

  private timeAt(x: number): number {
    return this.t0 + (x / this.canvas.clientWidth) * (this.t1 - this.t0);
  }

  setWindow(from: number, to: number, notify: boolean): void {
    this.from = from;
    this.to = to;
    const span = this.t1 - this.t0;
    this.fromInput.value = String(Number.isFinite(from) ? Math.round(((from - this.t0) / span) * 1000) : 0);
    this.toInput.value = String(Number.isFinite(to) ? Math.round(((to - this.t0) / span) * 1000) : 1000);
    const fmt = (t: number) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
    this.label.textContent = Number.isFinite(from)
      ? `${fmt(from)} – ${fmt(to)} UTC`
      : `all time (${fmt(this.t0)} – ${fmt(this.t1)} UTC); drag across the histogram to filter`;
    this.draw();
    if (notify) this.onBrush(from, to);
  }

  private draw(): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    c.width = c.clientWidth * dpr;
    c.height = c.clientHeight * dpr;
    const g = c.getContext('2d');
    if (!g) return;
    g.scale(dpr, dpr);
    const w = c.clientWidth;
    const h = c.clientHeight;
    g.clearRect(0, 0, w, h);
    const max = Math.max(1, ...this.counts);
    const bw = w / BINS;
    for (let b = 0; b < BINS; b++) {
      const y = (this.counts[b] / max) * (h - 4);
      g.fillStyle = '#4a6fa5';
      g.fillRect(b * bw, h - y, Math.max(1, bw - 1), y);
      const fy = (this.findingCounts[b] / max) * (h - 4);
      g.fillStyle = '#c51b7d';
      g.fillRect(b * bw + bw / 4, h - fy, Math.max(1, bw / 2 - 1), fy);
    }
    if (Number.isFinite(this.from)) {
      const x0 = ((this.from - this.t0) / (this.t1 - this.t0)) * w;
      const x1 = ((this.to - this.t0) / (this.t1 - this.t0)) * w;
      g.fillStyle = 'rgba(0,0,0,0.15)';
      g.fillRect(0, 0, x0, h);
      g.fillRect(x1, 0, w - x1, h);
      g.strokeStyle = '#000';
      g.strokeRect(x0, 0.5, x1 - x0, h - 1);
    }
  }
}
