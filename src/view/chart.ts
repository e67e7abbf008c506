import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/**
 * The one chart the dashboard and the simulator's report draw with: a uPlot time chart sized to
 * its container. Lines may be steps, dashed, or points alone (events); a band shades between two
 * lines. Drag across a chart to zoom into that time range (every chart of the same group
 * follows), double-click to zoom out. The container carries `data-points` (the number of times
 * drawn), `data-lines` and the time range shown (`data-from`, `data-to`, Unix seconds), so a
 * test sees what was drawn without reading pixels.
 */
export interface Line {
  label: string;
  values: ReadonlyArray<number | null>;
  color: string;
  width?: number;
  dash?: number[];
  /** Drawn as steps: the value holds until the next point (a count). */
  step?: boolean;
  /** Points alone, no line: events such as scales, or the worst minutes. */
  pointsOnly?: boolean;
  /** Kept out of the legend and the hover values (a band's edges). */
  quiet?: boolean;
}

export interface ChartSpec {
  title: string;
  /** Unix seconds, ascending. */
  times: ReadonlyArray<number>;
  lines: Line[];
  /** Shade between two lines, by their index in `lines`. */
  bands?: Array<{ upper: number; lower: number; fill: string }>;
  y?: { log?: boolean; min?: number; format?: (value: number) => string };
  height?: number;
  /** IANA zone the time axis is drawn in (the configured one, or the trace's). */
  zone?: string;
  /** Charts of one group zoom and hover together. */
  group?: string;
}

export interface Chart {
  update(spec: ChartSpec): void;
  destroy(): void;
}

const groups = new Map<string, Set<uPlot>>();

/** Propagates one chart's zoom to the others of its group. */
function followZoom(group: string | undefined): uPlot.Hooks.Defs["setScale"] {
  let busy = false;
  return (self, key) => {
    if (key !== "x") return;
    const { min, max } = self.scales.x!;
    if (min === undefined || max === undefined) return;
    // The time range shown, for whoever reads the page's DOM (a test).
    Object.assign(self.root.parentElement?.dataset ?? {}, { from: String(min), to: String(max) });
    if (!group || busy) return;
    busy = true;
    for (const other of groups.get(group) ?? [])
      if (other !== self && (other.scales.x!.min !== min || other.scales.x!.max !== max))
        other.setScale("x", { min, max });
    busy = false;
  };
}

function series(line: Line): uPlot.Series {
  const base: uPlot.Series = {
    label: line.label,
    stroke: line.color,
    width: line.width ?? 1.5,
    spanGaps: false,
    ...(line.dash ? { dash: line.dash } : {}),
  };
  if (line.pointsOnly)
    return {
      ...base,
      paths: () => null,
      points: { show: true, size: 9, width: 2, stroke: line.color, fill: "#fff" },
    };
  return {
    ...base,
    points: { show: false },
    ...(line.step ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
  };
}

/** A log axis labels its powers of ten alone; the lines between them stay unlabelled. */
const label = (format: (v: number) => string, log: boolean | undefined) => (value: number) =>
  !log || Math.abs(Math.log10(value) - Math.round(Math.log10(value))) < 1e-9 ? format(value) : "";

function options(spec: ChartSpec, width: number): uPlot.Options {
  const format = spec.y?.format;
  const zone = spec.zone;
  return {
    title: spec.title,
    width,
    height: spec.height ?? 200,
    ...(zone ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), zone) } : {}),
    cursor: {
      drag: { x: true, y: false },
      ...(spec.group ? { sync: { key: spec.group } } : {}),
    },
    scales: {
      x: { time: true },
      y: spec.y?.log
        ? { distr: 3, log: 10 }
        : { range: (_u, min, max) => [Math.min(spec.y?.min ?? 0, min), max] },
    },
    axes: [
      {},
      {
        size: 60,
        ...(format
          ? { values: (_u: uPlot, splits: number[]) => splits.map(label(format, spec.y?.log)) }
          : {}),
      },
    ],
    series: [{}, ...spec.lines.map(series)],
    bands: (spec.bands ?? []).map((b) => ({ series: [b.upper + 1, b.lower + 1], fill: b.fill })),
    hooks: { setScale: [followZoom(spec.group)] },
  };
}

/** On a log scale, readings under 1 (an idle minute's 0 ms) are drawn at 1. */
const data = (spec: ChartSpec): uPlot.AlignedData => [
  Float64Array.from(spec.times),
  ...spec.lines.map((l) => l.values.map((v) => (v === null ? null : spec.y?.log ? Math.max(1, v) : v))),
];

/** Quiet lines (a band's edges, markers) keep out of the legend. */
function hideQuiet(plot: uPlot, spec: ChartSpec): void {
  const rows = plot.root.querySelectorAll<HTMLElement>(".u-legend .u-series");
  spec.lines.forEach((line, i) => {
    if (line.quiet && rows[i + 1]) rows[i + 1]!.style.display = "none";
  });
}

function describe(container: HTMLElement, spec: ChartSpec): void {
  container.dataset.points = String(spec.times.length);
  container.dataset.lines = String(spec.lines.length);
}

/** Draws `spec` into `container`, redrawn at the container's width when it changes. */
export function drawChart(container: HTMLElement, spec: ChartSpec): Chart {
  let current = spec;
  const create = (next: ChartSpec) => {
    const made = new uPlot(options(next, container.clientWidth || 600), data(next), container);
    hideQuiet(made, next);
    return made;
  };
  let plot = create(spec);
  const register = () => {
    if (!current.group) return;
    const members = groups.get(current.group) ?? new Set<uPlot>();
    members.add(plot);
    groups.set(current.group, members);
  };
  const unregister = () => groups.get(current.group ?? "")?.delete(plot);
  register();
  describe(container, spec);
  const resize = new ResizeObserver(() => {
    const width = container.clientWidth;
    if (width > 0 && width !== plot.width) plot.setSize({ width, height: plot.height });
  });
  resize.observe(container);
  return {
    update(next) {
      // The shape (lines, bands) may change between refreshes; a new plot is simplest and cheap.
      const sameShape =
        next.lines.length === current.lines.length &&
        (next.bands?.length ?? 0) === (current.bands?.length ?? 0) &&
        next.title === current.title;
      current = next;
      if (sameShape) plot.setData(data(next));
      else {
        unregister();
        plot.destroy();
        plot = create(next);
        register();
      }
      describe(container, next);
    },
    destroy() {
      resize.disconnect();
      unregister();
      plot.destroy();
    },
  };
}

/**
 * Colours told apart by most eyes, colour-blind ones included (Okabe and Ito's palette, then
 * Tableau's), in the order lines are given them.
 */
export const PALETTE = [
  "#0072b2",
  "#d55e00",
  "#009e73",
  "#cc79a7",
  "#e69f00",
  "#56b4e9",
  "#000000",
  "#8c564b",
  "#bcbd22",
  "#7f7f7f",
];
export const colour = (i: number): string => PALETTE[i % PALETTE.length]!;
