import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { FileStateStore } from "../../src/state/index.js";
import type { CliIo } from "../../src/kit/cli-io.js";
import { recordOutput } from "../helpers/planted.js";
import { APP, startWorld, type World } from "../helpers/world.js";

let world: World;
let dir: string;
let configPath: string;
/** Every event is sent, to the notifiers that write lines. */
let notifyingPath: string;

/** The web process of the tests' configuration, with `notification` in place of the memory notifier. */
function webConfig(notification: Record<string, unknown> = { backends: ["memory"] }) {
  return {
    processes: {
      web: {
        measurement: {
          backend: "response-time",
          url: `http://user:hunter2@${world.targets.web!.url.slice(7)}/hb?token=abc`,
        },
        decision: { failsToScaleUp: 1 },
        scaling: { backend: "heroku", app: APP },
        notification,
      },
    },
  };
}

beforeAll(async () => {
  world = await startWorld(["web"]);
  dir = await mkdtemp(join(tmpdir(), "autoscalebot-cli-"));
  configPath = join(dir, "config.json");
  await writeFile(configPath, JSON.stringify(webConfig()));
  notifyingPath = join(dir, "notifying.json");
  await writeFile(
    notifyingPath,
    JSON.stringify(webConfig({ backends: ["console", "log"], notifyOn: ["measurement"] })),
  );
});
afterAll(async () => {
  await world.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(
  args: string[],
  env: Record<string, string | undefined> = {},
  onStop: CliIo["onStop"] = () => {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env: { ...world.env, AUTOSCALE_STATE_DIR: join(dir, "state"), ...env },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    onStop,
  };
  const code = await main(args, io);
  // Checked for planted secrets like the console (test/setup/no-planted-secrets.ts).
  recordOutput([...out, ...err].join("\n"));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("autoscalebot help", () => {
  it.each([["--help"], ["-h"], ["help"]])("%s prints the usage on stdout and exits 0", async (word) => {
    const { code, out, err } = await run([word]);
    expect(code).toBe(0);
    expect(err).toBe("");
    for (const command of ["tick", "validate", "run", "demo", "simulate", "help"])
      expect(out).toContain(`autoscalebot ${command}`);
  });

  it.each(["tick", "validate", "run", "pause", "resume", "demo", "simulate"])(
    "%s --help, -h and help %s print that command's usage and exit 0",
    async (command) => {
      for (const args of [
        [command, "--help"],
        [command, "-h"],
        ["help", command],
        ["--help", command],
      ]) {
        const { code, out, err } = await run(args);
        expect({ args, code, err }).toEqual({ args, code: 0, err: "" });
        expect(out).toMatch(new RegExp(`^usage:\\s+autoscalebot ${command}\\b`));
      }
    },
  );

  it("names the flags a command takes", async () => {
    expect((await run(["run", "--help"])).out).toMatch(/--interval {2}seconds between ticks/);
    expect((await run(["tick", "--help"])).out).toMatch(/--json .*notifier lines go to stderr/);
  });

  it("without a command, prints the usage on stderr and exits 2", async () => {
    const { code, out, err } = await run([]);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toMatch(/^usage:\n {2}autoscalebot tick /);
  });

  it("refuses help for an unknown command, and a command's foreign flags, with that command's usage", async () => {
    expect(await run(["help", "frobnicate"])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^unknown command "frobnicate"/) as unknown,
    });
    const { code, err } = await run(["validate", "--json"]);
    expect(code).toBe(2);
    expect(err).toMatch(/Unknown option '--json'[\s\S]*usage: autoscalebot validate /);
  });
});

describe("autoscalebot validate", () => {
  it("prints the effective config with defaults, secrets redacted", async () => {
    const { code, out } = await run(["validate", "--config", configPath]);
    expect(code).toBe(0);
    const config = JSON.parse(out) as {
      processes: { web: { decision: Record<string, unknown>; measurement: { url: string } } };
    };
    expect(config.processes.web.decision).toMatchObject({
      backend: "consecutive-threshold",
      maxMeasurement: 1200,
      historyLength: 10,
    });
    expect(out).not.toContain("hunter2");
    expect(config.processes.web.measurement.url).toContain("token=[redacted]");
  });

  it("lists every error with its path and exits 2", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(
      bad,
      JSON.stringify({
        processes: {
          web: {
            measurement: { backend: "response-time", url: "x" },
            decision: { maxProcesses: 0 },
            scaling: { backend: "heroku", app: APP },
          },
        },
        extra: 1,
      }),
    );
    const { code, err } = await run(["validate", "--config", bad]);
    expect(code).toBe(2);
    expect(err).toContain("processes.web.decision.maxProcesses: expected integer >= 1");
    expect(err).toContain("processes.web.measurement.url: expected an http(s) URL");
    expect(err).toContain("extra: unknown setting");
  });

  it("refuses a cron expression that is not five fields, by its path", async () => {
    const crons = join(dir, "crons.json");
    const config = webConfig();
    Object.assign(config.processes.web.decision, { schedule: [{ cron: "0 0 7 * * *", processes: 2 }] });
    await writeFile(crons, JSON.stringify(config));
    const { code, err } = await run(["validate", "--config", crons]);
    expect(code).toBe(2);
    expect(err).toContain(
      "processes.web.decision.schedule.0.cron: invalid cron expression: expected five fields (minute hour day-of-month month day-of-week), got 6",
    );
  });

  it("reports unreadable and non-JSON files as config errors", async () => {
    expect((await run(["validate", "--config", join(dir, "missing.json")])).err).toMatch(
      /cannot read the file: ENOENT/,
    );
    const notJson = join(dir, "not.json");
    await writeFile(notJson, "{");
    expect(await run(["validate", "--config", notJson])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/not valid JSON/) as unknown,
    });
  });

  it("without --config, names a mistyped AUTOSCALE_* variable rather than asking for --config", async () => {
    const { code, err } = await run(["validate"], { AUTOSCALE_MAX_DYNS: "5" });
    expect(code).toBe(2);
    expect(err).toContain("AUTOSCALE_MAX_DYNS: unknown variable (did you mean AUTOSCALE_MAX_DYNOS?)");
    expect(err).toContain("AUTOSCALE_HEROKU_APP_NAME: required");
    expect(err).not.toContain("--config");
  });

  it("warns when the API key variable is not set", async () => {
    const { code, err } = await run(["validate", "--config", configPath], { HEROKU_API_KEY: undefined });
    expect(code).toBe(0);
    expect(err).toMatch(/HEROKU_API_KEY is not set/);
  });
});

describe("autoscalebot tick", () => {
  it("ticks with the file store and prints the JSON report", async () => {
    const { code, out } = await run(["tick", "--config", configPath, "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ store: "file", processes: [{ process: "web", status: "held" }] });
    expect(out).not.toContain(world.apiKey);
  });

  it("--json prints one JSON document on stdout, the notifiers' lines on stderr", async () => {
    const { code, out, err } = await run(["tick", "--config", notifyingPath, "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ processes: [{ process: "web", notified: ["measurement"] }] });
    const lines = err.split("\n");
    expect(lines).toEqual([
      expect.stringMatching(/^\[autoscalebot\] \S+ web measurement: response-time measured \d+ ms$/),
      expect.stringMatching(/^\{"level":"info","event":"measurement"/),
    ]);
  });

  it("without --json, the notifiers' lines go to stdout before the summary", async () => {
    const { code, out, err } = await run(["tick", "--config", notifyingPath]);
    expect(code).toBe(0);
    expect(err).toBe("");
    expect(out).toMatch(/^\[autoscalebot\] .* web measurement: [\s\S]*\ntick \S+ .*\n {2}web: held/);
  });

  it("prints a human summary, and --dry-run does not scale", async () => {
    world.targets.web!.set({ status: 500 });
    try {
      const { code, out } = await run(["tick", "--config", configPath, "--dry-run", "--process", "web"]);
      expect(code).toBe(0);
      expect(out).toMatch(/dry run/);
      expect(out).toMatch(/web: would-scale/);
      expect(world.heroku.quantity(APP, "web")).toBe(1);
    } finally {
      world.targets.web!.set({ status: 200 });
    }
  });

  it("the bundled config's first dry run says what to change, not that the platform failed", async () => {
    const bundled = fileURLToPath(new URL("../../autoscale.config.json", import.meta.url));
    const { code, out, err } = await run(["tick", "--config", bundled, "--dry-run"], {
      HEROKU_API_KEY: undefined,
      HEROKU_API_URL: undefined,
    });
    expect(code).toBe(1);
    expect(out).toContain("error missing_api_key: HEROKU_API_KEY is not set");
    expect(out).toContain("what to do: set HEROKU_API_KEY to a Heroku API key");
    expect(err).toContain(
      "warning: processes.web.measurement.url: example.com is an example address; set your app's own",
    );
    expect(out + err).not.toContain("scale-failed");
  });

  it("exits 1 when a process fails and 2 for usage errors", async () => {
    expect((await run(["tick", "--config", configPath], { HEROKU_API_KEY: "wrong" })).code).toBe(1);
    expect((await run(["tick"])).code).toBe(2);
    expect((await run(["tick", "--config", configPath, "--process", "nope"])).err).toMatch(
      /unknown process "nope"/,
    );
    expect(await run(["frobnicate"])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^unknown command "frobnicate"\n/) as unknown,
    });
    expect((await run(["tik"])).err).toMatch(/^unknown command "tik" \(did you mean tick\?\)/);
    expect((await run(["tick", "--bogus"])).code).toBe(2);
  });

  it("exits 3 when another tick holds the lock", async () => {
    const store = new FileStateStore({ dir: join(dir, "state"), keyPrefix: "autoscalebot" });
    const lock = await store.acquireLock(60_000);
    expect(lock).not.toBeNull();
    try {
      const { code, out } = await run(["tick", "--config", configPath]);
      expect(code).toBe(3);
      expect(out).toContain("skipped, another tick holds the lock");
    } finally {
      await lock!.release();
    }
  });

  it("refuses the file store on Netlify", async () => {
    const { code, err } = await run(["tick", "--config", configPath], { CONTEXT: "production" });
    expect(code).toBe(2);
    expect(err).toMatch(/must be set on Netlify/);
  });
});

describe("autoscalebot status", () => {
  it("shows what the ticks recorded, as text or JSON, from the configured store", async () => {
    const statusConfig = join(dir, "status.json");
    await writeFile(statusConfig, JSON.stringify({ ...webConfig(), keyPrefix: "status-test" }));
    expect((await run(["tick", "--config", statusConfig])).code).toBe(0);
    const json = await run(["status", "--config", statusConfig, "--json", "--range", "1h"]);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.out) as { processes: Array<{ process: string; series: unknown[] }> };
    expect(status.processes).toEqual([expect.objectContaining({ process: "web" })]);
    expect(status.processes[0]!.series).toHaveLength(1);
    const text = await run(["status", "--config", statusConfig]);
    expect(text.out).toMatch(/^status over 24h/);
    expect(text.out).toMatch(/ {2}web: 1 process \[1-3\] \| \d+ ms \| last tick /);
    const bad = await run(["status", "--config", statusConfig, "--range", "2h"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--range expects one of 1h, 24h, 7d");
  });
});

describe("autoscalebot dashboard", () => {
  it("serves the page and the status API from the configured store until stopped", async () => {
    const dashConfig = join(dir, "dashboard.json");
    await writeFile(dashConfig, JSON.stringify({ ...webConfig(), keyPrefix: "dashboard-test" }));
    expect((await run(["tick", "--config", dashConfig])).code).toBe(0);
    const lines: string[] = [];
    let stop = () => {};
    const io: CliIo = {
      env: { ...world.env, AUTOSCALE_STATE_DIR: join(dir, "state"), AUTOSCALE_STATUS_TOKEN: "dash-token" },
      out: (t) => lines.push(t),
      err: (t) => lines.push(t),
      onStop: (s) => (stop = s),
    };
    const serving = main(["dashboard", "--config", dashConfig, "--port", "0"], io);
    while (lines.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const url = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/) \(the page asks for AUTOSCALE_STATUS_TOKEN\)/.exec(
      lines[0]!,
    )?.[1];
    expect(url, lines[0]).toBeDefined();
    expect(lines[0]).not.toContain("dash-token");
    const page = await fetch(url!);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain('<script src="assets/dashboard.js"></script>');
    expect((await fetch(`${url}assets/dashboard.js`)).status).toBe(200);
    expect((await fetch(`${url}assets/../../package.json`)).status).toBe(404);
    expect((await fetch(`${url}api/status`)).status).toBe(401);
    const status = await fetch(`${url}api/status?range=1h`, {
      headers: { Authorization: "Bearer dash-token" },
    });
    expect(await status.json()).toMatchObject({ processes: [{ process: "web", current: 1 }] });
    stop();
    expect(await serving).toBe(0);
    expect(lines.at(-1)).toBe("stopped");
  });

  it("rejects a bad port", async () => {
    const { code, err } = await run(["dashboard", "--config", configPath, "--port", "http"]);
    expect(code).toBe(2);
    expect(err).toContain("--port expects a port number");
  });
});

describe("autoscalebot run", () => {
  it("ticks every interval until stopped, finishing the tick in progress", async () => {
    let stop = () => {};
    const ticksBefore = world.targets.web!.hits();
    world.targets.web!.set({ latencyMs: 200 });
    try {
      const running = run(["run", "--config", configPath, "--interval", "1"], {}, (s) => (stop = s));
      // Stop while the second tick's heartbeat is in flight: that tick must still complete.
      while (world.targets.web!.hits() - ticksBefore < 2)
        await new Promise((resolve) => setTimeout(resolve, 10));
      stop();
      const { code, out } = await running;
      expect(code).toBe(0);
      expect(out.match(/^tick /gm)).toHaveLength(2);
      expect(out.match(/web: held \| 2\d\d ms/g)).toHaveLength(2);
      expect(out.endsWith("stopped")).toBe(true);
      expect(world.targets.web!.hits() - ticksBefore).toBe(2);
    } finally {
      world.targets.web!.set({ latencyMs: 0 });
    }
  });

  it("--json keeps stdout to the reports, one JSON document per tick", async () => {
    let stop = () => {};
    const ticksBefore = world.targets.web!.hits();
    const running = run(
      ["run", "--config", notifyingPath, "--interval", "1", "--json"],
      {},
      (s) => (stop = s),
    );
    while (world.targets.web!.hits() === ticksBefore) await new Promise((resolve) => setTimeout(resolve, 10));
    stop();
    const { code, out, err } = await running;
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ processes: [{ process: "web" }] });
    expect(err).toMatch(/^\[autoscalebot\] .* web measurement: [\s\S]*\nstopped$/);
  });

  it("rejects a bad interval", async () => {
    expect((await run(["run", "--config", configPath, "--interval", "0"])).code).toBe(2);
  });
});

describe("autoscalebot pause and resume", () => {
  it("pause holds a process at a count, status shows it, resume hands it back; each exits 0", async () => {
    const steerConfig = join(dir, "steer.json");
    await writeFile(steerConfig, JSON.stringify({ ...webConfig(), keyPrefix: "steer-test" }));
    try {
      const paused = await run([
        "pause",
        "--process",
        "web",
        "--minutes",
        "10",
        "--processes",
        "2",
        "-c",
        steerConfig,
      ]);
      expect(paused).toMatchObject({ code: 0, err: "" });
      expect(paused.out).toMatch(
        /^paused web: the next tick scales it to 2 processes, then holds it there, until \d{4}-\d\d-\d\dT[\d:.]+Z$/,
      );
      const tick = await run(["tick", "--config", steerConfig]);
      expect(tick.out).toMatch(
        /web: scaled \| .* \| processes 1 -> 2 \| up to 2 \[1-3\]: paused at 2 processes/,
      );
      const status = await run(["status", "--config", steerConfig]);
      expect(status.out).toMatch(/\n {4}paused since \S+ by cli, held at 2 processes, until \S+Z/);

      const resumed = await run(["resume", "-p", "web", "--config", steerConfig]);
      expect(resumed).toMatchObject({ code: 0, err: "" });
      expect(resumed.out).toMatch(/^resumed web \(paused since \S+\): the next tick decides again$/);
      expect((await run(["status", "--config", steerConfig])).out).not.toContain("paused since");
      const again = await run(["resume", "--process", "web", "--config", steerConfig]);
      expect(again).toMatchObject({ code: 0, out: "web is not paused: nothing to resume" });
    } finally {
      world.heroku.setQuantity(APP, "web", 1);
    }
  });

  it("refuses a missing process, a bad count or minutes, and an unknown process with exit 2 and the usage", async () => {
    const missing = await run(["pause", "--config", configPath]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^--process is required\n\nusage: autoscalebot pause --process NAME/);
    const bad = await run(["pause", "-p", "web", "--minutes", "0", "--processes", "two", "-c", configPath]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /^--minutes: expected integer from 1 to 43200\n--processes: expected integer >= 0\n\nusage: autoscalebot pause /,
    );
    const unknown = await run(["resume", "--process", "nope", "--config", configPath]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^unknown process "nope"; configured: web\n\nusage: autoscalebot resume /);
  });

  it("both are in the usage, with their own help", async () => {
    const { out } = await run(["--help"]);
    expect(out).toContain("autoscalebot pause --process NAME [--minutes N] [--processes COUNT]");
    expect(out).toContain("autoscalebot resume --process NAME");
    expect((await run(["pause", "--help"])).out).toMatch(/--processes scale it to this count once/);
  });
});
