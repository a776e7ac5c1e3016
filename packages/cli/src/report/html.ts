/**
 * The report as ONE self-contained HTML file: inline CSS, SVG drawn here, the data inline as
 * JSON. No script runs, nothing is fetched (the CSP forbids it too), so the file can be
 * mailed, archived or opened offline and looks the same. Every bar, point and cell carries
 * its number in a data-value attribute.
 */
import { DateTime } from 'luxon';
import { peakOf } from '../format/chart.js';
import { fmt, pct } from '../format/text.js';
import type { ReportData } from './data.js';
import { escapeHtml as esc, jsonForScript } from './escape.js';
import { compact, heat, niceTicks, px, SERIES_COLOURS } from './svg.js';

const day = (iso: string) => DateTime.fromISO(iso, { zone: 'UTC' });

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7fb; --card: #ffffff; --ink: #0f172a; --muted: #5b6477;
  --line: #e3e7ef; --accent: #2563eb; --weekend: #9ec1fb; --mean: #ea580c; --chip: #eef2f8; }
@media (prefers-color-scheme: dark) { :root { --bg: #0b1020; --card: #121a2b; --ink: #e6e9f0; --muted: #98a2b8;
  --line: #243047; --accent: #60a5fa; --weekend: #2c4f8f; --mean: #fb923c; --chip: #1b2538; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-variant-numeric: tabular-nums; -webkit-font-smoothing: antialiased; }
main { max-width: 1080px; margin: 0 auto; padding: 36px 24px 48px; }
header h1 { font-size: 30px; line-height: 1.15; margin: 0 0 6px; letter-spacing: -0.02em; }
header h1 span { color: var(--accent); }
.meta { color: var(--muted); margin: 0; font-size: 14px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 16px; margin: 26px 0 20px; }
.tile, .card { background: var(--card); border: 1px solid var(--line); border-radius: 14px;
  box-shadow: 0 1px 2px rgba(15, 23, 42, 0.04); }
.tile { padding: 16px 18px; }
.tile .label { color: var(--muted); font-size: 13px; margin: 0; }
.tile .value { font-size: 30px; font-weight: 650; letter-spacing: -0.02em; margin: 2px 0 0; }
.tile .note { color: var(--muted); font-size: 12px; margin: 0; }
.card { padding: 20px 22px 18px; margin: 0 0 20px; }
h2 { font-size: 18px; margin: 0 0 2px; letter-spacing: -0.01em; }
.sub { color: var(--muted); margin: 0 0 14px; font-size: 13px; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
.cols .card { margin: 0 0 20px; }
@media (max-width: 860px) { .cols { grid-template-columns: 1fr; } }
svg { display: block; width: 100%; height: auto; }
svg text { fill: var(--muted); font-size: 12px; font-family: inherit; }
svg .title { fill: var(--ink); font-weight: 600; }
.grid { stroke: var(--line); stroke-width: 1; }
.axis { stroke: var(--muted); stroke-width: 1; }
.bar.weekday { fill: var(--accent); }
.bar.weekend { fill: var(--weekend); }
.bar:hover, .counter:hover rect, .cell:hover rect { opacity: 0.82; }
.mean { fill: none; stroke: var(--mean); stroke-width: 2.5; stroke-linejoin: round; }
.counter rect { fill: var(--accent); }
.counter .label { fill: var(--ink); }
.cell text { fill: #0f172a; font-weight: 600; }
.cell.on-dark text { fill: #ffffff; }
.cell.empty rect { fill: var(--chip); }
.cell.empty text { fill: var(--muted); font-weight: 400; }
.series { fill: none; stroke-width: 2.25; stroke-linejoin: round; }
.point.live { fill: var(--card); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 20px; margin: 12px 0 0; padding: 0; list-style: none;
  color: var(--muted); font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -1px; margin-right: 6px; }
.swatch.line { width: 20px; height: 3px; border-radius: 2px; vertical-align: 3px; }
.swatch.dashed { background: repeating-linear-gradient(90deg, currentColor 0 6px, transparent 6px 9px) !important; }
.swatch.ring { width: 10px; height: 10px; border-radius: 50%; border: 2px solid var(--muted); background: var(--card); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em;
  background: var(--chip); padding: 1px 6px; border-radius: 5px; }
table.breakdown { width: 100%; border-collapse: collapse; font-size: 14px; }
table.breakdown th { text-align: left; color: var(--muted); font-weight: 500; font-size: 12px;
  border-bottom: 1px solid var(--line); padding: 6px 4px; }
table.breakdown td { padding: 7px 4px; border-bottom: 1px solid var(--line); }
table.breakdown td.num, table.breakdown th.num { text-align: right; }
.empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; }
`;

function tile(id: string, label: string, value: number, note: string): string {
  return `<div class="tile" id="${id}" data-value="${value}"><p class="label">${esc(label)}</p><p class="value">${fmt(value)}</p><p class="note">${esc(note)}</p></div>`;
}

function legend(items: Array<{ swatch: string; style?: string; label: string }>): string {
  return `<ul class="legend">${items
    .map(
      (i) =>
        `<li><span class="swatch ${i.swatch}"${i.style ? ` style="${i.style}"` : ''}></span>${esc(i.label)}</li>`,
    )
    .join('')}</ul>`;
}

function dauChart(data: ReportData): string {
  const W = 1000;
  const H = 330;
  const m = { top: 18, right: 24, bottom: 58, left: 70 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const values = data.dau.map((d) => d.count);
  const ticks = niceTicks(peakOf(values));
  const top = ticks[ticks.length - 1]!;
  const y = (v: number) => m.top + ph - (v / top) * ph;
  const n = Math.max(1, values.length);
  const band = pw / n;
  const width = Math.max(1, band * 0.72);
  const parts: string[] = [];
  for (const t of ticks) {
    parts.push(`<line class="grid" x1="${m.left}" x2="${W - m.right}" y1="${px(y(t))}" y2="${px(y(t))}"/>`);
    parts.push(
      `<text x="${m.left - 10}" y="${px(y(t))}" text-anchor="end" dominant-baseline="middle">${compact(t)}</text>`,
    );
  }
  const every = Math.ceil(n / 15);
  data.dau.forEach((d, i) => {
    const date = day(d.date);
    const x = m.left + i * band + (band - width) / 2;
    const weekend = d.weekday >= 6 ? 'weekend' : 'weekday';
    const title = `${date.toFormat('cccc d LLLL yyyy')}: ${fmt(d.count)} ${data.names.active}`;
    parts.push(
      `<rect class="bar ${weekend}" data-key="${esc(d.key)}" data-date="${d.date}" data-value="${d.count}" x="${px(x)}" y="${px(y(d.count))}" width="${px(width)}" height="${px(m.top + ph - y(d.count))}" rx="2"><title>${esc(title)}</title></rect>`,
    );
    // Labelled from the last day back, so the most recent day always has its label.
    if ((n - 1 - i) % every === 0) {
      const cx = m.left + i * band + band / 2;
      parts.push(
        `<text x="${px(cx)}" y="${m.top + ph + 18}" text-anchor="middle">${date.toFormat('d LLL')}</text>`,
      );
      parts.push(
        `<text x="${px(cx)}" y="${m.top + ph + 32}" text-anchor="middle" font-size="10">${date.toFormat('ccc')}</text>`,
      );
    }
  });
  if (values.length >= 7) {
    const points: string[] = [];
    for (let i = 6; i < values.length; i++) {
      const mean = values.slice(i - 6, i + 1).reduce((a, b) => a + b, 0) / 7;
      points.push(`${px(m.left + i * band + band / 2)},${px(y(mean))}`);
    }
    parts.push(
      `<polyline class="mean" id="dau-mean" points="${points.join(' ')}"><title>7-day mean</title></polyline>`,
    );
  }
  parts.push(`<line class="axis" x1="${m.left}" x2="${W - m.right}" y1="${m.top + ph}" y2="${m.top + ph}"/>`);
  parts.push(
    `<text class="title" transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(`users who did ${data.names.active}`)}</text>`,
  );
  parts.push(
    `<text class="title" x="${m.left + pw / 2}" y="${H - 6}" text-anchor="middle">day (${esc(data.zone)})</text>`,
  );
  return `<svg id="dau-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`Daily ${data.names.active} users, last ${data.days} days`)}">${parts.join('')}</svg>`;
}

function retentionGrid(data: ReportData): string {
  const rows = data.retention;
  const periods = data.weeks;
  if (rows.length === 0) return '<p class="empty">No cohorts in this range.</p>';
  const labelW = 150;
  const sizeW = 84;
  const cellW = Math.max(52, Math.min(76, Math.floor((1000 - labelW - sizeW) / periods)));
  const cellH = 34;
  const headH = 30;
  const W = labelW + sizeW + periods * cellW;
  const H = headH + rows.length * cellH;
  const scaleTop = Math.max(0.01, peakOf(rows.flatMap((r) => r.rates)));
  const parts: string[] = [];
  parts.push(`<text class="title" x="0" y="18">cohort (week of)</text>`);
  parts.push(`<text class="title" x="${labelW + sizeW - 12}" y="18" text-anchor="end">size</text>`);
  for (let k = 0; k < periods; k++) {
    parts.push(
      `<text class="title" x="${labelW + sizeW + k * cellW + cellW / 2}" y="18" text-anchor="middle">week ${k + 1}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const top = headH + i * cellH;
    parts.push(
      `<text x="0" y="${top + cellH / 2}" dominant-baseline="middle"><tspan class="title">${esc(row.key)}</tspan> <tspan font-size="11">${day(row.start).toFormat('d LLL')}</tspan></text>`,
    );
    parts.push(
      `<text class="cohort-size${row.partial ? ' partial' : ''}" data-cohort="${esc(row.key)}" data-value="${row.size}"${row.partial ? ' data-partial="true"' : ''} x="${labelW + sizeW - 12}" y="${top + cellH / 2}" text-anchor="end" dominant-baseline="middle">${fmt(row.size)}${row.partial ? '*' : ''}${row.partial ? '<title>this week has not ended: the cohort may still grow</title>' : ''}</text>`,
    );
    row.rates.forEach((rate, k) => {
      const x = labelW + sizeW + k * cellW;
      const later = `${k + 1} week${k === 0 ? '' : 's'} later`;
      // An empty cohort has no rate to colour: 0% would read as "everyone left".
      const { fill, light } = row.size === 0 ? { fill: 'none', light: false } : heat(rate / scaleTop);
      // A week still running (the cohort's or the later one): its count can only grow so far.
      const partial = row.partial || row.partialPeriods[k] === true;
      const label = row.size === 0 ? '–' : `${pct(rate)}${partial ? '*' : ''}`;
      const title =
        (row.size === 0
          ? `${row.key}: nobody did ${data.names.cohort} that week`
          : `${row.key} (${fmt(row.size)} ${data.names.cohort}): ${fmt(row.retained[k]!)} did ${data.names.active} ${later} (${pct(rate)})`) +
        (partial ? ' (so far: that week has not ended)' : '');
      parts.push(
        `<g class="cell${light ? ' on-dark' : ''}${row.size === 0 ? ' empty' : ''}${partial ? ' partial' : ''}"><rect data-cohort="${esc(row.key)}" data-period="${k + 1}" data-value="${rate}" data-retained="${row.retained[k]}" data-size="${row.size}"${partial ? ' data-partial="true" stroke-dasharray="4 3" stroke="currentColor"' : ''} x="${x + 1}" y="${top + 1}" width="${cellW - 2}" height="${cellH - 2}" rx="4" fill="${fill}"/><text x="${x + cellW / 2}" y="${top + cellH / 2}" text-anchor="middle" dominant-baseline="middle" font-size="12">${label}</text><title>${esc(title)}</title></g>`,
      );
    });
  });
  const grid = `<svg id="retention-grid" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`Weekly retention of ${data.names.cohort} cohorts`)}">${parts.join('')}</svg>`;
  const low = heat(0).fill;
  const high = heat(1).fill;
  const scale = `<svg id="retention-scale" viewBox="0 0 320 36" width="320" role="img" aria-label="colour scale" style="width:320px;margin-top:10px"><defs><linearGradient id="heat-gradient"><stop offset="0" stop-color="${low}"/><stop offset="1" stop-color="${high}"/></linearGradient></defs><rect x="36" y="4" width="220" height="12" rx="3" fill="url(#heat-gradient)"/><text x="28" y="14" text-anchor="end">0%</text><text x="262" y="14">${pct(scaleTop)}</text><text x="146" y="32" text-anchor="middle" font-size="11">share of the cohort active that week (* week not ended yet)</text></svg>`;
  return `${grid}${scale}`;
}

function countersChart(data: ReportData): string {
  const { top, key } = data.counters;
  if (top.length === 0) return '<p class="empty">No counts in this range.</p>';
  const W = 480;
  const rowH = 28;
  const labelW = 150;
  const valueW = 64;
  const barMax = W - labelW - valueW;
  const best = Math.max(1, top[0]!.count);
  const parts = top.map(({ id, count }, i) => {
    const w = Math.max(1, (Math.max(0, count) / best) * barMax);
    const share = data.counters.total > 0 ? ` (${pct(count / data.counters.total)} of all)` : '';
    return `<g class="counter" data-id="${esc(id)}" data-rank="${i + 1}" data-value="${count}" transform="translate(0 ${i * rowH})"><text class="label" x="${labelW - 10}" y="${rowH / 2}" text-anchor="end" dominant-baseline="middle">${esc(truncate(id, 20))}</text><rect x="${labelW}" y="6" width="${px(w)}" height="${rowH - 12}" rx="3"/><text x="${px(labelW + w + 6)}" y="${rowH / 2}" dominant-baseline="middle">${fmt(count)}</text><title>${esc(`${id}: ${fmt(count)} ${key}${share}`)}</title></g>`;
  });
  return `<svg id="top-counters" viewBox="0 0 ${W} ${top.length * rowH}" role="img" aria-label="${esc(`Top ${key}`)}">${parts.join('')}</svg>`;
}

function funnelChart(data: ReportData): string {
  const steps = data.funnel;
  if (steps.length === 0 || steps[0]!.count === 0) return '<p class="empty">No step 1 in this range.</p>';
  const W = 640;
  const rowH = 34;
  const labelW = 150;
  const barMax = W - labelW - 170;
  const best = Math.max(1, steps[0]!.count);
  const parts = steps.map((s, i) => {
    const w = Math.max(1, (s.count / best) * barMax);
    const rates = i === 0 ? '' : ` · ${pct(s.fromPrevious)} of previous · ${pct(s.fromStart)} of step 1`;
    return `<g class="step" data-step="${i + 1}" data-event="${esc(s.event)}" data-value="${s.count}" data-from-previous="${s.fromPrevious}" data-from-start="${s.fromStart}" transform="translate(0 ${i * rowH})"><text class="label" x="${labelW - 10}" y="${rowH / 2}" text-anchor="end" dominant-baseline="middle">${esc(truncate(s.event, 20))}</text><rect x="${labelW}" y="6" width="${px(w)}" height="${rowH - 12}" rx="3" fill="${SERIES_COLOURS[0]}"/><text x="${px(labelW + w + 6)}" y="${rowH / 2}" dominant-baseline="middle">${fmt(s.count)}${i === 0 ? '' : ` (${pct(s.fromPrevious)})`}</text><title>${esc(`${s.event}: ${fmt(s.count)}${rates}`)}</title></g>`;
  });
  return `<svg id="funnel-chart" viewBox="0 0 ${W} ${steps.length * rowH}" role="img" aria-label="funnel">${parts.join('')}</svg>`;
}

function curveChart(data: ReportData): string {
  const points = data.curve;
  if (points.length === 0) return '<p class="empty">No cohorts in this range.</p>';
  const W = 640;
  const H = 200;
  const m = { left: 44, right: 12, top: 10, bottom: 28 };
  const x = (k: number) =>
    m.left + (points.length === 1 ? 0 : (k / (points.length - 1)) * (W - m.left - m.right));
  const y = (r: number) => m.top + (1 - r) * (H - m.top - m.bottom);
  const line = points.map((p) => `${px(x(p.period))},${px(y(p.rate))}`).join(' ');
  const dots = points.map(
    (p) =>
      `<circle class="point${p.partial ? ' live' : ''}" data-period="${p.period}" data-value="${p.rate}" data-retained="${p.retained}" data-size="${p.size}" cx="${px(x(p.period))}" cy="${px(y(p.rate))}" r="3.5" fill="${p.partial ? '#ffffff' : SERIES_COLOURS[0]}" stroke="${SERIES_COLOURS[0]}"><title>${esc(`week ${p.period}: ${pct(p.rate)} of ${fmt(p.size)}${p.partial ? ' (not ended)' : ''}`)}</title></circle>`,
  );
  const axis = [0, 0.25, 0.5, 0.75, 1].map(
    (r) =>
      `<text x="${m.left - 6}" y="${px(y(r))}" text-anchor="end" dominant-baseline="middle" font-size="11">${pct(r)}</text>`,
  );
  const labels = points.map(
    (p) => `<text x="${px(x(p.period))}" y="${H - 8}" text-anchor="middle" font-size="11">${p.period}</text>`,
  );
  return `<svg id="retention-curve" viewBox="0 0 ${W} ${H}" role="img" aria-label="retention curve">${axis.join('')}${labels.join('')}<polyline class="series" stroke="${SERIES_COLOURS[0]}" fill="none" points="${line}"/>${dots.join('')}</svg>`;
}

const LIFECYCLE = ['new', 'returning', 'resurrecting', 'dormant'] as const;

function lifecycleChart(data: ReportData): string {
  const periods = data.lifecycle;
  if (periods.length === 0) return '<p class="empty">No periods in this range.</p>';
  const W = 640;
  const H = 240;
  const zero = 150;
  const up = Math.max(1, ...periods.map((p) => p.new + p.returning + p.resurrecting));
  const down = Math.max(1, ...periods.map((p) => p.dormant));
  const scale = Math.min((zero - 10) / up, (H - zero - 24) / down);
  const slot = (W - 20) / periods.length;
  const bars = periods.map((p, i) => {
    let top = zero;
    const x = 10 + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const rects = LIFECYCLE.map((status, s) => {
      const h = p[status] * scale;
      const yy = status === 'dormant' ? zero : (top -= h);
      return `<rect class="status ${status}" data-period="${esc(p.key)}" data-status="${status}" data-value="${p[status]}" x="${px(x)}" y="${px(yy)}" width="${px(w)}" height="${px(h)}" fill="${SERIES_COLOURS[s]}"><title>${esc(`${p.key} ${status}: ${fmt(p[status])}`)}</title></rect>`;
    });
    return `${rects.join('')}<text x="${px(x + w / 2)}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(p.key)}</text>`;
  });
  return `<svg id="lifecycle-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="lifecycle">${bars.join('')}<line x1="10" x2="${W - 10}" y1="${zero}" y2="${zero}" stroke="currentColor"/></svg>`;
}

function stickinessChart(data: ReportData): string {
  const { counts, key } = data.stickiness;
  if (counts.length === 0) return '<p class="empty">No week in this range.</p>';
  const W = 640;
  const H = 200;
  const best = Math.max(1, ...counts);
  const slot = (W - 20) / counts.length;
  const bars = counts.map((count, k) => {
    const h = (count / best) * (H - 50);
    const x = 10 + k * slot + slot * 0.15;
    return `<rect class="days" data-days="${k + 1}" data-value="${count}" x="${px(x)}" y="${px(H - 24 - h)}" width="${px(slot * 0.7)}" height="${px(h)}" rx="2" fill="${SERIES_COLOURS[0]}"><title>${esc(`${fmt(count)} users on exactly ${k + 1} day${k === 0 ? '' : 's'} of ${key}`)}</title></rect><text x="${px(x + slot * 0.35)}" y="${H - 8}" text-anchor="middle" font-size="11">${k + 1}</text>`;
  });
  return `<svg id="stickiness-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="stickiness">${bars.join('')}</svg>`;
}

function colourOf(names: readonly string[], name: string): string {
  return SERIES_COLOURS[names.indexOf(name) % SERIES_COLOURS.length]!;
}

function activityChart(data: ReportData): string {
  const { names, rows, aggregates } = data.activity;
  if (rows.length === 0) return '<p class="empty">No days in this range.</p>';
  const W = 1000;
  const H = 300;
  const m = { top: 18, right: 34, bottom: 46, left: 70 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const ticks = niceTicks(peakOf(rows.flatMap((r) => names.map((n) => r.counts[n] ?? 0))));
  const top = ticks[ticks.length - 1]!;
  const x = (i: number) => m.left + (rows.length === 1 ? pw / 2 : (i / (rows.length - 1)) * pw);
  const y = (v: number) => m.top + ph - (v / top) * ph;
  const parts: string[] = [];
  for (const t of ticks) {
    parts.push(`<line class="grid" x1="${m.left}" x2="${W - m.right}" y1="${px(y(t))}" y2="${px(y(t))}"/>`);
    parts.push(
      `<text x="${m.left - 10}" y="${px(y(t))}" text-anchor="end" dominant-baseline="middle">${compact(t)}</text>`,
    );
  }
  const every = Math.ceil(rows.length / 12);
  rows.forEach((row, i) => {
    if ((rows.length - 1 - i) % every === 0) {
      parts.push(
        `<text x="${px(x(i))}" y="${m.top + ph + 18}" text-anchor="middle">${day(row.date).toFormat('d LLL')}</text>`,
      );
    }
  });
  for (const name of names) {
    const colour = colourOf(names, name);
    const dashed = Object.hasOwn(aggregates, name) ? ' stroke-dasharray="7 4"' : '';
    const points = rows.map((r, i) => `${px(x(i))},${px(y(r.counts[name] ?? 0))}`).join(' ');
    parts.push(
      `<polyline class="series" data-bucket="${esc(name)}" stroke="${colour}"${dashed} points="${points}"/>`,
    );
  }
  for (const name of names) {
    const colour = colourOf(names, name);
    rows.forEach((row, i) => {
      const value = row.counts[name] ?? 0;
      const title = `${name}, ${day(row.date).toFormat('ccc d LLL yyyy')}: ${fmt(value)}${row.final ? '' : ' (live, not collapsed)'}`;
      parts.push(
        `<circle class="point${row.final ? '' : ' live'}" data-bucket="${esc(name)}" data-date="${row.date}" data-value="${value}" cx="${px(x(i))}" cy="${px(y(value))}" r="3.2" stroke="${colour}" stroke-width="1.5" fill="${row.final ? colour : '#ffffff'}"><title>${esc(title)}</title></circle>`,
      );
    });
  }
  parts.push(`<line class="axis" x1="${m.left}" x2="${W - m.right}" y1="${m.top + ph}" y2="${m.top + ph}"/>`);
  parts.push(
    `<text class="title" transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">active users</text>`,
  );
  parts.push(
    `<text class="title" x="${m.left + pw / 2}" y="${H - 6}" text-anchor="middle">day (${esc(data.zone)})</text>`,
  );
  return `<svg id="activity-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Active users by bucket">${parts.join('')}</svg>`;
}

function activityLegend(data: ReportData): string {
  const { names, aggregates, rows } = data.activity;
  const items: Array<{ swatch: string; style?: string; label: string }> = names.map((name) => {
    const members = aggregates[name];
    return {
      swatch: `line${members ? ' dashed' : ''}`,
      style: members ? `color:${colourOf(names, name)}` : `background:${colourOf(names, name)}`,
      label: members ? `${name} = ${members.join(' ∪ ')} (exact union)` : name,
    };
  });
  if (rows.some((r) => !r.final)) items.push({ swatch: 'ring', label: 'live: not collapsed yet' });
  return legend(items);
}

function breakdown(data: ReportData): string {
  const { names, rows, aggregates } = data.activity;
  const last = rows[rows.length - 1];
  if (!last) return '<p class="empty">No days in this range.</p>';
  const first = rows[0]!;
  const mean = (name: string) => rows.reduce((sum, r) => sum + (r.counts[name] ?? 0), 0) / rows.length;
  const body = names
    .map(
      (name) =>
        `<tr data-bucket="${esc(name)}" data-value="${last.counts[name] ?? 0}"><td><span class="swatch" style="background:${colourOf(names, name)}"></span>${esc(name)}${Object.hasOwn(aggregates, name) ? ' <code>union</code>' : ''}</td><td class="num">${fmt(last.counts[name] ?? 0)}</td><td class="num">${fmt(Math.round(mean(name)))}</td></tr>`,
    )
    .join('');
  return `<table class="breakdown" id="activity-breakdown"><thead><tr><th>bucket</th><th class="num">${esc(day(last.date).toFormat('ccc d LLL'))}${last.final ? '' : ' (live)'}</th><th class="num">daily mean since ${esc(day(first.date).toFormat('d LLL'))}</th></tr></thead><tbody>${body}</tbody></table>`;
}

export function renderReport(data: ReportData): string {
  const values = data.dau.map((d) => d.count);
  const last = data.dau[data.dau.length - 1];
  const weekBefore = data.dau[data.dau.length - 8];
  const mean = values.length === 0 ? 0 : Math.round(values.reduce((a, b) => a + b, 0) / values.length);
  const change =
    last && weekBefore && weekBefore.count > 0
      ? `${last.count >= weekBefore.count ? '+' : ''}${pct(last.count / weekBefore.count - 1)} vs. a week before`
      : 'no day a week before to compare';
  const through = last ? day(last.date).toFormat('d LLLL yyyy') : '';
  const active = esc(data.names.active);
  const generated = DateTime.fromISO(data.generatedFor, { zone: data.zone }).toFormat(
    "d LLL yyyy, HH:mm 'in' z",
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="porpoise ${esc(data.version)}">
<title>Porpoise report: ${active}, ${data.days} days to ${esc(through)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1><span>Porpoise</span> report</h1>
<p class="meta">${data.days} days to ${esc(through)} · ${esc(data.zone)} · ${esc(data.description)} · as of ${esc(generated)}</p>
</header>
<section class="tiles" aria-label="summary">
${tile('tile-last-day', `${data.names.active}, last day`, last?.count ?? 0, change)}
${tile('tile-mean', `${data.names.active}, daily mean`, mean, `over ${data.days} days`)}
${tile('tile-uniques', `unique ${data.names.active} users`, data.uniques, `on any of the ${data.days} days`)}
${tile('tile-counter', `${data.names.counter}, total`, data.counters.total, `${fmt(data.counters.ids)} distinct ids in ${data.days} days`)}
</section>
<section class="card" id="dau">
<h2>Daily active users</h2>
<p class="sub">Users who did <code>${active}</code> each day, counted from the event bitmaps.</p>
${dauChart(data)}
${legend([
  { swatch: '', style: 'background:var(--accent)', label: 'weekday' },
  { swatch: '', style: 'background:var(--weekend)', label: 'weekend' },
  { swatch: 'line', style: 'background:var(--mean)', label: '7-day mean' },
])}
</section>
<section class="card" id="retention">
<h2>Weekly retention</h2>
<p class="sub">Each row: the users who did <code>${esc(data.names.cohort)}</code> in a week; each cell: the share who did <code>${active}</code> that many weeks later.</p>
${retentionGrid(data)}
</section>
<div class="cols">
<section class="card" id="counters">
<h2>Top ${esc(data.counters.key)}</h2>
<p class="sub">Counts summed over the ${data.days} days: ${fmt(data.counters.total)} over ${fmt(data.counters.ids)} ids.</p>
${countersChart(data)}
</section>
<section class="card" id="buckets">
<h2>Activity by bucket</h2>
<p class="sub">Active users per bucket from the activity tracker.</p>
${breakdown(data)}
</section>
</div>
<section class="card" id="funnel">
<h2>Funnel</h2>
<p class="sub">Users whose <code>${esc(data.funnel[0]?.event ?? '')}</code> fell in the ${data.days} days, reaching each step in order within 7 days of it; the share of the previous step in brackets.</p>
${funnelChart(data)}
</section>
<section class="card" id="retention-average">
<h2>Retention curve</h2>
<p class="sub">Share of the weekly <code>${esc(data.names.cohort)}</code> cohorts doing <code>${active}</code> k weeks on (week 0: their own), averaged weighted by cohort size; hollow: not ended.</p>
${curveChart(data)}
</section>
<div class="cols">
<section class="card" id="lifecycle">
<h2>Lifecycle</h2>
<p class="sub">Weekly <code>${active}</code> users: new, returning, resurrecting above the line; dormant below.</p>
${lifecycleChart(data)}
${legend(LIFECYCLE.map((label, s) => ({ swatch: '', style: `background:${SERIES_COLOURS[s]}`, label })))}
</section>
<section class="card" id="stickiness">
<h2>Stickiness</h2>
<p class="sub">Users of <code>${active}</code> on exactly k days of ${esc(data.stickiness.key)}.</p>
${stickinessChart(data)}
</section>
</div>
<section class="card" id="activity">
<h2>Active users by bucket, daily</h2>
<p class="sub">Solid: one bucket; dashed: an aggregate, the exact union of its buckets (not a sum).</p>
${activityChart(data)}
${activityLegend(data)}
</section>
<footer>Generated by porpoise ${esc(data.version)}. Self-contained: no scripts, no network; the numbers are inline in <code>#report-data</code>.</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
</body>
</html>
`;
}
