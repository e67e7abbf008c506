import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/load.js";
import { configFromSeedEnv, SEED_VARIABLES, usesSeedEnv } from "../../src/config/seed-env.js";
import { configForFunctions } from "../../src/config/sources.js";

const minimal = {
  AUTOSCALE_HEROKU_APP_NAME: "dancing-forest-1234",
  AUTOSCALE_HEARTBEAT_URL: "https://example.com/heartbeat",
};

function problems(env: Record<string, string>): string[] {
  try {
    configFromSeedEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("the seeds' AUTOSCALE_* variables", () => {
  it("configure one web process with the seed's defaults (django-heroku-autoscale)", () => {
    const config = configFromSeedEnv(minimal);
    expect(Object.keys(config.processes)).toEqual(["web"]);
    const web = config.processes.web!;
    expect(web.scaling).toMatchObject({
      backend: "heroku",
      app: "dancing-forest-1234",
      processType: "web",
      apiKeyEnv: "HEROKU_API_KEY",
    });
    expect(web.measurement).toMatchObject({ backend: "response-time", url: "https://example.com/heartbeat" });
    expect(web.decision).toMatchObject({
      backend: "consecutive-threshold",
      minMeasurement: 200,
      maxMeasurement: 1000,
      failsToScaleUp: 3,
      passesToScaleDown: 5,
      minProcesses: 1,
      maxProcesses: 3,
      increment: 1,
    });
    expect(web.notification.notifyOn).toEqual(["above-max"]);
  });

  it("map every variable onto the schema", () => {
    const config = configFromSeedEnv({
      ...minimal,
      AUTOSCALE_HEROKU_API_KEY: "secret",
      AUTOSCALE_HEROKU_PROCESS_TYPE: "worker",
      AUTOSCALE_MAX_RESPONSE_TIME_IN_MS: "1500",
      AUTOSCALE_MIN_RESPONSE_TIME_IN_MS: "300",
      AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER: "2",
      AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER: "7",
      AUTOSCALE_MAX_DYNOS: '{"0:00": 2, "9:00": 5, "17:00": 2}',
      AUTOSCALE_MIN_DYNOS: "2",
      AUTOSCALE_INCREMENT: "2",
      AUTOSCALE_POST_SCALE_WAIT_TIME_SECONDS: "60",
      AUTOSCALE_NOTIFY_ON_EVERY_SCALE: "True",
      AUTOSCALE_NOTIFY_IF_NEEDS_EXCEED_MAX: "False",
      AUTOSCALE_NOTIFY_ON_SCALE_FAILS: "1",
      AUTOSCALE_NOTIFICATION_BACKENDS: "autoscalebot.backends.notification.ConsoleBackend, LoggerBackend",
      TIME_ZONE: "America/Vancouver",
    });
    const worker = config.processes.worker!;
    expect(config.timezone).toBe("America/Vancouver");
    expect(worker.scaling).toMatchObject({ processType: "worker", apiKeyEnv: "AUTOSCALE_HEROKU_API_KEY" });
    expect(worker.decision).toMatchObject({
      minMeasurement: 300,
      maxMeasurement: 1500,
      failsToScaleUp: 2,
      passesToScaleDown: 7,
      maxProcesses: { "0:00": 2, "9:00": 5, "17:00": 2 },
      minProcesses: 2,
      increment: 2,
      postScaleWaitSeconds: 60,
    });
    expect(worker.notification).toMatchObject({
      backends: ["console", "log"],
      notifyOn: ["scale", "scale-failed"],
    });
  });

  it("honour the heartbeat interval: samples under a minute, waiting ticks over it", () => {
    expect(configFromSeedEnv(minimal).processes.web).toMatchObject({
      intervalSeconds: 60,
      measurement: { samples: 2 },
    });
    expect(
      configFromSeedEnv({ ...minimal, AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS: "10" }).processes.web!
        .measurement,
    ).toMatchObject({ samples: 6 });
    expect(
      configFromSeedEnv({ ...minimal, AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS: "180" }).processes.web,
    ).toMatchObject({ intervalSeconds: 180 });
    expect(problems({ ...minimal, AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS: "soon" })).toEqual([
      "AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS: expected seconds > 0",
    ]);
  });

  it("map seed 000's scale-difference notification onto too-rapid", () => {
    const config = configFromSeedEnv({
      ...minimal,
      AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_THRESHOLD: "10",
      AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_PERIOD_IN_MINUTES: "30",
    });
    expect(config.processes.web!.notification).toMatchObject({
      scaleDiffThreshold: 10,
      scaleDiffPeriodMinutes: 30,
      notifyOn: ["above-max", "too-rapid"],
    });
    expect(problems({ ...minimal, AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_THRESHOLD: "10" })).toEqual([
      expect.stringMatching(/^AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_PERIOD_IN_MINUTES: /) as unknown,
    ]);
  });

  it("report problems under the variable's name", () => {
    expect(problems({ ...minimal, AUTOSCALE_MAX_DYNOS: "lots" })).toEqual([
      expect.stringMatching(/^AUTOSCALE_MAX_DYNOS: /),
    ]);
    expect(problems({ ...minimal, AUTOSCALE_MIN_DYNOS: '{"25:00": 1}' })).toEqual([
      "AUTOSCALE_MIN_DYNOS.25:00: expected a time of day H:MM",
    ]);
    expect(problems({ ...minimal, AUTOSCALE_MIN_DYNOS: "5" })).toEqual([
      "AUTOSCALE_MIN_DYNOS: minProcesses (5) is above maxProcesses (3) from 0:00",
    ]);
    expect(problems({ AUTOSCALE_HEROKU_APP_NAME: "dancing-forest-1234" })).toEqual([
      "AUTOSCALE_HEARTBEAT_URL: required (the heartbeat's absolute URL)",
    ]);
    expect(problems({ ...minimal, AUTOSCALE_HEROKU_APP_NAME: "Not An App" })).toEqual([
      "AUTOSCALE_HEROKU_APP_NAME: expected a Heroku app name or id",
    ]);
  });

  it("refuse an unknown AUTOSCALE_* variable, naming it and the closest known one", () => {
    expect(problems({ ...minimal, AUTOSCALE_MAX_DYNS: "5" })).toEqual([
      "AUTOSCALE_MAX_DYNS: unknown variable (did you mean AUTOSCALE_MAX_DYNOS?)",
    ]);
    expect(problems({ ...minimal, AUTOSCALE_FROBNICATE: "1", AUTOSCALE_CONFIGG: "{}" })).toEqual([
      "AUTOSCALE_CONFIGG: unknown variable (did you mean AUTOSCALE_CONFIG?)",
      "AUTOSCALE_FROBNICATE: unknown variable",
    ]);
    // The project's other variables are not this mode's, nor typos.
    expect(() =>
      configFromSeedEnv({ ...minimal, AUTOSCALE_TRIGGER_TOKEN: "t", AUTOSCALE_STATE_DIR: "/tmp/x" }),
    ).not.toThrow();
  });

  it("refuse a switch that is not true/false, 1/0 or yes/no, in any case", () => {
    expect(problems({ ...minimal, AUTOSCALE_NOTIFY_ON_EVERY_SCALE: "sure" })).toEqual([
      'AUTOSCALE_NOTIFY_ON_EVERY_SCALE: expected true/false, 1/0 or yes/no, got "sure"',
    ]);
    const config = configFromSeedEnv({
      ...minimal,
      AUTOSCALE_NOTIFY_ON_EVERY_SCALE: "YES",
      AUTOSCALE_NOTIFY_IF_NEEDS_EXCEED_MAX: "No",
      AUTOSCALE_NOTIFY_ON_SCALE_FAILS: " 1 ",
      AUTOSCALE_NOTIFY_ON_EVERY_PING: "0",
    });
    expect(config.processes.web!.notification.notifyOn).toEqual(["scale", "scale-failed"]);
  });

  it("say which required variable is missing, once, among the other problems", () => {
    expect(problems({ AUTOSCALE_MAX_DYNS: "5" })).toEqual([
      "AUTOSCALE_MAX_DYNS: unknown variable (did you mean AUTOSCALE_MAX_DYNOS?)",
      "AUTOSCALE_HEROKU_APP_NAME: required (the Heroku app's name)",
      "AUTOSCALE_HEARTBEAT_URL: required (the heartbeat's absolute URL)",
    ]);
    expect(problems({ AUTOSCALE_HEARTBEAT_URL: "https://example.com/", AUTOSCALE_MIN_DYNOS: "0.5" })).toEqual(
      [
        "AUTOSCALE_HEROKU_APP_NAME: required (the Heroku app's name)",
        expect.stringMatching(/^AUTOSCALE_MIN_DYNOS: /),
      ],
    );
  });

  it("name the time-zone variable that was set", () => {
    expect(problems({ ...minimal, TIME_ZONE: "Mars/Olympus" })).toEqual([
      expect.stringMatching(/^TIME_ZONE: /),
    ]);
    expect(problems({ ...minimal, AUTOSCALE_TIME_ZONE: "Mars/Olympus", TIME_ZONE: "UTC" })).toEqual([
      expect.stringMatching(/^AUTOSCALE_TIME_ZONE: /),
    ]);
  });

  it("are in use when any AUTOSCALE_* setting is set, a typo too, but not the project's other variables", () => {
    expect(usesSeedEnv(minimal)).toBe(true);
    expect(usesSeedEnv({ AUTOSCALE_MAX_DYNS: "5" })).toBe(true);
    expect(usesSeedEnv({ AUTOSCALE_MAX_DYNOS: "" })).toBe(false);
    expect(
      usesSeedEnv({
        AUTOSCALE_CONFIG: "{}",
        AUTOSCALE_TRIGGER_TOKEN: "t",
        AUTOSCALE_STATUS_TOKEN: "t",
        AUTOSCALE_STATE_DIR: "d",
        AUTOSCALE_HEROKU_API_KEY: "k",
        HEROKU_API_KEY: "k",
      }),
    ).toBe(false);
    expect(usesSeedEnv({ AUTOSCALE_WEBHOOK_URL: "https://x" }, new Set(["AUTOSCALE_WEBHOOK_URL"]))).toBe(
      false,
    );
  });

  it("are used by the functions when AUTOSCALE_CONFIG is not set, and yield to it when it is", () => {
    expect(configForFunctions(minimal, { processes: {} }).processes.web!.scaling).toMatchObject({
      app: "dancing-forest-1234",
    });
    const json = JSON.stringify({
      processes: {
        api: {
          measurement: { backend: "response-time", url: "https://example.com/" },
          scaling: { backend: "heroku", app: "other-app-name" },
        },
      },
    });
    expect(Object.keys(configForFunctions({ ...minimal, AUTOSCALE_CONFIG: json }, {}).processes)).toEqual([
      "api",
    ]);
  });

  it("leave the functions on the bundled config when only variables it names are set", () => {
    const bundled = {
      processes: {
        web: {
          measurement: { backend: "response-time", url: "https://example.com/" },
          scaling: { backend: "heroku", app: "bundled-app", apiKeyEnv: "AUTOSCALE_STAGING_KEY" },
        },
      },
    };
    const env = { AUTOSCALE_STAGING_KEY: "k", AUTOSCALE_TRIGGER_TOKEN: "t" };
    expect(configForFunctions(env, bundled).processes.web!.scaling).toMatchObject({ app: "bundled-app" });
    expect(() => configForFunctions({ ...env, AUTOSCALE_MAX_DYNS: "5" }, bundled)).toThrow(
      /AUTOSCALE_MAX_DYNS: unknown variable/,
    );
  });

  it("are all documented in docs/environment.md", async () => {
    const { readFile } = await import("node:fs/promises");
    const doc = await readFile(new URL("../../docs/environment.md", import.meta.url), "utf8");
    const names = [
      ...SEED_VARIABLES.map((v) => v.name),
      "AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS",
      "AUTOSCALE_HEROKU_API_KEY",
      "AUTOSCALE_NOTIFICATION_BACKENDS",
      "AUTOSCALE_NOTIFY_ON_EVERY_PING",
      "AUTOSCALE_NOTIFY_IF_NEEDS_BELOW_MIN",
    ];
    for (const name of names) expect(doc).toContain(`\`${name}\``);
  });
});
