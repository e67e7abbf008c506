import type { ReportData } from "./report-data.js";
import { colour, drawChart, type Line } from "./chart.js";

/**
 * The simulator's HTML report, drawn from the JSON the page carries (src/simulate/html.ts): the
 * load, every run's process count and latency, each in its own colour, the worst minutes of
 * each policy marked and listed. Drag across any chart to zoom all of them into that time
 * range, double-click to zoom out; click a legend entry to hide that run.
 */
const data = JSON.parse(document.getElementById("report-data")!.textContent) as ReportData;
const charts = document.getElementById("charts")!;

const formatMs = (ms: number) => (ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`);
const runColour = data.runs.map((_, i) => colour(i));
const worstAt = (run: number) => {
  const marks = new Map(data.worst.filter((w) => w.run === run).map((w) => [w.bucket, w.latencyMs]));
  return data.times.map((_, i) => marks.get(i) ?? null);
};

function chart(title: string, lines: Line[], y: Parameters<typeof drawChart>[1]["y"], height = 220): void {
  const container = document.createElement("div");
  container.className = "chart";
  charts.append(container);
  drawChart(container, { title, times: data.times, lines, zone: data.zone, group: "report", height, y });
}

const per = data.bucketMinutes > 1 ? ` (each point the maximum of ${data.bucketMinutes} minutes)` : "";
chart(
  `Requests per minute${data.rateMultiplier !== 1 ? ` (trace x${data.rateMultiplier})` : ""}${per}`,
  [{ label: "requests/min", values: data.arrivals, color: "#555555" }],
  { format: (v) => v.toLocaleString("en-US") },
);
chart(
  "Processes",
  data.runs.map((run, i) => ({
    label: run.label,
    values: run.processes,
    color: runColour[i]!,
    step: true,
    ...(run.kind === "baseline" ? { dash: [6, 3] } : {}),
  })),
  { format: (v) => (Number.isInteger(v) ? String(v) : "") },
);
chart(
  `Latency (${data.metric}, log scale); ◯ the worst minutes of each policy`,
  [
    ...data.runs.map((run, i) => ({
      label: run.label,
      values: run.latencyMs,
      color: runColour[i]!,
      width: 1.2,
      ...(run.kind === "baseline" ? { dash: [6, 3] } : {}),
    })),
    ...data.runs.map((run, i) => ({
      label: `${run.label}: worst`,
      values: worstAt(i),
      color: runColour[i]!,
      pointsOnly: true,
      quiet: true,
    })),
    {
      label: `SLO ${formatMs(data.sloMs)}`,
      values: data.times.map(() => data.sloMs),
      color: "#d62728",
      dash: [8, 4],
      width: 1,
    },
  ],
  { log: true, format: formatMs },
  300,
);

const worst = document.getElementById("worst")!;
for (const w of data.worst) {
  const row = document.createElement("tr");
  const cells = [data.runs[w.run]!.label, w.time, formatMs(w.latencyMs), String(w.processes)];
  for (const text of cells) row.append(Object.assign(document.createElement("td"), { textContent: text }));
  row.firstElementChild!.prepend(
    Object.assign(document.createElement("span"), {
      className: "swatch",
      style: `background:${runColour[w.run]}`,
    }),
  );
  worst.append(row);
}
