import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/kit/cli-io.js";
import { parseRouterLog, routerTraceCsv } from "../../src/simulate/router-log.js";

const SHARED = fileURLToPath(new URL("../../../shared/heroku/router-log-examples.txt", import.meta.url));
const EXAMPLES = fileURLToPath(new URL("../../src/simulate/examples/", import.meta.url));
/** `simulate` of the example threshold policy on a trace, with further arguments. */
const simulateThreshold = (trace: string, ...args: string[]) =>
  run(["simulate", "--trace", trace, "--config", join(EXAMPLES, "threshold.json"), ...args]);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "autoscalebot-trace-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env: {}, out: (t) => out.push(t), err: (t) => err.push(t), onStop: () => {} };
  const code = await main(args, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Two minutes of `heroku logs` lines, with an H12, an app line and a router line cut short. */
function generated(): string {
  const lines: string[] = [];
  const at = (s: number) => new Date(Date.parse("2026-03-02T08:00:00Z") + s * 1000).toISOString();
  for (let i = 0; i < 10; i++)
    lines.push(
      `${at(i * 5)} heroku[router]: at=info method=GET path="/" host=app.herokuapp.com request_id=r${i} fwd="1.2.3.4" dyno=web.${1 + (i % 2)} connect=0ms service=${(i + 1) * 10}ms status=200 bytes=10 protocol=https`,
    );
  lines.push(`${at(61)} app[web.1]: Completed 200 OK in 12ms`);
  lines.push(
    `${at(62)} heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/slow" host=app.herokuapp.com dyno=web.1 connect=1ms service=30000ms status=503 bytes=0`,
  );
  lines.push(`${at(63)} heroku[router]: at=info method=GET path="/" host=app`);
  // Minute 2 has no line: zero requests. Minute 3 has one.
  lines.push(
    `${at(185)} heroku[router]: at=info method=POST path="/x" host=app.herokuapp.com dyno=web.2 connect=0ms service=7ms status=201 bytes=5`,
  );
  return lines.join("\n");
}

describe("router logs into a trace", () => {
  it("counts each minute's requests, service p50/p95 and H12s, and says what it could not read", () => {
    const log = parseRouterLog(generated(), { year: 2026, zone: "UTC" });
    expect(log).toMatchObject({ routerLines: 12, otherLines: 1, unreadable: 1 });
    expect(log.firstUnreadable).toContain('path="/" host=app');
    expect(routerTraceCsv(log.minutes).trim().split("\n")).toEqual([
      "timestamp,requests,service_p50_ms,service_p95_ms,h12",
      "2026-03-02T08:00:00.000Z,10,50,100,0",
      "2026-03-02T08:01:00.000Z,1,30000,30000,1",
      "2026-03-02T08:02:00.000Z,0,,,0",
      "2026-03-02T08:03:00.000Z,1,7,7,0",
    ]);
  });

  it("reads syslog (Papertrail) lines in the year and zone given", () => {
    const line =
      'Apr 30 05:56:35 my-app heroku/router: at=info method=GET path="/" host=x request_id=a fwd="1.1.1.1" dyno=web.1 connect=0ms service=2ms status=200 bytes=358 protocol=https';
    const log = parseRouterLog(line, { year: 2018, zone: "Europe/Paris" });
    expect(log.minutes).toEqual([
      { ms: Date.parse("2018-04-30T03:56:00Z"), requests: 1, service: [2], h12: 0 },
    ]);
  });

  it.skipIf(!existsSync(SHARED))("reads every router line of the shared examples", async () => {
    const log = parseRouterLog(await readFile(SHARED, "utf8"), { year: 2018, zone: "UTC" });
    expect(log.unreadable).toBe(0);
    expect(log.routerLines).toBeGreaterThanOrEqual(5);
  });

  it("`trace` writes the CSV that `simulate --trace` replays", async () => {
    const logs = join(dir, "router.log");
    await writeFile(logs, generated());
    const csv = join(dir, "trace.csv");
    const made = await run(["trace", logs, "--out", csv]);
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/^1 router line could not be read; the first: /);
    expect(made.out).toContain(
      "12 router lines into 4 minutes (2026-03-02T08:00:00.000Z to 2026-03-02T08:03:00.000Z)",
    );
    const simulated = await simulateThreshold(csv, "--json");
    expect(simulated.code, simulated.err).toBe(0);
    expect(JSON.parse(simulated.out)).toMatchObject({ trace: { minutes: 4 } });
    // The model's service time from the trace: the median of the minutes' p50s (50, 30000, 7).
    const fromTrace = await simulateThreshold(csv, "--service-time", "trace");
    expect(fromTrace.code, fromTrace.err).toBe(0);
    expect(fromTrace.out).toContain("1,200 requests/min per process, 50 ms service");
    const noColumn = join(dir, "plain.csv");
    await writeFile(noColumn, "timestamp,requests\n2026-03-02T08:00:00Z,10\n");
    expect(await simulateThreshold(noColumn, "--service-time", "trace")).toMatchObject({
      code: 2,
      err: expect.stringContaining("has no service_p50_ms column") as unknown,
    });
    expect(await simulateThreshold(csv, "--service-time", "900")).toMatchObject({
      code: 2,
      err: expect.stringContaining("--service-time 900 ms") as unknown,
    });
    expect((await run(["trace", join(dir, "none.log")])).code).toBe(2);
    await writeFile(join(dir, "empty.log"), "app[web.1]: hello\n");
    expect(await run(["trace", join(dir, "empty.log")])).toMatchObject({
      code: 2,
      err: expect.stringContaining("no Heroku router line") as unknown,
    });
  });
});
