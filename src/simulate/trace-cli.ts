import { readFile, writeFile } from "node:fs/promises";
import { DateTime, IANAZone } from "luxon";
import type { CliIo } from "../kit/cli-io.js";
import { parseFlagsAndWords, UsageError } from "../kit/flags.js";
import { plural } from "../kit/plural.js";
import { parseRouterLog, routerTraceCsv } from "./router-log.js";

export const TRACE_USAGE = `usage:
  autoscalebot trace <log-file>... [--out trace.csv] [--year YYYY] [--zone ZONE]

Reads Heroku router log lines (as \`heroku logs\` prints them, or as a syslog drain such as
Papertrail writes them) and writes a per-minute CSV that \`simulate --trace\` reads:
timestamp,requests,service_p50_ms,service_p95_ms,h12. Lines of other sources are skipped;
router lines that cannot be read are counted, with the first one shown.

  --out       the CSV file (default: stdout)
  --year      the year of syslog lines, which carry none (default: this year)
  --zone      the zone of syslog lines' times (default UTC)`;

/** `autoscalebot trace`: exit 0 written, 2 bad usage, unreadable files or no router line. */
export async function runTraceCommand(args: string[], io: CliIo, now = Date.now()): Promise<number> {
  try {
    const { flags: opts, words: files } = parseFlagsAndWords(args, {
      out: { type: "string", short: "o" },
      year: { type: "string" },
      zone: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (opts.help) {
      io.out(TRACE_USAGE);
      return 0;
    }
    if (files.length === 0) throw new UsageError("name at least one log file");
    const zone = opts.zone ?? "UTC";
    if (!IANAZone.isValidZone(zone))
      throw new UsageError(`--zone expects an IANA time zone, got ${JSON.stringify(zone)}`);
    const year = opts.year === undefined ? DateTime.fromMillis(now, { zone }).year : Number(opts.year);
    if (!Number.isInteger(year) || year < 1970 || year > 9999)
      throw new UsageError("--year expects a year such as 2026");
    let text = "";
    for (const file of files) {
      try {
        text += (await readFile(file, "utf8")) + "\n";
      } catch (error) {
        io.err(`${file}: cannot read it: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        return 2;
      }
    }
    const log = parseRouterLog(text, { year, zone });
    // What was and was not read goes to stderr, so stdout can hold the CSV.
    const say = opts.out ? io.out : io.err;
    if (log.unreadable > 0)
      say(`${plural(log.unreadable, "router line")} could not be read; the first: ${log.firstUnreadable}`);
    if (log.routerLines === 0) {
      io.err(`no Heroku router line in ${files.join(", ")}`);
      return 2;
    }
    const csv = routerTraceCsv(log.minutes);
    const first = new Date(log.minutes[0]!.ms).toISOString();
    const last = new Date(log.minutes.at(-1)!.ms).toISOString();
    const read = `${plural(log.routerLines, "router line")} into ${plural(log.minutes.length, "minute")} (${first} to ${last}); ${plural(log.otherLines, "line")} of other sources skipped`;
    if (opts.out) {
      await writeFile(opts.out, csv);
      io.out(`${read}; written to ${opts.out}`);
    } else {
      io.err(read);
      io.out(csv.trimEnd());
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${TRACE_USAGE}`);
      return 2;
    }
    throw error;
  }
}
