/**
 * Self-contained SVG charts (no scripts, fonts or external references): cumulative distributions on a log
 * axis, panels side by side, so two systems an order of magnitude apart can be read on one chart.
 */
export interface Series {
  label: string;
  color: string;
  values: number[];
  /** Trials that never converged; drawn as a note, the curve stops short of 100 %. */
  failed?: number;
}

export interface Panel {
  title: string;
  xLabel: string;
  series: Series[];
  /** Dashed vertical lines, e.g. targets. */
  marks?: { at: number; label: string }[];
}

const W = 460;
const H = 320;
const M = { left: 56, right: 16, top: 40, bottom: 70 };

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

function ticks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
  return out.filter((t) => t >= min / 1.0001 && t <= max * 1.0001);
}

function panel(p: Panel, offsetX: number): string {
  // Values under 1 ms (a probe through the proxy can beat the direct one by a few ms) sit on the left edge.
  const all = p.series.flatMap((s) => s.values).map((v) => Math.max(v, 1));
  const lo = all.length ? 10 ** Math.floor(Math.log10(Math.min(...all))) : 1;
  const hi = all.length ? 10 ** Math.ceil(Math.log10(Math.max(...all))) : 10;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * pw;
  const y = (q: number) => M.top + (1 - q) * ph;
  const parts: string[] = [`<g transform="translate(${offsetX},0)">`];
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of ticks(lo, hi)) {
    parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x(t)}" y="${M.top + ph + 14}" text-anchor="middle" font-size="10">${t >= 1000 ? `${t / 1000}s` : `${t}`}</text>`,
    );
  }
  for (const q of [0, 0.25, 0.5, 0.75, 0.9, 1]) {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y(q)}" y2="${y(q)}" stroke="${q === 0.5 || q === 0.9 ? '#ccc' : '#f2f2f2'}"/>`,
    );
    parts.push(`<text x="${M.left - 4}" y="${y(q) + 3}" text-anchor="end" font-size="10">${q * 100}%</text>`);
  }
  parts.push(
    `<text x="14" y="${M.top + ph / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${M.top + ph / 2})">share of trials</text>`,
  );
  for (const m of p.marks ?? []) {
    if (m.at < lo || m.at > hi) continue;
    parts.push(`<line x1="${x(m.at)}" x2="${x(m.at)}" y1="${M.top}" y2="${M.top + ph}" stroke="#555" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${x(m.at) + 3}" y="${M.top + 12}" font-size="10" fill="#555">${esc(m.label)}</text>`);
  }
  parts.push(`<text x="${M.left + pw / 2}" y="${M.top + ph + 30}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`);
  p.series.forEach((s, i) => {
    const n = s.values.length + (s.failed ?? 0);
    const sorted = [...s.values].sort((a, b) => a - b);
    let d = '';
    sorted.forEach((v, k) => {
      const px = x(v).toFixed(1);
      d += `${k === 0 ? `M${px},${y(0)}` : ''} L${px},${y(k / n).toFixed(1)} L${px},${y((k + 1) / n).toFixed(1)}`;
    });
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    const ly = M.top + ph + 46 + i * 13;
    parts.push(`<line x1="${M.left}" x2="${M.left + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`);
    const failed = s.failed ? `, ${s.failed} of ${n} never served` : '';
    parts.push(`<text x="${M.left + 24}" y="${ly}" font-size="11">${esc(`${s.label} (n=${n}${failed})`)}</text>`);
  });
  if (all.length === 0) parts.push(`<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" text-anchor="middle" font-size="12">no data</text>`);
  parts.push('</g>');
  return parts.join('\n');
}

export function cdfChart(panels: Panel[]): string {
  const width = W * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="sans-serif">`,
    `<rect width="${width}" height="${H}" fill="white"/>`,
    ...panels.map((p, i) => panel(p, i * W)),
    '</svg>',
    '',
  ].join('\n');
}
