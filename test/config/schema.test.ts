import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfig, parseConfigJson } from "../../src/config/load.js";
import { configForFunctions } from "../../src/config/sources.js";
import { redact, redactUrl, REDACTED } from "../../src/kit/redact.js";

const EXAMPLE_PATH = new URL("../../autoscale.config.json", import.meta.url);
const exampleText = readFileSync(EXAMPLE_PATH, "utf8");

/** A minimal valid configuration: the rest are defaults. */
const minimal = () => ({
  processes: {
    web: {
      measurement: { backend: "response-time", url: "https://dancing-forest-1234.herokuapp.com/heartbeat" },
      scaling: { backend: "heroku", app: "dancing-forest-1234" },
    },
  },
});

/** The seed's (autoscalebot 0.3 docs) web example, in this project's terms. */
const seedExample = () => ({
  timezone: "America/Vancouver",
  processes: {
    web: {
      measurement: {
        backend: "response-time",
        url: "https://dancing-forest-1234.herokuapp.com/my-custom-measurement/",
      },
      decision: {
        backend: "consecutive-threshold",
        minMeasurement: 500,
        maxMeasurement: 1000,
        postScaleWaitSeconds: 60,
        minProcesses: { "0:00": 1, "8:00": 3, "18:00": 1 },
        maxProcesses: { "0:00": 3, "9:00": 5, "17:00": 3 },
      },
      scaling: { backend: "heroku", app: "dancing-forest-1234", processType: "web" },
      notification: {
        backends: ["console", "log"],
        notifyOn: ["measurement", "scale", "below-min", "above-max"],
      },
    },
  },
});

type Json = Record<string, unknown>;
/** A minimal config with the web process's `section` replaced or merged. */
function withWeb(section: string, value: Json): Json {
  const config = minimal() as unknown as { processes: { web: Json } };
  const existing = config.processes.web[section] as Json | undefined;
  config.processes.web[section] = { ...(existing ?? {}), ...value };
  return config;
}
const withDecision = (value: Json) => withWeb("decision", { backend: "consecutive-threshold", ...value });

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}
const problems = (input: unknown) => problemsOf(() => parseConfig(input));

/** Every default the schema fills into a web process measured at `url` (the seeds' defaults). */
const defaultWeb = (url: string, scaling: Record<string, unknown> = {}) => ({
  measurement: {
    backend: "response-time",
    url,
    timeoutMs: 5000,
    method: "GET",
    samples: 1,
    sampleWindowMs: 5000,
  },
  decision: {
    backend: "consecutive-threshold",
    minMeasurement: 400,
    maxMeasurement: 1200,
    failsToScaleUp: 3,
    passesToScaleDown: 5,
    minProcesses: 1,
    maxProcesses: 3,
    increment: 1,
    postScaleWaitSeconds: 5,
    historyLength: 10,
    idleMinutesBeforeZero: 10,
    allowZero: false,
  },
  scaling: {
    backend: "heroku",
    app: "dancing-forest-1234",
    apiKeyEnv: "HEROKU_API_KEY",
    timeoutMs: 5000,
    rateLimitReserve: 450,
    ...scaling,
  },
  notification: {
    backends: ["console"],
    notifyOn: ["scale", "above-max", "scale-failed", "pause", "resume", "manual-scale", "dyno-limit"],
    timeoutMs: 5000,
    repeatAfterMinutes: 60,
    resolveAfterMinutes: 5,
    tooRapidNumScales: 3,
    tooRapidPeriodMinutes: 15,
    measurementFailuresToNotify: 3,
  },
  intervalSeconds: 60,
  manualOverrideMinutes: 30,
});

describe("parseConfig: valid configurations", () => {
  it("parses the bundled example (autoscale.config.json)", () => {
    const config = parseConfigJson(exampleText, "autoscale.config.json");
    expect(config.timezone).toBe("UTC");
    expect(config.tickDeadlineMs).toBe(25_000); // not in the file: a default
    expect(config.processes.web).toEqual(defaultWeb("https://example.com/heartbeat", { processType: "web" }));
  });

  it("fills every default into a minimal configuration", () => {
    expect(parseConfig(minimal())).toEqual({
      timezone: "UTC",
      keyPrefix: "autoscalebot",
      tickDeadlineMs: 25_000,
      history: { retentionDays: 7 },
      processes: { web: defaultWeb("https://dancing-forest-1234.herokuapp.com/heartbeat") },
    });
  });

  it("parses the seed's web example with time-of-day bounds and keeps the given values", () => {
    const config = parseConfig(seedExample());
    expect(config.timezone).toBe("America/Vancouver");
    expect(config.processes.web?.decision).toEqual({
      backend: "consecutive-threshold",
      minMeasurement: 500,
      maxMeasurement: 1000,
      failsToScaleUp: 3,
      passesToScaleDown: 5,
      minProcesses: { "0:00": 1, "8:00": 3, "18:00": 1 },
      maxProcesses: { "0:00": 3, "9:00": 5, "17:00": 3 },
      increment: 1,
      postScaleWaitSeconds: 60,
      historyLength: 10,
      idleMinutesBeforeZero: 10,
      allowZero: false,
    });
    expect(config.processes.web?.notification.backends).toEqual(["console", "log"]);
  });

  it("accepts several processes, a Heroku app id and a process type other than the name", () => {
    const config = parseConfig({
      processes: {
        ...minimal().processes,
        "worker-2": {
          measurement: { backend: "response-time", url: "http://localhost:8080/hb" },
          scaling: { backend: "heroku", app: "01234567-89ab-cdef-0123-456789abcdef", processType: "worker" },
        },
      },
    });
    expect(Object.keys(config.processes)).toEqual(["web", "worker-2"]);
    expect(config.processes["worker-2"]?.scaling).toMatchObject({ processType: "worker" });
  });

  it("does not modify its input", () => {
    const input = minimal();
    const copy = structuredClone(input);
    parseConfig(input);
    expect(input).toEqual(copy);
  });
});

describe("parseConfig: problems name their path", () => {
  it.each<[string, unknown, string[]]>([
    ["unknown key at the root", { ...minimal(), foo: 1 }, ["foo: unknown setting"]],
    [
      "unknown key in a decision",
      withDecision({ bogus: 1 }),
      ["processes.web.decision.bogus: unknown setting"],
    ],
    ["unknown key in a process", withWeb("extra", {}), ["processes.web.extra: unknown setting"]],
    [
      "several unknown keys in one object",
      withWeb("scaling", { apiKey: "abc", region: "eu" }),
      ["processes.web.scaling.apiKey: unknown setting", "processes.web.scaling.region: unknown setting"],
    ],
    [
      "wrong measurement backend",
      withWeb("measurement", { backend: "nope" }),
      [
        'processes.web.measurement.backend: expected one of "response-time", "service-time", "queue-time", "request-metrics", "app-json", "celery-queue", "sidekiq-queue", "bullmq-queue"',
      ],
    ],
    [
      "wrong decision backend",
      withWeb("decision", { backend: "moving-average" }),
      [
        'processes.web.decision.backend: expected one of "consecutive-threshold", "average-threshold", "target-tracking"',
      ],
    ],
    [
      "decision with an unknown backend",
      withWeb("decision", { backend: "magic" }),
      [
        'processes.web.decision.backend: expected one of "consecutive-threshold", "average-threshold", "target-tracking"',
      ],
    ],
    [
      "wrong scaling backend",
      withWeb("scaling", { backend: "dokku" }),
      ['processes.web.scaling.backend: expected one of "heroku", "render", "railway", "webhook"'],
    ],
    [
      "maxProcesses 0 with minProcesses 0",
      withDecision({ minProcesses: 0, maxProcesses: 0, allowZero: true }),
      ["processes.web.decision.maxProcesses: expected integer >= 1"],
    ],
    [
      "non-integer failsToScaleUp",
      withDecision({ failsToScaleUp: 2.5 }),
      ["processes.web.decision.failsToScaleUp: expected integer from 1 to 1000"],
    ],
    [
      "failsToScaleUp as a string",
      withDecision({ failsToScaleUp: "3" }),
      ["processes.web.decision.failsToScaleUp: expected integer from 1 to 1000"],
    ],
    [
      "increment 0",
      withDecision({ increment: 0 }),
      ["processes.web.decision.increment: expected integer >= 1"],
    ],
    [
      "negative postScaleWaitSeconds",
      withDecision({ postScaleWaitSeconds: -5 }),
      ["processes.web.decision.postScaleWaitSeconds: expected seconds >= 0"],
    ],
    [
      "minMeasurement == maxMeasurement",
      withDecision({ minMeasurement: 1200, maxMeasurement: 1200 }),
      ["processes.web.decision.minMeasurement: expected minMeasurement < maxMeasurement"],
    ],
    [
      "minMeasurement > maxMeasurement",
      withDecision({ minMeasurement: 2000 }),
      ["processes.web.decision.minMeasurement: expected minMeasurement < maxMeasurement"],
    ],
    [
      "fixed minProcesses above maxProcesses",
      withDecision({ minProcesses: 4 }),
      ["processes.web.decision.minProcesses: minProcesses (4) is above maxProcesses (3) from 0:00"],
    ],
    [
      "minProcesses map above a fixed maxProcesses at some hour",
      withDecision({ minProcesses: { "0:00": 1, "8:00": 4, "18:00": 1 }, maxProcesses: 3 }),
      ["processes.web.decision.minProcesses: minProcesses (4) is above maxProcesses (3) from 8:00"],
    ],
    [
      "minProcesses map above a maxProcesses map between their keys (8:00-9:00)",
      withDecision({
        minProcesses: { "0:00": 1, "8:00": 3, "18:00": 1 },
        maxProcesses: { "0:00": 2, "9:00": 5, "17:00": 2 },
      }),
      ["processes.web.decision.minProcesses: minProcesses (3) is above maxProcesses (2) from 8:00"],
    ],
    [
      "minProcesses map wrapping past midnight above a maxProcesses map (0:00-6:00)",
      withDecision({ minProcesses: { "6:00": 1, "22:00": 3 }, maxProcesses: { "0:00": 2, "12:00": 5 } }),
      ["processes.web.decision.minProcesses: minProcesses (3) is above maxProcesses (2) from 0:00"],
    ],
    [
      "bad time key 25:00",
      withDecision({ minProcesses: { "0:00": 1, "25:00": 3 } }),
      ["processes.web.decision.minProcesses.25:00: expected a time of day H:MM"],
    ],
    ["empty processes", { processes: {} }, ["processes: expected at least one process"]],
    ["no processes", {}, ["processes: expected record, received undefined"]],
    [
      "bad timezone",
      { ...minimal(), timezone: "Mars/Olympus_Mons" },
      ["timezone: expected an IANA time zone such as Europe/Berlin"],
    ],
    [
      "timezone offset string",
      { ...minimal(), timezone: "GMT+25" },
      ["timezone: expected an IANA time zone such as Europe/Berlin"],
    ],
    [
      "bad URL",
      withWeb("measurement", { url: "not a url" }),
      ["processes.web.measurement.url: expected an http(s) URL"],
    ],
    [
      "non-http URL",
      withWeb("measurement", { url: "ftp://example.com/hb" }),
      ["processes.web.measurement.url: expected an http(s) URL"],
    ],
    [
      "heroku app name with capitals and underscore",
      withWeb("scaling", { app: "Dancing_Forest" }),
      ["processes.web.scaling.app: expected a Heroku app name or id"],
    ],
    [
      "heroku app name too short",
      withWeb("scaling", { app: "ab" }),
      ["processes.web.scaling.app: expected a Heroku app name or id"],
    ],
    [
      "heroku app name too long",
      withWeb("scaling", { app: "a".repeat(31) }),
      ["processes.web.scaling.app: expected a Heroku app name or id"],
    ],
    [
      "bad apiKeyEnv",
      withWeb("scaling", { apiKeyEnv: "1-KEY" }),
      ["processes.web.scaling.apiKeyEnv: expected an environment variable name"],
    ],
    [
      "historyLength below failsToScaleUp",
      withDecision({ failsToScaleUp: 12 }),
      [
        "processes.web.decision.historyLength: expected historyLength >= 12 (failsToScaleUp and passesToScaleDown look back that far)",
      ],
    ],
    [
      "historyLength below passesToScaleDown",
      withDecision({ historyLength: 4 }),
      [
        "processes.web.decision.historyLength: expected historyLength >= 5 (failsToScaleUp and passesToScaleDown look back that far)",
      ],
    ],
    [
      "bad keyPrefix",
      { ...minimal(), keyPrefix: "has space" },
      ["keyPrefix: expected 1-64 letters, digits, _ : . -"],
    ],
    [
      "tickDeadlineMs beyond Netlify's 30 s",
      { ...minimal(), tickDeadlineMs: 30_000 },
      ["tickDeadlineMs: expected integer from 1000 to 28000"],
    ],
    ["not an object", null, ["(root): expected object, received null"]],
  ])("%s", (_label, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });

  it.each(["minProcesses", "maxProcesses"])("reports an empty %s time-of-day map as a ConfigError", (key) => {
    expect(problems(withDecision({ [key]: {} }))).toEqual([
      `processes.web.decision.${key}: expected at least one time-of-day entry`,
    ]);
  });

  it("reports a bad time key and a duplicate time by their keys", () => {
    expect(problems(withDecision({ maxProcesses: { "0:00": 2, "25:00": 3 } }))).toEqual([
      "processes.web.decision.maxProcesses.25:00: expected a time of day H:MM",
    ]);
    expect(problems(withDecision({ maxProcesses: { "9:00": 2, "09:00": 5 } }))).toEqual([
      'processes.web.decision.maxProcesses.09:00: the same time as "9:00"',
    ]);
  });

  it("reports maxProcesses 0 on maxProcesses itself, not on the default minProcesses", () => {
    expect(problems(withDecision({ maxProcesses: 0 }))).toEqual([
      "processes.web.decision.maxProcesses: expected integer >= 1",
    ]);
  });

  it("lists every notifier and event kind when one is unknown", () => {
    const found = problems(withWeb("notification", { backends: ["slack"], notifyOn: ["nope"] }));
    expect(found).toHaveLength(2);
    expect(found[0]).toBe(
      'processes.web.notification.backends.0: expected "console", "log", "memory", or an object with backend "email" or "webhook"',
    );
    expect(found[1]).toMatch(/^processes\.web\.notification\.notifyOn\.0: .*"above-max"/);
  });

  it("names a bad process name by its path", () => {
    const found = problems({ processes: { "a b": minimal().processes.web } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^processes\.a b: /);
  });

  it("names a bad process name with the schema's message", () => {
    const found = problems({ processes: { "a b": minimal().processes.web } });
    expect(found).toEqual(["processes.a b: expected a process name of letters, digits, - and _"]);
  });

  it("reports several problems at once, each by its path", () => {
    const input = withDecision({
      maxProcesses: 0,
      minProcesses: 0,
      allowZero: true,
      increment: 0,
      historyLength: 2,
    }) as Json & {
      processes: { web: { scaling: Json; measurement: Json } };
    };
    input.foo = 1;
    input.timezone = "X/Y";
    input.processes.web.scaling.app = "A";
    input.processes.web.measurement.url = "nope";
    const found = problems(input);
    expect(found).toEqual(
      expect.arrayContaining([
        "foo: unknown setting",
        "timezone: expected an IANA time zone such as Europe/Berlin",
        "processes.web.decision.increment: expected integer >= 1",
        "processes.web.decision.maxProcesses: expected integer >= 1",
        "processes.web.decision.historyLength: expected historyLength >= 5 (failsToScaleUp and passesToScaleDown look back that far)",
        "processes.web.scaling.app: expected a Heroku app name or id",
        "processes.web.measurement.url: expected an http(s) URL",
      ]),
    );
    expect(found).toHaveLength(7);
  });

  it("refuses a minimum of 0 for a web process unless allowZero, and takes it for a queue's workers", () => {
    const message =
      "processes.web.decision.minProcesses: minProcesses of 0 is for workers measured by their job queue; the response-time measurement reads a web process, which at 0 answers nothing (set decision.allowZero: true to allow it anyway)";
    expect(problems(withDecision({ minProcesses: 0 }))).toEqual([message]);
    expect(problems(withDecision({ minProcesses: { "0:00": 0, "8:00": 2 } }))).toEqual([message]);
    expect(problems(withDecision({ minProcesses: [{ from: "0:00", value: 0 }] }))).toEqual([message]);
    expect(() => parseConfig(withDecision({ minProcesses: 0, allowZero: true }))).not.toThrow();
    const worker = {
      processes: {
        worker: {
          measurement: { backend: "sidekiq-queue" },
          decision: { minProcesses: 0, maxProcesses: 4 },
          scaling: { backend: "heroku", app: "dancing-forest-1234" },
        },
      },
    };
    expect(parseConfig(worker).processes.worker?.decision).toMatchObject({
      minProcesses: 0,
      idleMinutesBeforeZero: 10,
    });
  });

  it("reports problems in several processes", () => {
    const found = problems({
      processes: {
        web: { ...minimal().processes.web, decision: { backend: "consecutive-threshold", increment: 0 } },
        worker: { ...minimal().processes.web, scaling: { backend: "heroku", app: "X" } },
      },
    });
    expect(found.sort()).toEqual([
      "processes.web.decision.increment: expected integer >= 1",
      "processes.worker.scaling.app: expected a Heroku app name or id",
    ]);
  });
});

describe("ConfigError", () => {
  it("carries the source and every problem, and lists them in its message", () => {
    let caught: unknown;
    try {
      parseConfig({ ...minimal(), foo: 1, timezone: "X/Y" }, "my.json");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toBeInstanceOf(Error);
    const error = caught as ConfigError;
    expect(error.name).toBe("ConfigError");
    expect(error.source).toBe("my.json");
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain("invalid configuration (my.json)");
    for (const problem of error.problems) expect(error.message).toContain(problem);
  });

  it('defaults the source to "config"', () => {
    expect(() => parseConfig({})).toThrow(/invalid configuration \(config\)/);
  });
});

describe("parseConfigJson", () => {
  it("parses JSON text", () => {
    expect(parseConfigJson(JSON.stringify(minimal()), "x.json").processes.web?.scaling).toMatchObject({
      app: "dancing-forest-1234",
    });
  });

  it.each([
    ["{nope", "not valid JSON at line 1, column 2"],
    ["", "not valid JSON at line 1, column 1"],
    ["{", "not valid JSON at line 1, column 2"],
    ['{"processes": {},}', "not valid JSON at line 1, column 18"],
    ['{\n  "processes": {\n    "web": 1,\n  }\n}', "not valid JSON at line 4, column 3"],
    ['{"processes": {}}\n\n', "processes: expected at least one process"],
  ])("reports invalid JSON %j as a ConfigError with its position only", (text, problem) => {
    let caught: unknown;
    try {
      parseConfigJson(text, "x.json");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).source).toBe("x.json");
    expect((caught as ConfigError).problems).toEqual([problem]);
  });

  it.each([
    // V8 quotes the text around the error, with no position: only "not valid JSON" is left.
    '{"processes": {"web": {"measurement": {"headers": {"Authorization": Bearer sk_live_S3CRET}}}}}',
    '{"headers": {"X-Token": "ok"}, "other": sk_live_S3CRET}',
    // With a position, still nothing of the text.
    '{"url": "https://u:sk_live_S3CRET@h/" "x": 1}',
  ])("never echoes the text of invalid JSON: %j", (text) => {
    let caught: unknown;
    try {
      parseConfigJson(text, "x.json");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const { message, problems } = caught as ConfigError;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^not valid JSON( at line \d+, column \d+)?$/);
    expect(message).not.toMatch(/sk_|S3CRET|Bearer/);
  });

  it("reports schema problems with the given source", () => {
    expect(() => parseConfigJson('{"processes": {}}', "x.json")).toThrow(
      /\(x\.json\)[\s\S]*expected at least one process/,
    );
  });
});

describe("loadConfigFile", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "autoscalebot-config-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads and parses a file", async () => {
    const path = join(dir, "ok.json");
    await writeFile(path, JSON.stringify(seedExample()));
    expect((await loadConfigFile(path)).timezone).toBe("America/Vancouver");
  });

  it("names the file in problems", async () => {
    const path = join(dir, "bad.json");
    await writeFile(path, '{"processes": {}}');
    await expect(loadConfigFile(path)).rejects.toMatchObject({
      source: path,
      problems: ["processes: expected at least one process"],
    });
  });

  it("reports a missing file as a ConfigError", async () => {
    const path = join(dir, "missing.json");
    await expect(loadConfigFile(path)).rejects.toBeInstanceOf(ConfigError);
    await expect(loadConfigFile(path)).rejects.toMatchObject({ problems: ["cannot read the file: ENOENT"] });
  });
});

describe("configForFunctions", () => {
  const bundled = JSON.parse(exampleText) as unknown;
  const fromEnv = JSON.stringify({ ...minimal(), keyPrefix: "from-env" });

  it("prefers AUTOSCALE_CONFIG over the bundled object", () => {
    expect(configForFunctions({ AUTOSCALE_CONFIG: fromEnv }, bundled).keyPrefix).toBe("from-env");
  });

  it.each([undefined, "", "   \n"])("uses the bundled object when AUTOSCALE_CONFIG is %j", (value) => {
    const config = configForFunctions({ AUTOSCALE_CONFIG: value }, bundled);
    expect(config.keyPrefix).toBe("autoscalebot");
    expect(config.processes.web?.measurement).toMatchObject({ url: "https://example.com/heartbeat" });
  });

  it("does not fall back to the bundled object when AUTOSCALE_CONFIG is invalid", () => {
    expect(() => configForFunctions({ AUTOSCALE_CONFIG: "{nope" }, bundled)).toThrow(ConfigError);
    try {
      configForFunctions({ AUTOSCALE_CONFIG: '{"processes": {}}' }, bundled);
    } catch (error) {
      expect((error as ConfigError).source).toBe("AUTOSCALE_CONFIG");
    }
  });

  it("names the bundled file when the bundled object is invalid", () => {
    expect(() => configForFunctions({}, { processes: {} })).toThrow(/\(autoscale\.config\.json\)/);
  });
});

describe("redact", () => {
  it("redacts URL userinfo and secret-looking query parameters, keeping the rest", () => {
    expect(
      redactUrl("https://user:hunter2@example.com/hb?token=abc&page=2&api_key=zz&X-Amz-Signature=s&sig=1"),
    ).toBe(
      `https://${REDACTED}:${REDACTED}@example.com/hb?token=${REDACTED}&page=2&api_key=${REDACTED}&X-Amz-Signature=${REDACTED}&sig=${REDACTED}`,
    );
    expect(redactUrl("redis://default:pw@host:6379")).toBe(`redis://${REDACTED}:${REDACTED}@host:6379`);
    expect(redactUrl("https://example.com/hb?page=2")).toBe("https://example.com/hb?page=2");
    expect(redactUrl("not a url")).toBe("not a url");
  });

  it("redacts a username, which may be the token itself", () => {
    expect(redactUrl("https://ghp_SECRET@example.com/health")).toBe(`https://${REDACTED}@example.com/health`);
    expect(redactUrl("https://ghp_SECRET:@example.com/health")).toBe(
      `https://${REDACTED}@example.com/health`,
    );
    expect(redactUrl("https://:pw@example.com/health")).toBe(`https://:${REDACTED}@example.com/health`);
    expect(JSON.stringify(redact({ url: "https://ghp_SECRET@example.com/health" }))).not.toContain("ghp_");
  });

  it("redacts a parsed configuration without touching keyPrefix or apiKeyEnv", () => {
    const config = parseConfig({
      ...minimal(),
      keyPrefix: "prod:token",
      processes: {
        web: {
          ...minimal().processes.web,
          measurement: {
            backend: "response-time",
            url: "https://admin:s3cret@example.com/hb?access_token=t0k&x=1",
          },
          scaling: { backend: "heroku", app: "dancing-forest-1234", apiKeyEnv: "HEROKU_API_KEY" },
        },
      },
    });
    const out = redact(config) as typeof config;
    const text = JSON.stringify(out);
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain("t0k");
    expect(out.processes.web?.measurement).toMatchObject({
      url: `https://${REDACTED}:${REDACTED}@example.com/hb?access_token=${REDACTED}&x=1`,
    });
    expect(out.keyPrefix).toBe("prod:token");
    expect(out.processes.web?.scaling).toMatchObject({
      apiKeyEnv: "HEROKU_API_KEY",
      app: "dancing-forest-1234",
    });
    expect(out.processes.web?.decision).toEqual(config.processes.web?.decision);
    // A deep copy: the original is untouched.
    expect(JSON.stringify(config.processes.web?.measurement)).toContain("s3cret");
  });

  it("redacts every value under headers and secret-named fields, at any depth", () => {
    const out = redact({
      headers: { Authorization: "Bearer abc", "X-Trace": "1" },
      deeper: { list: [{ password: "p", token: "t", apiKey: "k", clientSecret: "c", name: "kept" }] },
      urls: ["https://a:b@h/", "plain text"],
      count: 5,
      flag: true,
      none: null,
    });
    expect(out).toEqual({
      headers: { Authorization: REDACTED, "X-Trace": REDACTED },
      deeper: {
        list: [
          { password: REDACTED, token: REDACTED, apiKey: REDACTED, clientSecret: REDACTED, name: "kept" },
        ],
      },
      urls: [`https://${REDACTED}:${REDACTED}@h/`, "plain text"],
      count: 5,
      flag: true,
      none: null,
    });
  });

  it.each(["keyPrefix", "apiKeyEnv", "tokenEnv", "keyPrefixes"])("does not redact %s", (key) => {
    expect(redact({ [key]: "VALUE" })).toEqual({ [key]: "VALUE" });
  });
});

describe("decision defaults", () => {
  it("takes consecutive-threshold when decision names no backend or is left out", () => {
    const named = parseConfig(withWeb("decision", { failsToScaleUp: 2 }));
    expect(named.processes.web!.decision).toMatchObject({
      backend: "consecutive-threshold",
      failsToScaleUp: 2,
    });
    const input = minimal() as { processes: { web: Record<string, unknown> } };
    delete input.processes.web.decision;
    expect(parseConfig(input).processes.web!.decision).toMatchObject({
      backend: "consecutive-threshold",
      failsToScaleUp: 3,
    });
  });
});

describe("checks across settings", () => {
  const process = (scaling: Record<string, unknown> = {}, measurement: Record<string, unknown> = {}) => ({
    measurement: { backend: "response-time", url: "https://example.com/", ...measurement },
    scaling: { backend: "heroku", app: "dancing-forest-1234", ...scaling },
  });
  const problemsOf = (input: unknown) => {
    try {
      parseConfig(input);
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  it("refuses timeouts that do not fit the tick's deadline", () => {
    expect(
      problemsOf({ tickDeadlineMs: 15_000, processes: { web: process({}, { timeoutMs: 5000 }) } }),
    ).toEqual([
      "processes.web: timeouts add up to 15000 ms (measurement 5000, scaling 5000 twice, notification 5000), more than the 10000 ms a tick of tickDeadlineMs 15000 leaves after keeping 5000 ms for its save",
    ]);
    // The seeds' two samples a tick fit the default deadline exactly: 25 s less the store's 5 s for the save.
    expect(problemsOf({ processes: { web: process({}, { samples: 2 }) } })).toEqual([]);
    expect(problemsOf({ processes: { web: process({}, { samples: 3, sampleWindowMs: 10_000 }) } })).toEqual([
      expect.stringMatching(/^processes\.web: timeouts add up to 25000 ms \(measurement 15000/) as unknown,
    ]);
  });

  it("refuses two processes scaling one formation", () => {
    expect(problemsOf({ processes: { web: process(), web2: process({ processType: "web" }) } })).toEqual([
      "processes.web2.scaling: scales the same formation as processes.web",
    ]);
    expect(problemsOf({ processes: { web: process(), worker: process() } })).toEqual([]);
  });
});
