import { readFileSync } from "node:fs";
import { DateTime } from "luxon";
import type { ReportData } from "../view/report-data.js";
import type { Run } from "./replay.js";
import { formatReport, type SimulationReport } from "./report.js";

/**
 * The HTML report: one self-contained page that draws with the dashboard's chart code
 * (src/view/chart.ts, bundled with uPlot into public/assets by `npm run build`) and carries its
 * data as JSON, so it opens from a file with no network. Long traces are drawn in at most
 * MAX_POINTS points per line, each the maximum of its bucket, so a one-minute spike stays
 * visible; the worst minutes are found on every minute, not on the buckets.
 */
const MAX_POINTS = 4000;
/** The worst minutes marked and listed for each policy. */
const WORST_PER_POLICY = 5;

// The built assets sit in public/assets, two levels above both src/simulate and dist/simulate.
const ASSETS = new URL("../../public/assets/", import.meta.url);

function asset(name: string): string {
  try {
    return readFileSync(new URL(name, ASSETS), "utf8");
  } catch {
    throw new Error(`the report's chart code (public/assets/${name}) is missing: run \`npm run build\``);
  }
}

/** A series as at most `buckets` points, each its bucket's maximum. */
function bucketMax(values: Float64Array, n: number, size: number, digits = 1): number[] {
  const out: number[] = [];
  const scale = 10 ** digits;
  for (let from = 0; from < n; from += size) {
    let max = -Infinity;
    for (let i = from; i < Math.min(n, from + size); i++) if (values[i]! > max) max = values[i]!;
    out.push(max === -Infinity ? 0 : Math.round(max * scale) / scale);
  }
  return out;
}

export function reportData(report: SimulationReport, runs: Run[]): ReportData {
  const n = runs[0]?.minutes ?? 0;
  const size = Math.max(1, Math.ceil(n / MAX_POINTS));
  const metric = report.model.sloMetric;
  const latency = (run: Run) => (metric === "p95" ? run.p95Ms : run.meanMs);
  const times: number[] = [];
  for (let i = 0; i < n; i += size) times.push(runs[0]!.traceMs[i]! / 1000);
  const worst = runs.flatMap((run, index) => {
    if (run.kind !== "policy") return [];
    const values = latency(run);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b]! - values[a]!);
    return order.slice(0, WORST_PER_POLICY).map((i) => ({
      run: index,
      bucket: Math.floor(i / size),
      time: DateTime.fromMillis(run.traceMs[i]!, { zone: report.trace.zone }).toFormat("yyyy-MM-dd HH:mm"),
      latencyMs: Math.round(values[i]!),
      processes: run.processes[i]!,
    }));
  });
  return {
    zone: report.trace.zone,
    sloMs: report.model.sloMs,
    metric,
    rateMultiplier: report.model.rateMultiplier,
    bucketMinutes: size,
    times,
    arrivals: runs[0] ? bucketMax(runs[0].arrivals, n, size, 0) : [],
    runs: runs.map((run) => ({
      label: run.label,
      kind: run.kind,
      processes: bucketMax(run.processes, n, size, 0),
      latencyMs: bucketMax(latency(run), n, size),
    })),
    worst,
  };
}

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JSON inside a script element: `<` escaped, so no string in it can close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1140px;padding:0 16px;color:#222}
h1{font-size:20px}h2{font-size:15px;margin:18px 0 4px}.chart{margin-top:10px;width:100%}
.u-title{font-size:13px!important;text-align:left!important}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}td,th{padding:2px 10px;text-align:left}
.swatch{display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:6px;vertical-align:-1px}
pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:12.5px}`;

export function renderHtml(report: SimulationReport, runs: Run[]): string {
  const title = `autoscalebot what-if: ${report.trace.source}`;
  if (runs.length === 0) return `<!doctype html><title>${escape(title)}</title><p>nothing simulated</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>${asset("sim-report.css")}</style><style>${STYLE}</style></head>
<body>
<h1>${escape(title)}</h1>
<p>Drag across a chart to zoom into a time range (all charts follow), double-click to zoom out; click a run in a legend to hide it.</p>
<div id="charts"></div>
<h2>The worst minutes of each policy</h2>
<table><thead><tr><th>run</th><th>minute</th><th>latency</th><th>processes</th></tr></thead><tbody id="worst"></tbody></table>
<h2>Summary</h2>
<pre>${escape(formatReport(report))}</pre>
<script type="application/json" id="report-data">${scriptJson(reportData(report, runs))}</script>
<script>${asset("sim-report.js").replace(/<\/script/gi, "<\\/script")}</script>
</body></html>
`;
}
