import { DateTime } from "luxon";
import type { Run } from "./replay.js";
import { formatMs, formatReport, type SimulationReport } from "./report.js";

/**
 * The HTML report: one self-contained page (inline CSS and SVG drawn here, nothing fetched)
 * with the trace, every run's process count and latency over time, and the summary table.
 * Long traces are drawn in at most BUCKETS points per line, each the maximum of its bucket,
 * so a one-minute spike stays visible. Latency gets a chart per run, all on one scale.
 */
const BUCKETS = 1200;
const WIDTH = 1100;
const HEIGHT = 230;
/** Height of each run's own latency chart. */
const SMALL_HEIGHT = 120;
const LEFT = 64;
const RIGHT = 12;
const TOP = 10;
const BOTTOM = 26;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
const BASELINE_COLORS = ["#7f7f7f", "#bcbd22", "#555555"];

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

interface Axis {
  toX(i: number): number;
  ticks: { x: number; label: string }[];
}

/** The x axis over the trace's own time: a tick a day for long traces, every few hours for short ones. */
function timeAxis(traceMs: Float64Array, n: number, zone: string): Axis {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const toX = (i: number) => LEFT + (n <= 1 ? 0 : (i / (n - 1)) * plotWidth);
  const first = traceMs[0]!;
  const last = traceMs[n - 1]!;
  const spanHours = (last - first) / 3_600_000;
  const stepHours =
    spanHours > 72 ? 24 * Math.ceil(spanHours / 24 / 14) : spanHours > 24 ? 6 : spanHours > 6 ? 2 : 1;
  const ticks: { x: number; label: string }[] = [];
  let next = DateTime.fromMillis(first, { zone }).startOf("day");
  let i = 0;
  while (next.toMillis() <= last) {
    const ms = next.toMillis();
    if (ms >= first) {
      while (i < n - 1 && traceMs[i]! < ms) i++;
      const label =
        stepHours >= 24 ? next.toFormat("MM-dd") : next.toFormat(next.hour === 0 ? "MM-dd" : "HH:mm");
      ticks.push({ x: toX(i), label });
    }
    next = next.plus({ hours: stepHours });
  }
  return { toX, ticks };
}

/** Points of a line: at most BUCKETS, each the maximum of its bucket (NaN skipped). */
function points(values: Float64Array, n: number, axis: Axis, toY: (v: number) => number): string {
  const buckets = Math.min(n, BUCKETS);
  const out: string[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * n) / buckets));
    let max = -Infinity;
    for (let i = from; i < to; i++) if (values[i]! > max) max = values[i]!;
    if (max === -Infinity) continue;
    out.push(`${axis.toX(from).toFixed(1)},${toY(max).toFixed(1)}`);
  }
  return out.join(" ");
}

function frame(
  axis: Axis,
  yTicks: { y: number; label: string }[],
  title: string,
  body: string,
  height = HEIGHT,
): string {
  const bottom = height - BOTTOM;
  const grid = [
    ...yTicks.map(
      (t) =>
        `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${t.y.toFixed(1)}" y2="${t.y.toFixed(1)}" class="grid"/>` +
        `<text x="${LEFT - 6}" y="${(t.y + 4).toFixed(1)}" text-anchor="end">${escape(t.label)}</text>`,
    ),
    ...axis.ticks.map(
      (t) =>
        `<line x1="${t.x.toFixed(1)}" x2="${t.x.toFixed(1)}" y1="${TOP}" y2="${bottom}" class="grid"/>` +
        `<text x="${t.x.toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${escape(t.label)}</text>`,
    ),
  ].join("");
  return (
    `<h2>${escape(title)}</h2><svg viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${escape(title)}">` +
    `<rect x="${LEFT}" y="${TOP}" width="${WIDTH - LEFT - RIGHT}" height="${bottom - TOP}" class="plot"/>${grid}${body}</svg>`
  );
}

/** Round numbers for a linear axis from 0 to about max. */
function linearTicks(max: number): number[] {
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; ticks.length < 2 || ticks[ticks.length - 1]! < max; v += step) ticks.push(v);
  return ticks;
}

function linearChart(
  title: string,
  axis: Axis,
  n: number,
  lines: { values: Float64Array; color: string; width?: number; fill?: boolean }[],
  format: (v: number) => string,
): string {
  let max = 1;
  for (const line of lines) for (let i = 0; i < n; i++) if (line.values[i]! > max) max = line.values[i]!;
  const ticks = linearTicks(max);
  const top = ticks[ticks.length - 1]!;
  const bottom = HEIGHT - BOTTOM;
  const toY = (v: number) => bottom - (v / top) * (bottom - TOP);
  const body = lines
    .map((l) => {
      const pts = points(l.values, n, axis, toY);
      if (l.fill)
        return `<polygon points="${LEFT},${bottom} ${pts} ${WIDTH - RIGHT},${bottom}" fill="${l.color}" fill-opacity="0.25" stroke="${l.color}" stroke-width="1"/>`;
      return `<polyline points="${pts}" fill="none" stroke="${l.color}" stroke-width="${l.width ?? 1.5}"/>`;
    })
    .join("");
  return frame(
    axis,
    ticks.map((t) => ({ y: toY(t), label: format(t) })),
    title,
    body,
  );
}

const msLabel = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);

/** One run's latency (log scale, the SLO dashed), on the same scale as the other runs'. */
function latencyChart(
  title: string,
  axis: Axis,
  n: number,
  values: Float64Array,
  color: string,
  range: { lo: number; hi: number },
  sloMs: number,
): string {
  const height = SMALL_HEIGHT;
  const bottom = height - BOTTOM;
  const toY = (v: number) =>
    bottom - ((Math.log10(Math.max(v, 1)) - range.lo) / (range.hi - range.lo)) * (bottom - TOP);
  const ticks: { y: number; label: string }[] = [];
  for (let e = Math.ceil(range.lo); e <= range.hi; e++)
    ticks.push({ y: toY(10 ** e), label: msLabel(10 ** e) });
  const slo = toY(sloMs);
  const body =
    `<polyline points="${points(values, n, axis, toY)}" fill="none" stroke="${color}" stroke-width="1.2"/>` +
    `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${slo.toFixed(1)}" y2="${slo.toFixed(1)}" class="slo"/>` +
    `<text x="${WIDTH - RIGHT - 4}" y="${(slo - 4).toFixed(1)}" text-anchor="end" class="slo-label">SLO ${formatMs(sloMs)}</text>`;
  return frame(axis, ticks, title, body, height);
}

/** The log range every latency chart shares: from below the fastest minute (or the SLO) to above the slowest. */
function latencyRange(
  runs: Run[],
  n: number,
  sloMs: number,
  metric: "p95" | "mean",
): { lo: number; hi: number } {
  let min = sloMs;
  let max = sloMs;
  for (const run of runs) {
    const values = metric === "p95" ? run.p95Ms : run.meanMs;
    for (let i = 0; i < n; i++) {
      min = Math.min(min, values[i]!);
      max = Math.max(max, values[i]!);
    }
  }
  return { lo: Math.log10(Math.max(1, min) / 1.5), hi: Math.log10(max * 1.5) };
}

export function renderHtml(report: SimulationReport, runs: Run[]): string {
  const first = runs[0];
  const title = `autoscalebot what-if: ${report.trace.source}`;
  if (!first) return `<!doctype html><title>${escape(title)}</title><p>nothing simulated</p>`;
  const n = first.minutes;
  const axis = timeAxis(first.traceMs, n, report.trace.zone);
  let policy = 0;
  let baseline = 0;
  const colored = runs.map((run) => ({
    run,
    color:
      run.kind === "policy"
        ? COLORS[policy++ % COLORS.length]!
        : BASELINE_COLORS[baseline++ % BASELINE_COLORS.length]!,
  }));
  const legend = colored
    .map(
      ({ run, color }) =>
        `<span class="key"><span class="swatch" style="background:${color}${run.kind === "baseline" ? ";opacity:.7" : ""}"></span>${escape(run.label)}</span>`,
    )
    .join("");
  const metric = report.model.sloMetric;
  const charts = [
    linearChart(
      `Requests per minute${report.model.rateMultiplier !== 1 ? ` (trace x${report.model.rateMultiplier})` : ""}`,
      axis,
      n,
      [{ values: first.arrivals, color: "#1f77b4", fill: true }],
      (v) => v.toLocaleString("en-US"),
    ),
    linearChart(
      "Processes",
      axis,
      n,
      colored.map(({ run, color }) => ({ values: run.processes, color })),
      (v) => String(v),
    ),
  ];
  const range = latencyRange(runs, n, report.model.sloMs, metric);
  for (const { run, color } of colored) {
    const values = metric === "p95" ? run.p95Ms : run.meanMs;
    charts.push(
      latencyChart(
        `Latency (${metric}, log scale): ${run.label}`,
        axis,
        n,
        values,
        color,
        range,
        report.model.sloMs,
      ),
    );
  }
  const style = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:${WIDTH + 40}px;color:#222}
h1{font-size:20px}h2{font-size:15px;margin:18px 0 4px}
svg text{font-size:11px;fill:#555}.plot{fill:#fafafa;stroke:#ccc}.grid{stroke:#e4e4e4}
.slo{stroke:#d62728;stroke-dasharray:6 4}.slo-label{fill:#d62728}
.key{margin-right:14px;white-space:nowrap}.swatch{display:inline-block;width:14px;height:4px;margin:0 5px 3px 0;vertical-align:middle}
pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:12.5px}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title><style>${style}</style></head>
<body>
<h1>${escape(title)}</h1>
<p>${legend}</p>
${charts.join("\n")}
<h2>Summary</h2>
<pre>${escape(formatReport(report))}</pre>
</body></html>
`;
}
