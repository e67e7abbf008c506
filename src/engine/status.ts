import type { Config } from "../config/schema.js";
import { plural } from "../kit/plural.js";
import type { StateStore } from "../state/index.js";
import type { HistoryEntry, HistoryPoint } from "./history.js";
import { decodeState } from "./state-document.js";
import { steeringOf, type OverrideView, type PauseView } from "./process-record.js";

export const statusRanges = { "1h": 60, "24h": 24 * 60, "7d": 7 * 24 * 60 } as const;
export type StatusRange = keyof typeof statusRanges;

/** One process as `status` and the dashboard show it, from the state document and the history. */
export interface ProcessStatus {
  process: string;
  /** The count and bounds at the last tick. */
  current: number | null;
  bounds: { min: number; max: number } | null;
  lastTickAt: string | null;
  /** The newest readings, oldest first. */
  readings: Array<{ at: string; value: number | null; unit?: string; failed?: string }>;
  /** Lasting conditions notified and not yet resolved, with when they began. */
  openConditions: Array<{ kind: string; since: string }>;
  /** Paused now (autoscalebot pause, POST /api/pause): since when, until when, the count held, by whom. */
  paused: PauseView | null;
  /** Held now at a count set by hand, until when (manualOverrideMinutes). */
  override: OverrideView | null;
  scales: Array<{ at: string; from: number; to: number; reason?: string }>;
  /** Every tick of the range, for charts. */
  series: Array<{ at: string; value: number | null; current: number | null; min?: number; max?: number }>;
}

export interface Status {
  range: StatusRange;
  generatedAt: string;
  processes: ProcessStatus[];
}

const READINGS_SHOWN = 10;

/** Two commands (the state document and a range of history), whatever the number of processes. */
export async function readStatus(
  config: Config,
  store: StateStore,
  options: { range: StatusRange; process?: string | undefined; now: number },
): Promise<Status> {
  const [document, raw] = await Promise.all([store.load(), store.readHistory(statusRanges[options.range])]);
  const { state } = decodeState(document);
  const since = options.now - statusRanges[options.range] * 60_000;
  const entries = raw.flatMap((line) => parseEntry(line)).filter((e) => Date.parse(e.at) >= since);
  const names = Object.keys(config.processes).filter((n) => !options.process || n === options.process);
  return {
    range: options.range,
    generatedAt: new Date(options.now).toISOString(),
    processes: names.map((name) => {
      const points = entries.flatMap((e) => {
        const point = e.processes.find((p) => p.process === name);
        return point ? [{ at: e.at, point }] : [];
      });
      const last = points.at(-1)?.point;
      return {
        process: name,
        current: last?.scaled?.to ?? last?.current ?? null,
        bounds: last?.min !== undefined && last.max !== undefined ? { min: last.min, max: last.max } : null,
        lastTickAt: points.at(-1)?.at ?? null,
        readings: points
          .filter(({ point }) => point.status !== "waiting" && point.unit !== undefined)
          .slice(-READINGS_SHOWN)
          .map(({ at, point }) => ({ at, value: point.value, unit: point.unit, ...failure(point) })),
        openConditions: Object.entries(state.processes[name]?.notices ?? {}).map(([kind, notice]) => ({
          kind,
          since: new Date(notice.since).toISOString(),
        })),
        ...steeringOf(state.processes[name], options.now),
        scales: points.flatMap(({ at, point }) =>
          point.scaled ? [{ at, ...point.scaled, ...(point.reason ? { reason: point.reason } : {}) }] : [],
        ),
        series: points.map(({ at, point }) => ({
          at,
          value: point.value,
          current: point.scaled?.to ?? point.current,
          ...(point.min !== undefined ? { min: point.min, max: point.max } : {}),
        })),
      };
    }),
  };
}

const failure = (point: HistoryPoint) => (point.failed ? { failed: point.failed } : {});

/** An entry that does not parse is skipped: history is a view, never a reason to fail. */
function parseEntry(line: string): HistoryEntry[] {
  try {
    const entry = JSON.parse(line) as HistoryEntry;
    return typeof entry.at === "string" && Array.isArray(entry.processes) ? [entry] : [];
  } catch {
    return [];
  }
}

/** The terminal's view: a line per process, then its recent scales. */
export function formatStatus(status: Status): string {
  const lines = [`status over ${status.range} (${status.generatedAt})`];
  for (const p of status.processes) {
    const reading = p.readings.at(-1);
    const shown = reading
      ? reading.failed
        ? `failed: ${reading.failed}`
        : `${reading.value} ${reading.unit}`
      : "no reading";
    const bounds = p.bounds ? ` [${p.bounds.min}-${p.bounds.max}]` : "";
    lines.push(
      `  ${p.process}: ${p.current === null ? "? processes" : plural(p.current, "process", "processes")}${bounds} | ${shown} | last tick ${p.lastTickAt ?? "never"}`,
    );
    if (p.paused) {
      const { since, until, processes, by } = p.paused;
      const held = processes === undefined ? "" : `, held at ${plural(processes, "process", "processes")}`;
      lines.push(
        `    paused since ${since}${by ? ` by ${by}` : ""}${held}, ${until ? `until ${until}` : "until resumed"}`,
      );
    }
    if (p.override)
      lines.push(
        `    manual override since ${p.override.since}: held at ${plural(p.override.count, "process", "processes")} until ${p.override.until}`,
      );
    for (const c of p.openConditions) lines.push(`    open: ${c.kind} since ${c.since}`);
    for (const s of p.scales.slice(-5))
      lines.push(`    ${s.at} scaled ${s.from} -> ${s.to}${s.reason ? `: ${s.reason}` : ""}`);
  }
  return lines.join("\n");
}
