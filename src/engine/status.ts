import type { Config } from "../config/schema.js";
import { decisionBand, type Band } from "../decide/index.js";
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
  /** The ticks that sent notifications, and the events they sent. */
  notifications: Array<{ at: string; events: string[] }>;
  /** The readings the policy holds within, for the chart's band. */
  band: Band & { unit?: string };
  /** Every tick of the range, for charts. */
  series: Array<{ at: string; value: number | null; current: number | null; min?: number; max?: number }>;
}

export interface Status {
  range: StatusRange;
  generatedAt: string;
  /**
   * Asked with `since`: only the ticks after it are in `series`, `scales`, `notifications` and
   * `readings` (the rest of each process is whole), so a page that refreshes reads a minute of
   * history, not the range. `complete` false: more ticks ran since then than were read, so the
   * caller asks for the whole range again.
   */
  since?: string;
  complete: boolean;
  /** The configured zone, in which bounds and schedules are read (and the dashboard draws times). */
  timezone: string;
  processes: ProcessStatus[];
}

const READINGS_SHOWN = 10;

/**
 * The ticks to read for the range, or for what came after `since`: a tick a minute, and room
 * for as many again triggered by hand.
 */
function ticksToRead(range: StatusRange, now: number, since: number | undefined): number {
  const minutes = statusRanges[range];
  if (since === undefined) return minutes;
  return Math.min(minutes, 2 * Math.ceil(Math.max(0, now - since) / 60_000) + 5);
}

/** Two commands (the state document and a range of history), whatever the number of processes. */
export async function readStatus(
  config: Config,
  store: StateStore,
  options: { range: StatusRange; process?: string | undefined; now: number; since?: number | undefined },
): Promise<Status> {
  const count = ticksToRead(options.range, options.now, options.since);
  const [document, raw] = await Promise.all([store.load(), store.readHistory(count)]);
  const { state } = decodeState(document);
  const from = Math.max(options.now - statusRanges[options.range] * 60_000, (options.since ?? -Infinity) + 1);
  const parsed = raw.flatMap((line) => parseEntry(line));
  const entries = parsed.filter((e) => Date.parse(e.at) >= from);
  // Every tick read is newer than `since` and there may be more: what was read is not all.
  const complete =
    options.since === undefined || raw.length < count || Date.parse(parsed[0]?.at ?? "") <= options.since;
  const names = Object.keys(config.processes).filter((n) => !options.process || n === options.process);
  return {
    range: options.range,
    generatedAt: new Date(options.now).toISOString(),
    ...(options.since !== undefined ? { since: new Date(options.since).toISOString() } : {}),
    complete,
    timezone: config.timezone,
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
        notifications: points.flatMap(({ at, point }) =>
          point.notified.length > 0 ? [{ at, events: point.notified }] : [],
        ),
        band: { ...decisionBand(config.processes[name]!.decision), ...unitOf(points) },
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

/** The unit of the newest reading that has one. */
function unitOf(points: { point: HistoryPoint }[]): { unit?: string } {
  const unit = points.findLast(({ point }) => point.unit !== undefined)?.point.unit;
  return unit === undefined ? {} : { unit };
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
