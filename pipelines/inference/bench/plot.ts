/**
 * The goodput plot as SVG (hand-written, no dependencies) and its PNG through `rsvg-convert`
 * (Debian package librsvg2-bin), so no native Node module is needed.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  yMin?: number;
  yMax?: number;
}

const W = 520;
const H = 380;
const M = { l: 70, r: 20, t: 40, b: 55 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => span / s <= n) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

function panelSvg(p: Panel, ox: number): string {
  const xs = p.series.flatMap((s) => s.points.map((q) => q.x));
  const ys = p.series.flatMap((s) => s.points.map((q) => q.y));
  const x0 = 0;
  const x1 = Math.max(...xs) * 1.05;
  const y0 = p.yMin ?? 0;
  const y1 = p.yMax ?? Math.max(...ys) * 1.1;
  const px = (x: number) => ox + M.l + ((x - x0) / (x1 - x0)) * (W - M.l - M.r);
  const py = (y: number) => M.t + (1 - (y - y0) / (y1 - y0)) * (H - M.t - M.b);
  const parts: string[] = [];
  parts.push(`<text x="${ox + W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${px(x0)}" y1="${py(t)}" x2="${px(x1)}" y2="${py(t)}" stroke="#ddd"/>`);
    parts.push(`<text x="${px(x0) - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11">${t}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${px(t)}" y1="${py(y0)}" x2="${px(t)}" y2="${py(y0) + 4}" stroke="#333"/>`);
    parts.push(`<text x="${px(t)}" y="${py(y0) + 17}" text-anchor="middle" font-size="11">${t}</text>`);
  }
  parts.push(`<rect x="${px(x0)}" y="${M.t}" width="${px(x1) - px(x0)}" height="${py(y0) - M.t}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${ox + M.l + (W - M.l - M.r) / 2}" y="${H - 12}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`);
  parts.push(`<text transform="translate(${ox + 16},${M.t + (H - M.t - M.b) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`);
  p.series.forEach((s, i) => {
    const d = s.points.map((q, j) => `${j === 0 ? 'M' : 'L'}${px(q.x).toFixed(1)},${py(Math.min(y1, Math.max(y0, q.y))).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    if (!s.dashed) for (const q of s.points) parts.push(`<circle cx="${px(q.x).toFixed(1)}" cy="${py(Math.min(y1, Math.max(y0, q.y))).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    const ly = M.t + 14 + i * 17;
    parts.push(`<line x1="${px(x0) + 10}" y1="${ly - 4}" x2="${px(x0) + 32}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    parts.push(`<text x="${px(x0) + 37}" y="${ly}" font-size="11">${esc(s.label)}</text>`);
  });
  return parts.join('\n');
}

export function renderSvg(panels: Panel[], caption: string): string {
  const width = W * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 20}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panelSvg(p, i * W)),
    `<text x="${width / 2}" y="${H + 12}" text-anchor="middle" font-size="11" fill="#555">${esc(caption)}</text>`,
    '</svg>',
  ].join('\n');
}

/** Writes `<base>.svg` and, when rsvg-convert is installed, `<base>.png`. Returns the PNG path or undefined. */
export function writePlot(base: string, svg: string): string | undefined {
  writeFileSync(`${base}.svg`, svg);
  try {
    execFileSync('rsvg-convert', ['-f', 'png', '-o', `${base}.png`, `${base}.svg`], { stdio: ['ignore', 'ignore', 'pipe'] });
    return `${base}.png`;
  } catch {
    return undefined;
  }
}
