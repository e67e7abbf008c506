import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { startResendApi, type ResendApiServer } from "../../src/local/resend-api.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../src/local/webhook-receiver.js";
import { ConsoleNotifier } from "../../src/notify/console.js";
import { LogNotifier } from "../../src/notify/log.js";
import { MemoryNotifier } from "../../src/notify/memory.js";
import { runTick } from "../../src/engine/tick.js";
import { steerProcess } from "../../src/engine/steer.js";
import { APP, startWorld, type World } from "../helpers/world.js";

/**
 * Every event through real ticks, to every backend at once: console and log lines, memory, an
 * email through the real resend SDK to the local Resend API, a Slack-format webhook over HTTP.
 */
const RESEND_KEY = "re_test_0123456789";
let world: World;
let resend: ResendApiServer;
let hook: WebhookReceiver;
let consoleLines: string[];
let logLines: string[];
let memory: MemoryNotifier;

beforeAll(async () => {
  world = await startWorld(["web"]);
  resend = await startResendApi({ apiKey: RESEND_KEY });
  hook = await startWebhookReceiver();
});
afterAll(async () => {
  await Promise.all([resend.close(), hook.close()]);
  await world.close();
});
beforeEach(() => {
  world.heroku.setQuantity(APP, "web", 1);
  world.targets.web!.set({ latencyMs: 0, status: 200 });
  consoleLines = [];
  logLines = [];
  memory = new MemoryNotifier();
  resend.received.length = 0;
  hook.received.length = 0;
});

function config(notification: Record<string, unknown>, decision: Record<string, unknown> = {}): Config {
  return parseConfig({
    keyPrefix: `events-${Math.random().toString(36).slice(2, 8)}`,
    processes: {
      web: {
        measurement: { backend: "response-time", url: world.targets.web!.url, timeoutMs: 1000 },
        decision: {
          minMeasurement: 100,
          maxMeasurement: 300,
          failsToScaleUp: 1,
          passesToScaleDown: 1,
          postScaleWaitSeconds: 0,
          ...decision,
        },
        scaling: { backend: "heroku", app: APP },
        notification: {
          backends: [
            "console",
            "log",
            "memory",
            { backend: "email", from: "Autoscaler <bot@example.com>", to: "ops@example.com" },
            { backend: "webhook", urlEnv: "SLACK_WEBHOOK_URL", format: "slack" },
          ],
          ...notification,
        },
      },
    },
  });
}

async function tick(cfg: Config) {
  const env = {
    ...world.env,
    RESEND_API_KEY: RESEND_KEY,
    RESEND_BASE_URL: resend.url,
    SLACK_WEBHOOK_URL: `${hook.url}/services/T0/B0/secret`,
  };
  const notifiers = {
    console: new ConsoleNotifier((l) => consoleLines.push(l)),
    log: new LogNotifier((l) => logLines.push(l)),
    memory,
  };
  const report = await runTick(cfg, {
    clock: world.clock,
    store: world.storeFor(cfg.keyPrefix),
    env,
    notifiers,
  });
  world.clock.advance(60_000);
  expect(report.processes[0]!.warnings).toEqual([]);
  return report;
}

/** What every backend received, as `kind/phase` per send, checked to agree across backends. */
function received(): string[][] {
  const sends = resend.received.map((r) => (r.body as { subject: string }).subject);
  const fromMemory = memory.events.map((e) => `${e.kind}/${e.phase ?? "-"}`);
  const fromLog = logLines
    .map((l) => JSON.parse(l) as { event: string; phase?: string })
    .map((l) => `${l.event}/${l.phase ?? "-"}`);
  expect(fromLog).toEqual(fromMemory);
  expect(consoleLines).toHaveLength(fromMemory.length);
  expect(hook.received).toHaveLength(sends.length);
  return [fromMemory, sends];
}

describe("notifications through real ticks", () => {
  it("measurement: every measurement, to every backend", async () => {
    const cfg = config({ notifyOn: ["measurement"] });
    await tick(cfg);
    await tick(cfg);
    const [events, subjects] = received();
    expect(events).toEqual(["measurement/-", "measurement/-"]);
    expect(subjects).toHaveLength(2);
    expect(consoleLines[0]).toMatch(/web measurement: response-time measured \d+ ms$/);
  });

  it("scale: every scale with from → to, the why and the readings, by email and Slack webhook", async () => {
    world.targets.web!.set({ latencyMs: 350 });
    await tick(config({ notifyOn: ["scale"] }));
    const [events, subjects] = received();
    expect(events).toEqual(["scale/-"]);
    expect(subjects).toEqual(["[autoscalebot] web: scaled 1 → 2"]);
    const email = resend.received[0]!.body as {
      from: string;
      to: string[] | string;
      text: string;
      html: string;
    };
    expect(email.from).toBe("Autoscaler <bot@example.com>");
    expect(email.text).toContain("1 fail in a row (> 300 or failed)");
    expect(email.html).toContain("<table");
    const slack = hook.received[0]!;
    expect(slack.path).toBe("/services/T0/B0/secret");
    expect(slack.body).toMatchObject({
      text: expect.stringContaining("scaled 1 → 2") as unknown,
      blocks: expect.any(Array) as unknown,
    });
  });

  it("above-max: started, not repeated within repeatAfterMinutes, repeated after, resolved once", async () => {
    world.heroku.setQuantity(APP, "web", 3);
    world.targets.web!.set({ latencyMs: 350 });
    const cfg = config({ notifyOn: ["above-max"], repeatAfterMinutes: 3, resolveAfterMinutes: 1 });
    for (let i = 0; i < 4; i++) await tick(cfg); // minutes 0..3: started at 0, repeated at 3
    world.targets.web!.set({ latencyMs: 150 });
    await tick(cfg);
    await tick(cfg);
    const [events, subjects] = received();
    expect(events).toEqual(["above-max/started", "above-max/repeated", "above-max/resolved"]);
    expect(subjects).toEqual([
      "[autoscalebot] web: needs more than 3 processes (above-max)",
      "[autoscalebot] ongoing: web: needs more than 3 processes (above-max)",
      "[autoscalebot] resolved: web: above-max",
    ]);
    const first = resend.received[0]!.body as { text: string };
    expect(first.text).toContain("raise maxProcesses (now 3)");
  });

  it("below-min: started at the minimum with fast readings, resolved when load returns", async () => {
    const cfg = config({ notifyOn: ["below-min"], resolveAfterMinutes: 1 });
    await tick(cfg);
    await tick(cfg);
    world.targets.web!.set({ latencyMs: 150 });
    await tick(cfg); // away for the first minute: not yet resolved
    expect(memory.events.map((e) => e.phase)).toEqual(["started"]);
    await tick(cfg);
    expect(received()[0]).toEqual(["below-min/started", "below-min/resolved"]);
  });

  it("too-rapid: more scales in one direction than allowed within the period", async () => {
    world.targets.web!.set({ latencyMs: 350 });
    const cfg = config(
      { notifyOn: ["too-rapid"], tooRapidNumScales: 1, tooRapidPeriodMinutes: 10 },
      { maxProcesses: 5 },
    );
    await tick(cfg); // 1 → 2
    await tick(cfg); // 2 → 3: two scales up within 10 minutes
    await tick(cfg); // 3 → 4: still too rapid, not repeated
    expect(received()[0]).toEqual(["too-rapid/started"]);
    expect(memory.events[0]!.message).toBe("scaling too rapidly: 2 scales up within 10 min (more than 1)");
  });

  it("scale-failed: the platform's error id and message, not repeated while it lasts, resolved when it works", async () => {
    world.targets.web!.set({ latencyMs: 350 });
    const cfg = config({ notifyOn: ["scale-failed"] });
    world.heroku.failNext(429, undefined, 1, "PATCH");
    await tick(cfg); // refused: the account backs off for two minutes
    await tick(cfg); // backing off: no request, the same condition
    await tick(cfg); // read and scaled
    const [events] = received();
    expect(events).toEqual(["scale-failed/started", "scale-failed/resolved"]);
    expect(memory.events[0]).toMatchObject({
      error: { id: "rate_limit" },
      advice: expect.stringContaining("pool of 4500 requests refills about 75 a minute") as unknown,
    });
  });

  it("scale-failed from a refused scale is not resolved by ticks that do not scale, only by a scale that works", async () => {
    const cfg = config({ notifyOn: ["scale-failed"] });
    world.targets.web!.set({ latencyMs: 350 });
    world.heroku.failNext(
      422,
      { id: "invalid_params", message: "Cannot update to more than 1 Basic size dynos per process type." },
      2,
      "PATCH",
    );
    await tick(cfg); // slow: scale refused
    world.targets.web!.set({ latencyMs: 150 });
    await tick(cfg); // in range: no scale tried, the failure is not over
    world.targets.web!.set({ latencyMs: 350 });
    await tick(cfg); // refused again: still the same condition
    await tick(cfg); // accepted
    expect(received()[0]).toEqual(["scale-failed/started", "scale-failed/resolved"]);
    expect(world.heroku.quantity(APP, "web")).toBe(2);
  });

  it("fail-safe: its own event when the app is down, resolved when it answers", async () => {
    world.targets.web!.set({ status: 503 });
    const cfg = config(
      { notifyOn: ["fail-safe", "scale"], resolveAfterMinutes: 0 },
      { failSafe: {}, failsToScaleUp: 5, passesToScaleDown: 5 },
    );
    await tick(cfg);
    world.targets.web!.set({ status: 200 });
    await tick(cfg);
    expect(received()[0]).toEqual(["scale/-", "fail-safe/started", "fail-safe/resolved"]);
    expect(world.heroku.quantity(APP, "web")).toBe(3);
  });

  it("measurement-failed: after N failed measurements in a row, resolved when one succeeds", async () => {
    world.heroku.setQuantity(APP, "web", 3);
    world.targets.web!.set({ status: 500 });
    const cfg = config({ notifyOn: ["measurement-failed"], measurementFailuresToNotify: 2 });
    await tick(cfg);
    expect(memory.events).toEqual([]);
    await tick(cfg);
    await tick(cfg);
    world.targets.web!.set({ status: 200 });
    await tick(cfg);
    expect(received()[0]).toEqual(["measurement-failed/started", "measurement-failed/resolved"]);
    expect(memory.events[0]!.message).toBe(
      "2 failed measurements in a row; the last: heartbeat answered HTTP 500",
    );
  });

  it("pause, resume and manual-scale: to every backend, each in its own words", async () => {
    const cfg = config({ notifyOn: ["pause", "resume", "manual-scale"] });
    const steer = (action: "pause" | "resume", fields: Record<string, unknown>) =>
      steerProcess(action, cfg, { store: world.storeFor(cfg.keyPrefix), clock: world.clock }, fields, "cli");
    await tick(cfg);
    await steer("pause", { process: "web", minutes: 5, processes: 2 });
    const until = new Date(world.clock.now() + 5 * 60_000).toISOString();
    await tick(cfg);
    await steer("resume", { process: "web" });
    await tick(cfg); // resumed: scales 2 -> 1 on fast readings (not notified here)
    world.heroku.setQuantity(APP, "web", 3); // heroku ps:scale web=3
    await tick(cfg);
    expect(received()).toEqual([
      ["pause/-", "resume/-", "manual-scale/-"],
      [
        `[autoscalebot] web: paused at 2 processes until ${until}`,
        "[autoscalebot] web: resumed",
        "[autoscalebot] web: scaled by hand 1 → 3",
      ],
    ]);
    expect(consoleLines[0]).toMatch(
      new RegExp(`web pause: paused by cli: measured but not scaled, held at 2 processes until ${until}$`),
    );
    expect(consoleLines[2]).toMatch(
      /web manual-scale: scaled by hand 1 -> 3: held there until \S+ \(the fail-safe may still scale out\), then deciding again$/,
    );
    expect(JSON.parse(logLines[0]!)).toMatchObject({
      level: "warn",
      event: "pause",
      to: 2,
      until,
      by: "cli",
    });
    expect(JSON.parse(logLines[1]!)).toMatchObject({ level: "info", event: "resume", by: "cli" });
    expect(JSON.stringify(hook.received[2]!.body)).toContain("scaled by hand 1 → 3");
    world.heroku.setQuantity(APP, "web", 1);
  });

  it("a failing backend is a warning; the others still receive and the tick completes", async () => {
    resend.failNext(500);
    world.targets.web!.set({ latencyMs: 350 });
    const cfg = config({ notifyOn: ["scale"] });
    const env = { ...world.env, RESEND_API_KEY: RESEND_KEY, RESEND_BASE_URL: resend.url };
    const report = await runTick(cfg, {
      clock: world.clock,
      store: world.storeFor(cfg.keyPrefix),
      env,
      notifiers: { memory, console: new ConsoleNotifier(() => {}), log: new LogNotifier(() => {}) },
    });
    expect(report.processes[0]).toMatchObject({ status: "scaled", notified: ["scale"] });
    expect(report.processes[0]!.warnings).toEqual([
      expect.stringMatching(/^notification via email failed: email via Resend failed/) as unknown,
      "notification via webhook failed: webhook: environment variable SLACK_WEBHOOK_URL (the webhook URL) is not set",
    ]);
    expect(memory.events.map((e) => e.kind)).toEqual(["scale"]);
    expect(JSON.stringify(report)).not.toContain(RESEND_KEY);
  });
});
