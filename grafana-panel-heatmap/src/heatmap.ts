// Canvas drawing of the anomaly heat-map. The whole grid is written once per
// data/theme change into an ImageData (one pixel per cell, colors from a
// 256-entry lookup table built from the thresholds), then the visible rows
// are scaled onto the on-screen canvas (nearest neighbour) on every scroll.
import { colorManipulator, type GrafanaTheme2, type ThresholdsConfig } from '@grafana/data';
import { activeStep, DEFAULT_THRESHOLDS } from './state.js';
import type { HeatGrid } from './model.js';

export const LUT_SIZE = 256;

/** RGBA (little-endian Uint32) per score level; cell alpha grows with the score. */
export function buildLut(theme: GrafanaTheme2, thresholds: ThresholdsConfig | undefined, min = 0, max = 1): { lut: Uint32Array; gap: number } {
  const lut = new Uint32Array(LUT_SIZE);
  const t = thresholds ?? DEFAULT_THRESHOLDS;
  const cache = new Map<string, [number, number, number]>();
  const rgbOf = (name: string): [number, number, number] => {
    let c = cache.get(name);
    if (!c) {
      const rgb = colorManipulator.asRgbString(theme.visualization.getColorByName(name));
      const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(rgb) ?? ['', '128', '128', '128'];
      c = [Number(m[1]), Number(m[2]), Number(m[3])];
      cache.set(name, c);
    }
    return c;
  };
  for (let i = 0; i < LUT_SIZE; i++) {
    const v = min + ((max - min) * i) / (LUT_SIZE - 1);
    const step = t.steps[activeStep(v, t, min, max)]!;
    const [r, g, b] = rgbOf(step.color);
    const a = Math.round(255 * (0.25 + 0.75 * (i / (LUT_SIZE - 1))));
    lut[i] = ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
  }
  const gapRgb = theme.isDark ? [80, 80, 80] : [200, 200, 200];
  const gap = ((60 << 24) | (gapRgb[2]! << 16) | (gapRgb[1]! << 8) | gapRgb[0]!) >>> 0;
  return { lut, gap };
}

/** Fills a rows x buckets RGBA buffer from the grid. */
export function paintGrid(grid: HeatGrid, lut: Uint32Array, gap: number, min = 0, max = 1, out?: Uint32Array): Uint32Array {
  const n = grid.values.length;
  const px = out && out.length === n ? out : new Uint32Array(n);
  const scale = (LUT_SIZE - 1) / (max - min || 1);
  const vals = grid.values;
  for (let i = 0; i < n; i++) {
    const v = vals[i]!;
    if (v !== v) { px[i] = gap; continue; } // NaN: gap
    let k = ((v - min) * scale) | 0;
    if (k < 0) k = 0; else if (k > LUT_SIZE - 1) k = LUT_SIZE - 1;
    px[i] = lut[k]!;
  }
  return px;
}

/** Offscreen canvas holding the grid at one pixel per cell. */
export function gridCanvas(grid: HeatGrid, px: Uint32Array): HTMLCanvasElement | null {
  if (!grid.sites.length || !grid.buckets) return null;
  const c = document.createElement('canvas');
  c.width = grid.buckets;
  c.height = grid.sites.length;
  const ctx = c.getContext('2d');
  if (!ctx) return null;
  const img = ctx.createImageData(grid.buckets, grid.sites.length);
  img.data.set(new Uint8ClampedArray(px.buffer, px.byteOffset, px.byteLength));
  ctx.putImageData(img, 0, 0);
  return c;
}

/** Draws rows [first, last) of the offscreen grid onto the visible canvas. */
export function drawVisible(ctx: CanvasRenderingContext2D, src: HTMLCanvasElement, first: number, last: number, rowHeight: number, width: number, offsetY: number, dpr: number) {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, ctx.canvas.height / dpr);
  ctx.imageSmoothingEnabled = false;
  const gapPx = rowHeight >= 8 ? 1 : 0;
  for (let r = first; r < last; r++) {
    ctx.drawImage(src, 0, r, src.width, 1, 0, (r - first) * rowHeight - offsetY, width, rowHeight - gapPx);
  }
}
