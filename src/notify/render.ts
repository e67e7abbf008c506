/**
 * Human text for events, shared by the email and webhook notifiers: what happened, why (the reason and
 * the recent readings) and what to do (the advice). Everything here may carry text from apps and APIs
 * (error messages, reasons), so the HTML form escapes every value and the subject is kept to one line.
 */
import type { Unit } from "../measure/index.js";
import type { AutoscaleEvent, EventKind } from "./events.js";
import { plural } from "../kit/plural.js";

/** One event, formatted but not yet marked up: the common ground of text, HTML and Slack. */
export interface EventView {
  /** One line, e.g. "web: scaled 1 → 2" or "resolved: web: above-max". */
  headline: string;
  /** What happened (the event's sentence). */
  what: string;
  /** Why, when the decision gave a reason. */
  why?: string;
  /** The platform's or the measurement's error, as "id: message". */
  error?: string;
  /** The value measured this tick, e.g. "350 ms", when there are no readings to show it. */
  value?: string;
  /** The most recent readings, oldest first, with units. */
  readings: Array<{ at: string; value: string }>;
  /** How many older readings were left out to keep the message short. */
  omittedReadings: number;
  /** What an admin can do about it. */
  advice?: string;
  tickId: string;
  at: string;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

/** Enough to see a trend; a long history belongs in the logs, not in a message. */
export const MAX_READINGS = 20;
const MAX_SUBJECT = 200;

/** Most urgent first: the subject of a grouped message names the most urgent event. */
const SEVERITY: readonly EventKind[] = [
  "scale-failed",
  "measurement-failed",
  "fail-safe",
  "above-max",
  "dyno-limit",
  "too-rapid",
  "below-min",
  "manual-scale",
  "scale-down-held-busy",
  "pause",
  "resume",
  "scale",
  "measurement",
];

/** Collapses line breaks and runs of blanks, so an API's text cannot add lines to a subject or headline. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

export function formatValue(value: number | null | undefined, unit: Unit | undefined): string {
  if (value === null || value === undefined) return "no reading";
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(1);
  if (unit === "ms") return `${shown} ms`;
  if (unit === "jobs") return plural(value, "job", "jobs", shown);
  return shown;
}

/** The clock time of an ISO timestamp (readings are minutes apart; the date is in the footer). */
function clockTime(iso: string): string {
  return /T(\d{2}:\d{2}:\d{2})/.exec(iso)?.[1] ?? iso;
}

function processes(n: number | undefined): string {
  return n === undefined ? "the limit of processes" : plural(n, "process", "processes");
}

function summary(event: AutoscaleEvent): string {
  const { from, to } = event;
  switch (event.kind) {
    case "scale":
      return `scaled ${from ?? "?"} → ${to ?? "?"}`;
    case "above-max":
      return `needs more than ${processes(to)} (above-max)`;
    case "below-min":
      return `could run fewer than ${processes(to)} (below-min)`;
    case "too-rapid":
      return "scaling too rapidly (too-rapid)";
    case "fail-safe":
      return to === undefined ? "fail-safe" : `fail-safe: scaling to ${to}`;
    case "scale-failed":
      return `scaling ${to === undefined ? "" : `to ${to} `}failed${event.error ? ` (${event.error.id})` : ""}`;
    case "measurement-failed":
      return "measurement failing (measurement-failed)";
    case "measurement":
      return event.value === null ? "measurement failed" : `measured ${formatValue(event.value, event.unit)}`;
    case "pause":
      return `paused${to === undefined ? "" : ` at ${processes(to)}`}${event.until ? ` until ${event.until}` : ""}`;
    case "resume":
      return event.by === "expired" ? "resumed (the pause ended)" : "resumed";
    case "manual-scale":
      return `scaled by hand ${from ?? "?"} → ${to ?? "?"}`;
    case "dyno-limit":
      return `held at the platform's limit of ${processes(to)} (dyno-limit)`;
    case "scale-down-held-busy":
      return "scale-down held: jobs in progress (scale-down-held-busy)";
  }
}

export function headline(event: AutoscaleEvent): string {
  const line = oneLine(`${event.process}: ${summary(event)}`);
  if (event.phase === "resolved") return oneLine(`resolved: ${event.process}: ${event.kind}`);
  if (event.phase === "repeated") return `ongoing: ${line}`;
  return line;
}

export function describeEvent(event: AutoscaleEvent): EventView {
  const all = event.readings ?? [];
  const recent = all.slice(-MAX_READINGS);
  const view: EventView = {
    headline: headline(event),
    what: event.message,
    readings: recent.map((r) => ({ at: clockTime(r.at), value: formatValue(r.value, event.unit) })),
    omittedReadings: all.length - recent.length,
    tickId: event.tickId,
    at: event.at,
  };
  if (event.reason) view.why = event.reason;
  if (event.error) view.error = `${event.error.id}: ${event.error.message}`;
  if (all.length === 0 && event.value !== undefined) view.value = formatValue(event.value, event.unit);
  if (event.advice) view.advice = event.advice;
  return view;
}

/** Most urgent first, in a stable order; resolved conditions after the ones still going on. */
export function byUrgency(events: readonly AutoscaleEvent[]): AutoscaleEvent[] {
  const rank = (e: AutoscaleEvent) =>
    SEVERITY.indexOf(e.kind) + (e.phase === "resolved" ? SEVERITY.length : 0);
  return [...events].sort((a, b) => rank(a) - rank(b));
}

/** One line for a whole send: the most urgent event's headline, and how many more there are. */
export function subjectLine(events: readonly AutoscaleEvent[], prefix = "[autoscalebot]"): string {
  const [first] = byUrgency(events);
  const main = first ? headline(first) : "no events";
  const more = events.length > 1 ? ` (+${events.length - 1} more)` : "";
  const subject = oneLine(`${prefix} ${main}${more}`);
  return subject.length > MAX_SUBJECT ? `${subject.slice(0, MAX_SUBJECT - 1)}…` : subject;
}

/** "tick X at T", or one line per tick when a send spans several. */
export function tickLines(events: readonly AutoscaleEvent[]): string[] {
  const seen = new Map<string, string>();
  for (const e of events) if (!seen.has(e.tickId)) seen.set(e.tickId, e.at);
  return [...seen].map(([tickId, at]) => `tick ${tickId} at ${at}`);
}

export function renderText(events: readonly AutoscaleEvent[]): string {
  const sorted = byUrgency(events);
  const sections = sorted.map((event, i) => {
    const v = describeEvent(event);
    const lines = [sorted.length > 1 ? `${i + 1}. ${v.headline}` : v.headline, ""];
    lines.push(`What happened: ${v.what}`);
    if (v.why) lines.push(`Why: ${v.why}`);
    if (v.error) lines.push(`Error: ${v.error}`);
    if (v.value) lines.push(`Value: ${v.value}`);
    if (v.readings.length > 0) {
      const older =
        v.omittedReadings > 0 ? ` (last ${v.readings.length}; ${v.omittedReadings} older not shown)` : "";
      lines.push(`Recent readings, oldest first${older}:`);
      for (const r of v.readings) lines.push(`  ${r.at}  ${r.value}`);
    }
    if (v.advice) lines.push(`What to do: ${v.advice}`);
    return lines.join("\n");
  });
  return [...sections, ["--", "autoscalebot", ...tickLines(events)].join("\n")].join("\n\n") + "\n";
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const row = (label: string, value: string) =>
  `<p style="margin:4px 0"><strong>${label}:</strong> ${escapeHtml(value)}</p>`;

function eventHtml(v: EventView): string {
  const parts = [`<h2 style="font-size:16px;margin:16px 0 8px">${escapeHtml(v.headline)}</h2>`];
  parts.push(row("What happened", v.what));
  if (v.why) parts.push(row("Why", v.why));
  if (v.error) parts.push(row("Error", v.error));
  if (v.value) parts.push(row("Value", v.value));
  if (v.readings.length > 0) {
    const older = v.omittedReadings > 0 ? ` (${v.omittedReadings} older not shown)` : "";
    const cells = v.readings
      .map(
        (r) =>
          `<tr><td style="padding:2px 12px 2px 0">${escapeHtml(r.at)}</td>` +
          `<td style="padding:2px 0;text-align:right">${escapeHtml(r.value)}</td></tr>`,
      )
      .join("");
    parts.push(
      `<p style="margin:8px 0 4px"><strong>Recent readings</strong>, oldest first${older}:</p>` +
        `<table style="border-collapse:collapse;font-family:monospace">${cells}</table>`,
    );
  }
  if (v.advice) parts.push(row("What to do", v.advice));
  return parts.join("\n");
}

export function renderHtml(events: readonly AutoscaleEvent[]): string {
  const body = byUrgency(events).map((event) => eventHtml(describeEvent(event)));
  const footer = tickLines(events)
    .map((line) => escapeHtml(line))
    .join("<br>");
  return [
    "<!doctype html>",
    '<html><body style="font-family:sans-serif;font-size:14px;color:#222">',
    ...body,
    `<p style="margin-top:24px;color:#777;font-size:12px">autoscalebot<br>${footer}</p>`,
    "</body></html>",
  ].join("\n");
}

/** Subject, text and HTML for one message about all the events of one send. */
export function renderMessage(events: readonly AutoscaleEvent[], subjectPrefix?: string): RenderedMessage {
  return { subject: subjectLine(events, subjectPrefix), text: renderText(events), html: renderHtml(events) };
}
