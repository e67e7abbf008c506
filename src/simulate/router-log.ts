import { DateTime } from "luxon";
import { SERVICE_P50 } from "./trace.js";

/**
 * Heroku router log lines → a per-minute trace the simulator reads (`simulate --trace`). Two
 * line shapes, as `heroku logs` and a syslog drain (Papertrail) print them:
 *
 *   2012-10-11T03:47:20+00:00 heroku[router]: at=info method=GET ... service=18ms status=200
 *   Apr 30 05:56:35 app-name heroku/router: at=error code=H12 ... service=30000ms status=503
 *
 * A syslog line has no year and no zone: they come from `year` and `zone`. Lines of other
 * sources (`app[web.1]`, `heroku[web.1]`) are counted and skipped; a router line that cannot be
 * read is counted with the first such line as an example, never guessed at.
 */
export interface RouterMinute {
  /** Epoch ms of the minute's start. */
  ms: number;
  requests: number;
  /** Service times in ms of the minute's requests. */
  service: number[];
  h12: number;
}

export interface RouterLogSummary {
  minutes: RouterMinute[];
  routerLines: number;
  otherLines: number;
  unreadable: number;
  firstUnreadable?: string;
}

const HEROKU_LOGS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))\s+(\S+?):\s(.*)$/;
const SYSLOG = /^([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d\d:\d\d:\d\d)\s+\S+\s+(\S+?):\s(.*)$/;
const ROUTER = /^heroku[[/]router\]?$/;
const FIELD = /(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g;

function fields(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [, key, value] of message.matchAll(FIELD)) out.set(key!, value!.replace(/^"|"$/g, ""));
  return out;
}

type Line = { kind: "router"; ms: number; message: string } | { kind: "other" } | { kind: "unreadable" };

function classify(line: string, year: number, zone: string): Line {
  const heroku = HEROKU_LOGS.exec(line);
  if (heroku) {
    if (!ROUTER.test(heroku[2]!)) return { kind: "other" };
    const ms = Date.parse(heroku[1]!);
    return Number.isFinite(ms) ? { kind: "router", ms, message: heroku[3]! } : { kind: "unreadable" };
  }
  const syslog = SYSLOG.exec(line);
  if (syslog) {
    if (!ROUTER.test(syslog[4]!)) return { kind: "other" };
    const at = DateTime.fromFormat(`${year} ${syslog[1]} ${syslog[2]} ${syslog[3]}`, "yyyy LLL d HH:mm:ss", {
      zone,
    });
    return at.isValid ? { kind: "router", ms: at.toMillis(), message: syslog[5]! } : { kind: "unreadable" };
  }
  return line.includes("router") ? { kind: "unreadable" } : { kind: "other" };
}

/** The router lines of `text`, minute by minute, with every minute between the first and last. */
export function parseRouterLog(text: string, options: { year: number; zone: string }): RouterLogSummary {
  const byMinute = new Map<number, RouterMinute>();
  const summary: RouterLogSummary = { minutes: [], routerLines: 0, otherLines: 0, unreadable: 0 };
  const unreadable = (line: string) => {
    summary.unreadable++;
    summary.firstUnreadable ??= line;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const parsed = classify(line, options.year, options.zone);
    if (parsed.kind === "other") {
      summary.otherLines++;
      continue;
    }
    if (parsed.kind === "unreadable") {
      unreadable(line);
      continue;
    }
    const f = fields(parsed.message);
    const service = /^(\d+(?:\.\d+)?)ms$/.exec(f.get("service") ?? "");
    if (!f.has("status") || (!service && f.get("code") === undefined)) {
      unreadable(line);
      continue;
    }
    summary.routerLines++;
    const ms = Math.floor(parsed.ms / 60_000) * 60_000;
    const minute = byMinute.get(ms) ?? { ms, requests: 0, service: [], h12: 0 };
    minute.requests++;
    if (service) minute.service.push(Number(service[1]));
    if (f.get("code") === "H12") minute.h12++;
    byMinute.set(ms, minute);
  }
  const times = [...byMinute.keys()].sort((a, b) => a - b);
  if (times.length > 0)
    for (let ms = times[0]!; ms <= times.at(-1)!; ms += 60_000)
      summary.minutes.push(byMinute.get(ms) ?? { ms, requests: 0, service: [], h12: 0 });
  return summary;
}

/** The q-quantile of sorted values (nearest rank), or empty. */
function quantile(sorted: number[], q: number): string {
  if (sorted.length === 0) return "";
  return String(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
}

/** The trace CSV: `timestamp,requests` first (what `simulate --trace` reads), then the minute's service p50/p95 and H12s. */
export function routerTraceCsv(minutes: RouterMinute[]): string {
  const rows = [`timestamp,requests,${SERVICE_P50},service_p95_ms,h12`];
  for (const m of minutes) {
    const sorted = [...m.service].sort((a, b) => a - b);
    rows.push(
      [new Date(m.ms).toISOString(), m.requests, quantile(sorted, 0.5), quantile(sorted, 0.95), m.h12].join(
        ",",
      ),
    );
  }
  return rows.join("\n") + "\n";
}
