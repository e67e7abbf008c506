import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { CliIo } from "../../src/kit/cli-io.js";
import type { SimulationReport } from "../../src/simulate/report.js";
import { runSimulate } from "../../src/simulate/cli.js";

const SHARED = fileURLToPath(new URL("../../../shared/traces/nasa-1995-07.csv", import.meta.url));
const EXAMPLES = fileURLToPath(new URL("../../src/simulate/examples/", import.meta.url));
if (!existsSync(SHARED))
  console.warn(
    `skipping the four-week NASA replay: ${SHARED} not found (../shared/traces beside the repository)`,
  );

let dir: string;
let configPath: string;
let csvPath: string;

const config = {
  timezone: "UTC",
  simulation: { capacityPerProcess: 1200, bootSeconds: 30, sloMs: 500, pricePerProcessHour: 0.05 },
  processes: {
    web: {
      measurement: { backend: "response-time", url: "https://example.com/heartbeat" },
      decision: {
        minMeasurement: 130,
        maxMeasurement: 250,
        failsToScaleUp: 1,
        passesToScaleDown: 3,
        maxProcesses: 8,
        postScaleWaitSeconds: 60,
      },
      scaling: { backend: "heroku", app: "sim-app" },
    },
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "autoscalebot-simulate-"));
  configPath = join(dir, "mine.json");
  await writeFile(configPath, JSON.stringify(config));
  // Two hours at 5-minute resolution: quiet, a spike, quiet; one sample missing.
  const start = Date.parse("2026-03-02T08:00:00Z");
  const rows = ["timestamp,value"];
  for (let i = 0; i < 24; i++) {
    if (i === 20) continue;
    const perMinute = i >= 8 && i < 14 ? 5000 : 800;
    rows.push(`${new Date(start + i * 300_000).toISOString()},${perMinute * 5}`);
  }
  csvPath = join(dir, "load.csv");
  await writeFile(csvPath, rows.join("\n"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env: {}, out: (t) => out.push(t), err: (t) => err.push(t), onStop: () => {} };
  const code = await runSimulate(args, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("autoscalebot simulate", () => {
  it("prints the comparison table for a generic CSV, with the gap reported", async () => {
    const { code, out, err } = await run([
      "--trace",
      csvPath,
      "--config",
      configPath,
      "--policy",
      'lazy={"passesToScaleDown":10}',
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain("trace: load.csv, 115 minutes from 2026-03-02 08:00 to 2026-03-02 09:59 (UTC)");
    expect(out).toMatch(
      /^policy\s+proc-hours\s+x oracle\s+cost\s+min > SLO\s+worst p95\s+at\s+late requests\s+dropped\s+scales\s+flaps$/m,
    );
    for (const row of ["mine", "lazy", "oracle", "static peak", "static median"])
      expect(out).toMatch(new RegExp(`^${row}\\s`, "m"));
    expect(out).toContain("note: gap: no data for 5 min from 2026-03-02 09:40 (not simulated, not billed)");
  });

  it("--json: the same figures, identical run to run", async () => {
    const args = ["--trace", csvPath, "--config", configPath, "--json"];
    const first = await run(args);
    const second = await run(args);
    expect(first.out).toBe(second.out);
    const report = JSON.parse(first.out) as SimulationReport;
    expect(report.trace).toMatchObject({ minutes: 115, intervalSeconds: 300, peakPerMinute: 5000 });
    const mine = report.results[0]!;
    expect(mine).toMatchObject({ label: "mine", kind: "policy", sloMs: 500 });
    expect(mine.scaleUps).toBeGreaterThan(0);
    expect(mine.cost).toBeCloseTo(mine.processHours * 0.05, 2);
    expect(report.results.map((r) => r.label)).toEqual(["mine", "oracle", "static peak", "static median"]);
    // Every result carries the same figures; the oracle is a baseline, and the yardstick.
    for (const result of report.results) {
      for (const key of [
        "processHours",
        "minutesOverSlo",
        "minutes",
        "lateRequests",
        "droppedRequests",
        "requests",
        "scales",
        "flaps",
      ] as const)
        expect(typeof result[key], key).toBe("number");
      expect(result.vsOracle).toBeCloseTo(result.processHours / report.results[1]!.processHours, 2);
    }
    expect(report.results[1]).toMatchObject({
      kind: "baseline",
      label: "oracle",
      vsOracle: 1,
      minutesOverSlo: 0,
    });
    expect(report.model).toMatchObject({ routing: "random", routerTimeoutSeconds: 30 });
  });

  it("--report writes a self-contained HTML page: the chart code and the data inline", async () => {
    const html = join(dir, "report.html");
    const { code, out } = await run(["--trace", csvPath, "--config", configPath, "--report", html]);
    expect(code).toBe(0);
    expect(out).toContain(`report written to ${html}`);
    const page = await readFile(html, "utf8");
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/(src|href)=/);
    const data = JSON.parse(
      /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(page)![1]!,
    ) as {
      times: number[];
      runs: Array<{ label: string; processes: number[] }>;
      worst: unknown[];
    };
    expect(data.runs.map((r) => r.label)).toEqual(["mine", "oracle", "static peak", "static median"]);
    expect(data.times).toHaveLength(115);
    expect(data.runs[0]!.processes).toHaveLength(115);
    expect(data.worst).toHaveLength(5); // the one policy's five worst minutes
  });

  it("several configs side by side, and --speedup", async () => {
    const other = join(dir, "other.json");
    await writeFile(other, JSON.stringify({ ...config, simulation: { ...config.simulation, sloMs: 300 } }));
    const { code, out } = await run([
      "--trace",
      "bundled",
      "--config",
      configPath,
      "--config",
      other,
      "--speedup",
      "10",
      "--no-baselines",
    ]);
    expect(code).toBe(0);
    expect(out).toContain(
      "144 minutes from 1995-07-13 00:00 to 1995-07-13 23:50 (America/New_York), compressed 10x",
    );
    expect(out).toMatch(/^mine\s/m);
    expect(out).toMatch(/^other\s/m);
    // Without baselines the oracle stays: every row is measured against it.
    expect(out).toMatch(/^oracle\s+[\d,.]+\s+1\.00x\s/m);
    expect(out).not.toMatch(/^static peak\s/m);
    expect(out).toContain(
      `note: ${other}: its "simulation" settings differ; the model is the first config's`,
    );
  });

  it.each([
    ["a time", "1995-07-13T09:00", "1995-07-13T10:00", 60, "1995-07-13 09:00", "1995-07-13 09:59", 0],
    [
      "a bare date (its midnight)",
      "1995-07-13",
      "1995-07-14",
      1440,
      "1995-07-13 00:00",
      "1995-07-13 23:59",
      1,
    ],
  ])(
    "--from and --to as %s replay a slice in the trace's zone",
    async (_label, from, to, minutes, first, last, notes) => {
      const args = ["--trace", "bundled", "--config", configPath, "--from", from, "--to", to, "--json"];
      const { code, out } = await run(args);
      expect(code).toBe(0);
      const report = JSON.parse(out) as SimulationReport;
      expect(report.trace).toMatchObject({ minutes, from: first, to: last });
      expect(report.trace.notes).toHaveLength(notes); // the whole day includes the 19:49 logging gap
      expect(report.results[0]!.minutes).toBe(minutes);
    },
  );

  it("an unwritable --report, a --zone that is not one and a --seed out of range are exit 2, before the replay", async () => {
    const report = join(dir, "no-such-dir", "out.html");
    const unwritable = await run(["--trace", csvPath, "--config", configPath, "--report", report]);
    expect(unwritable).toEqual({
      code: 2,
      out: "",
      err: `--report ${report}: cannot write the file: ENOENT`,
    });
    const directory = await run(["--trace", csvPath, "--config", configPath, "--report", dir]);
    expect(directory).toMatchObject({
      code: 2,
      out: "",
      err: `--report ${dir}: cannot write the file: EISDIR`,
    });
    const zone = await run(["--trace", csvPath, "--config", configPath, "--zone", "Mars/Olympus"]);
    expect(zone.code).toBe(2);
    expect(zone.err).toMatch(
      /^--zone expects an IANA time zone such as Europe\/Berlin, got "Mars\/Olympus"\n\nusage:/,
    );
    for (const seed of ["4294967296", "-1", "1.5", "0x10", ""]) {
      const bad = await run(["--trace", csvPath, "--config", configPath, `--seed=${seed}`]);
      expect(bad.code, seed).toBe(2);
      expect(bad.err).toMatch(/^--seed expects an integer from 0 to 4294967295/);
    }
    expect((await run(["--trace", csvPath, "--config", configPath, "--seed", "4294967295"])).code).toBe(0);
  });

  it("reports bad usage, configurations and traces with exit code 2", async () => {
    expect((await run(["--config", configPath])).err).toMatch(/^--trace <csv> is required/);
    expect((await run(["--trace", csvPath])).code).toBe(2);
    expect((await run(["--trace", join(dir, "missing.csv"), "--config", configPath])).err).toMatch(
      /missing\.csv: cannot read the file: ENOENT/,
    );
    const bad = await run(["--trace", csvPath, "--config", configPath, "--policy", 'x={"maxProcesses":0}']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("invalid configuration (--policy x)");
    expect((await run(["--trace", csvPath, "--config", configPath, "--process", "worker"])).err).toMatch(
      /no process "worker"/,
    );
    expect((await run(["--trace", csvPath, "--config", configPath, "--speedup", "0"])).err).toMatch(
      /--speedup/,
    );
  });

  it("is a command of the autoscalebot CLI", async () => {
    const out: string[] = [];
    const io: CliIo = { env: {}, out: (t) => out.push(t), err: () => {}, onStop: () => {} };
    const code = await main(["simulate", "--trace", "bundled", "--config", configPath, "--json"], io);
    expect(code).toBe(0);
    expect((JSON.parse(out.join("")) as SimulationReport).trace.minutes).toBe(1440);
  });

  it.skipIf(!existsSync(SHARED))(
    "replays the four-week NASA trace of ../shared/traces, the same figures every run (skipped when ../shared is absent)",
    async () => {
      const args = [
        "--trace",
        SHARED,
        "--config",
        join(EXAMPLES, "threshold.json"),
        "--policy",
        'twitchy={"minMeasurement":150,"maxMeasurement":300,"failsToScaleUp":2,"passesToScaleDown":5,"increment":1,"postScaleWaitSeconds":60}',
        "--json",
      ];
      const started = performance.now();
      const first = await run(args);
      const elapsed = performance.now() - started;
      expect(first.code).toBe(0);
      const report = JSON.parse(first.out) as SimulationReport;
      expect(report.trace).toMatchObject({ minutes: 39_693, peakPerMinute: 40_500, medianPerMinute: 4100 });
      expect(report.results.map((r) => r.label)).toEqual([
        "threshold",
        "twitchy",
        "oracle",
        "static peak",
        "static median",
        "schedule",
      ]);
      const [threshold, twitchy, oracle, peak] = report.results;
      expect(oracle!.minutesOverSlo).toBe(0);
      expect(peak!.minutesOverSlo).toBe(0);
      expect(oracle!.processHours).toBeLessThan(threshold!.processHours);
      expect(threshold!.cost).toBeLessThan(peak!.cost);
      expect(twitchy!.flaps).toBeGreaterThan(threshold!.flaps);
      // Five runs over 40,000 minutes, with the reading of a 1.6 MB file: a few seconds at most even on a slow CI.
      expect(elapsed).toBeLessThan(10_000);
      expect((await run(args)).out).toBe(first.out);
    },
  );
});
