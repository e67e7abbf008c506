import type { ProcessStatus, Status } from "../engine/status.js";
import { colour, drawChart, type Chart, type ChartSpec, type Line } from "./chart.js";

/**
 * The dashboard (public/index.html): GET /api/status with the token, a section per process with
 * its measurement against the policy's band, its count against the bounds in force with each
 * scale marked, the scale events with their reasons and the notifications sent. It refreshes
 * every minute (or every `#refresh=N` seconds, which the demo uses).
 *
 * The token is entered once in the page or given as `/#token=...`: a fragment never leaves the
 * browser, so no server log sees it. It is kept in localStorage and sent only in the
 * Authorization header.
 */
const TOKEN_KEY = "autoscalebot.token";
const RANGE_KEY = "autoscalebot.range";
const RANGES = ["1h", "24h", "7d"] as const;

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

function fromFragment(): { token?: string; refresh?: number } {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token") ?? undefined;
  const refresh = Number(params.get("refresh"));
  if (token !== undefined) {
    // Out of the address bar and the history at once.
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return { ...(token ? { token } : {}), ...(refresh >= 1 ? { refresh } : {}) };
}

const element = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string } = {},
  children: Node[] = [],
): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  node.append(...children);
  return node;
};

/** A time as the configured zone reads it: "14:05" today, "Jul 13 14:05" before. */
function clock(at: string, zone: string): string {
  const date = new Date(at);
  const options: Intl.DateTimeFormatOptions = { timeZone: zone, hour: "2-digit", minute: "2-digit" };
  const day = (d: Date) => d.toLocaleDateString("en-US", { timeZone: zone });
  if (day(date) !== day(new Date()))
    Object.assign(options, { month: "short", day: "numeric" } satisfies Intl.DateTimeFormatOptions);
  return date.toLocaleString("en-US", { ...options, hourCycle: "h23" });
}

const seconds = (at: string) => Date.parse(at) / 1000;

function measurementSpec(p: ProcessStatus, zone: string): ChartSpec {
  const times = p.series.map((s) => seconds(s.at));
  const unit = p.band.unit ?? p.readings.at(-1)?.unit ?? "";
  const scale = (v: number, i: number) => (p.band.perProcess ? v * (p.series[i]!.current ?? 0) : v);
  const lines: Line[] = [
    { label: unit ? `reading (${unit})` : "reading", values: p.series.map((s) => s.value), color: colour(0) },
    {
      label: "high",
      values: p.series.map((_, i) => scale(p.band.high, i)),
      color: "#d55e0080",
      width: 1,
      dash: [4, 4],
    },
    {
      label: "low",
      values: p.series.map((_, i) => scale(p.band.low, i)),
      color: "#009e7380",
      width: 1,
      dash: [4, 4],
    },
  ];
  return {
    title: `${p.process}: measurement${unit ? ` (${unit})` : ""}, band where the policy holds`,
    times,
    lines,
    bands: [{ upper: 1, lower: 2, fill: "rgba(0, 158, 115, 0.10)" }],
    zone,
    group: "dashboard",
  };
}

function countSpec(p: ProcessStatus, zone: string): ChartSpec {
  const times = p.series.map((s) => seconds(s.at));
  const scaledAt = new Map(p.scales.map((s) => [seconds(s.at), s.to]));
  return {
    title: `${p.process}: processes, bounds in force shaded`,
    times,
    lines: [
      { label: "processes", values: p.series.map((s) => s.current), color: colour(0), width: 2, step: true },
      { label: "max", values: p.series.map((s) => s.max ?? null), color: "#7f7f7f80", width: 1, step: true },
      { label: "min", values: p.series.map((s) => s.min ?? null), color: "#7f7f7f80", width: 1, step: true },
      {
        label: "scale",
        values: times.map((t) => scaledAt.get(t) ?? null),
        color: colour(1),
        pointsOnly: true,
      },
    ],
    bands: [{ upper: 1, lower: 2, fill: "rgba(127, 127, 127, 0.12)" }],
    y: { format: (v) => (Number.isInteger(v) ? String(v) : "") },
    zone,
    group: "dashboard",
  };
}

function facts(p: ProcessStatus, zone: string): string {
  const reading = p.readings.at(-1);
  const shown = !reading
    ? "no reading yet"
    : reading.failed
      ? `last reading failed: ${reading.failed}`
      : `last reading ${reading.value} ${reading.unit ?? ""}`.trim();
  const count =
    p.current === null ? "count unknown" : `${p.current} ${p.current === 1 ? "process" : "processes"}`;
  const bounds = p.bounds ? `, bounds ${p.bounds.min}-${p.bounds.max}` : "";
  const last = p.lastTickAt ? `, last tick ${clock(p.lastTickAt, zone)}` : ", no tick yet";
  return `${count}${bounds}; ${shown}${last}`;
}

function list(items: string[], empty: string, className: string): HTMLElement {
  if (items.length === 0) return element("p", { className: `${className} none`, text: empty });
  return element(
    "ul",
    { className },
    items.map((text) => element("li", { text })),
  );
}

/** The process's section, made once; its charts and lists are refreshed in place. */
interface Section {
  root: HTMLElement;
  charts: Chart[];
}

function renderSection(section: Section | undefined, p: ProcessStatus, zone: string): Section {
  const root = section?.root ?? element("section", { className: "process" });
  root.dataset.process = p.process;
  const steering = [
    ...(p.paused
      ? [
          `paused${p.paused.processes !== undefined ? ` at ${p.paused.processes}` : ""} since ${clock(p.paused.since, zone)}` +
            (p.paused.until ? `, until ${clock(p.paused.until, zone)}` : ", until resumed"),
        ]
      : []),
    ...(p.override
      ? [`scaled by hand to ${p.override.count}: held until ${clock(p.override.until, zone)}`]
      : []),
  ].map((text) => element("span", { className: "badge steering", text }));
  const badges = [
    ...steering,
    ...p.openConditions.map((c) =>
      element("span", { className: "badge", text: `${c.kind} since ${clock(c.since, zone)}` }),
    ),
  ];
  const scales = p.scales
    .slice()
    .reverse()
    .map((s) => `${clock(s.at, zone)}  ${s.from} → ${s.to}${s.reason ? `  ${s.reason}` : ""}`);
  const notices = p.notifications
    .slice()
    .reverse()
    .map((n) => `${clock(n.at, zone)}  ${n.events.join(", ")}`);
  const header = [
    element("h2", { text: p.process }),
    element("p", { className: "facts", text: facts(p, zone) }),
  ];
  if (!section) {
    const measurement = element("div", { className: "chart measurement" });
    const count = element("div", { className: "chart count" });
    root.append(
      element("header"),
      measurement,
      count,
      element("h3", { text: "Scale events" }),
      element("div", { className: "scales-slot" }),
      element("h3", { text: "Notifications" }),
      element("div", { className: "notifications-slot" }),
    );
    $("#processes").append(root);
    section = {
      root,
      charts: [drawChart(measurement, measurementSpec(p, zone)), drawChart(count, countSpec(p, zone))],
    };
  } else {
    section.charts[0]!.update(measurementSpec(p, zone));
    section.charts[1]!.update(countSpec(p, zone));
  }
  root.querySelector("header")!.replaceChildren(...header, ...badges);
  root.querySelector(".scales-slot")!.replaceChildren(list(scales, "no scale in this range", "scales"));
  root
    .querySelector(".notifications-slot")!
    .replaceChildren(list(notices, "no notification in this range", "notifications"));
  return section;
}

const sections = new Map<string, Section>();

function render(status: Status): void {
  const seen = new Set<string>();
  for (const p of status.processes) {
    seen.add(p.process);
    sections.set(p.process, renderSection(sections.get(p.process), p, status.timezone));
  }
  for (const [name, section] of sections)
    if (!seen.has(name)) {
      section.charts.forEach((c) => c.destroy());
      section.root.remove();
      sections.delete(name);
    }
  $("#updated").textContent = `updated ${clock(status.generatedAt, status.timezone)} (${status.timezone})`;
}

function say(text: string, kind: "info" | "error" = "info"): void {
  const message = $("#message");
  message.textContent = text;
  message.className = kind;
  message.hidden = text === "";
}

function askForToken(why: string): void {
  $("#token-form").hidden = false;
  $("#token-error").textContent = why;
  $<HTMLInputElement>("#token").focus();
}

let range: (typeof RANGES)[number] = "24h";
/** The whole range as last drawn; refreshes ask only for what came after it. */
let shown: Status | null = null;

const RANGE_MS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000 } as const;

/** The newest tick drawn, from which the next refresh asks. */
function newestAt(status: Status): string | undefined {
  const times = status.processes.flatMap((p) => p.series.slice(-1).map((s) => s.at));
  return times.sort().at(-1);
}

/**
 * The whole range drawn before, with the ticks after it: null when they do not fit together (a
 * process came or went, or more ticks ran than were read), and the range is asked for again.
 */
function merge(old: Status, update: Status): Status | null {
  if (!update.complete || update.range !== old.range) return null;
  const names = (s: Status) => s.processes.map((p) => p.process).join("\n");
  if (names(old) !== names(update)) return null;
  const from = Date.parse(update.generatedAt) - RANGE_MS[update.range];
  const inRange = <T extends { at: string }>(items: T[]) => items.filter((i) => Date.parse(i.at) >= from);
  return {
    ...update,
    processes: update.processes.map((next, i) => {
      const before = old.processes[i]!;
      const ticked = next.lastTickAt !== null;
      return {
        ...next,
        current: ticked ? next.current : before.current,
        bounds: ticked ? next.bounds : before.bounds,
        lastTickAt: next.lastTickAt ?? before.lastTickAt,
        readings: [...before.readings, ...next.readings].slice(-10),
        series: inRange([...before.series, ...next.series]),
        scales: inRange([...before.scales, ...next.scales]),
        notifications: inRange([...before.notifications, ...next.notifications]),
      };
    }),
  };
}

async function refresh(): Promise<void> {
  const token = localStorage.getItem(TOKEN_KEY);
  const since = shown?.range === range ? newestAt(shown) : undefined;
  let response: Response;
  try {
    const query = `range=${range}${since ? `&since=${encodeURIComponent(since)}` : ""}`;
    response = await fetch(`api/status?${query}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      cache: "no-store",
    });
  } catch {
    say("the status endpoint did not answer; retrying", "error");
    return;
  }
  const body = (await response.json().catch(() => ({}))) as Status & { error?: string };
  if (response.status === 401) {
    localStorage.removeItem(TOKEN_KEY);
    askForToken(token ? "That token was refused." : "Enter the status token (AUTOSCALE_STATUS_TOKEN).");
    return;
  }
  if (!response.ok) {
    say(body.error ?? `status answered ${response.status}`, "error");
    return;
  }
  $("#token-form").hidden = true;
  const status = since && shown ? merge(shown, body) : body;
  if (!status) {
    shown = null;
    return refresh();
  }
  shown = status;
  say(status.processes.length === 0 ? "no process configured" : "");
  render(status);
}

function setRange(next: (typeof RANGES)[number]): void {
  range = next;
  localStorage.setItem(RANGE_KEY, next);
  shown = null;
  for (const button of document.querySelectorAll<HTMLButtonElement>("#ranges button"))
    button.setAttribute("aria-pressed", String(button.dataset.range === next));
  void refresh();
}

function start(): void {
  const fragment = fromFragment();
  if (fragment.token) localStorage.setItem(TOKEN_KEY, fragment.token);
  const stored = localStorage.getItem(RANGE_KEY);
  range = RANGES.find((r) => r === stored) ?? "24h";
  for (const button of document.querySelectorAll<HTMLButtonElement>("#ranges button")) {
    const value = RANGES.find((r) => r === button.dataset.range);
    if (value) button.addEventListener("click", () => setRange(value));
  }
  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>("#token");
    if (input.value.trim() === "") return;
    localStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = "";
    void refresh();
  });
  setRange(range);
  setInterval(() => void refresh(), (fragment.refresh ?? 60) * 1000);
}

start();
