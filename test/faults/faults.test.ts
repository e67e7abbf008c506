import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { emptyProcessRecord } from "../../src/engine/process-record.js";
import { encodeState } from "../../src/engine/state-document.js";
import { runTick } from "../../src/engine/tick.js";
import type { TickReport } from "../../src/engine/report.js";
import { createStateStore } from "../../src/state/index.js";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy.js";
import { plant, plantedIn } from "../helpers/planted.js";
import { seedState } from "../helpers/stores.js";
import { APP, startWorld, type World } from "../helpers/world.js";

/**
 * The fault suite (`npm run test:faults`, and part of `npm test`): real ticks against the local
 * world while the store, the platform, the app or a notifier misbehaves, each case with what the
 * autoscaler guarantees under it. Every output (the reports, the notifications) is searched for
 * the secrets the suite planted: none may appear. The README's reliability table lists the cases.
 */
let world: World;
let proxy: FaultProxy;
let hungServer: Server;
let hungUrl: string;
const outputs: string[] = [];
const WEBHOOK_SECRET = plant("webhook-path");

beforeAll(async () => {
  world = await startWorld(["web"]);
  proxy = await startFaultProxy(world.upstash.url);
  hungServer = createServer(() => {});
  await new Promise<void>((resolve) => hungServer.listen(0, "127.0.0.1", resolve));
  hungUrl = `http://127.0.0.1:${(hungServer.address() as AddressInfo).port}`;
});
afterEach(() => {
  proxy.clear();
  world.heroku.setLatency(0);
  world.targets.web!.set({ latencyMs: 0, status: 200 });
});
afterAll(async () => {
  hungServer.closeAllConnections();
  await new Promise((resolve) => hungServer.close(resolve));
  await proxy.close();
  await world.close();
  // No output of any case (the reports, the notifications) holds a secret the suite planted.
  expect(plantedIn(outputs.join("\n"))).toEqual([]);
});

let prefixes = 0;
/** A config of its own key prefix; web fails over 300 ms and scales up on the first fail. */
function config(extra: Record<string, unknown> = {}): Config {
  return parseConfig({
    keyPrefix: `faults-${++prefixes}`,
    timezone: "UTC",
    tickDeadlineMs: 12000,
    processes: {
      web: {
        measurement: {
          backend: "response-time",
          url: `${world.targets.web!.url}/heartbeat`,
          timeoutMs: 1000,
        },
        decision: {
          minMeasurement: 100,
          maxMeasurement: 300,
          failsToScaleUp: 1,
          maxProcesses: 5,
          scaleUpCooldownSeconds: 600,
        },
        scaling: { backend: "heroku", app: APP, processType: "web", timeoutMs: 1500 },
        notification: { backends: ["memory"], notifyOn: ["scale", "scale-failed"], timeoutMs: 1000 },
        ...extra,
      },
    },
  });
}

/** A tick through the proxy, with the store client's real defaults (retries included). */
async function tick(cfg: Config): Promise<TickReport> {
  const env = {
    ...world.env,
    UPSTASH_REDIS_REST_URL: proxy.url,
    UPSTASH_REDIS_REST_TOKEN: world.upstash.token,
  };
  const store = createStateStore(env, cfg.keyPrefix);
  const started = performance.now();
  const report = await runTick(cfg, { clock: world.clock, store, env, notifiers: { memory: world.memory } });
  // Whatever fails, a tick returns within its deadline (and the store's reserve).
  expect(performance.now() - started).toBeLessThan(cfg.tickDeadlineMs + 6000);
  outputs.push(JSON.stringify(report), JSON.stringify(world.memory.events));
  world.clock.advance(60_000);
  return report;
}

const slow = () => world.targets.web!.set({ latencyMs: 400 });

describe("the store misbehaves", () => {
  it("fails to load: the tick fails, nothing is scaled, the next tick works", async () => {
    const cfg = config();
    world.heroku.setQuantity(APP, "web", 1);
    slow();
    proxy.inject({ command: "GET", fault: { kind: "fail" }, times: 10 });
    const before = world.heroku.scaleCount();
    const failed = await tick(cfg);
    expect(failed.error).toMatch(/Upstash Redis error during load/);
    expect(world.heroku.scaleCount()).toBe(before);
    proxy.clear();
    const next = await tick(cfg);
    expect(next.error).toBeUndefined();
    expect(next.processes[0]!.scaled).toEqual({ from: 1, to: 2 });
  });

  it("hangs on load: the tick ends at its deadline without scaling", async () => {
    const cfg = config();
    proxy.inject({ command: "GET", fault: { kind: "hang" }, times: 10 });
    const before = world.heroku.scaleCount();
    const report = await tick(cfg);
    expect(report.error).toBeDefined();
    expect(world.heroku.scaleCount()).toBe(before);
  });

  it("fails to write history: a warning, never a lost tick", async () => {
    const cfg = config();
    proxy.inject({ command: "XADD", fault: { kind: "fail" }, times: 10 });
    const report = await tick(cfg);
    expect(report.error).toBeUndefined();
    expect(report.warnings.join("\n")).toMatch(/history write failed/);
  });

  it("loses the lock's release: the next tick within the lock's life is skipped, the one after runs", async () => {
    const cfg = config();
    proxy.inject({ command: "EVAL", scriptContains: "del", fault: { kind: "fail" }, times: 10 });
    await tick(cfg);
    proxy.clear();
    // The lock lives tickDeadlineMs + 5 s of real time: the next tick at once finds it held.
    const skipped = await tick(cfg);
    expect(skipped.skipped).toBe("locked");
  });

  it("holds a corrupt state document: starts afresh with a warning", async () => {
    const cfg = config();
    await seedState(world.storeFor(cfg.keyPrefix), "{not json");
    const report = await tick(cfg);
    expect(report.error).toBeUndefined();
    expect(report.warnings.join("\n")).toMatch(/stored state is not JSON; starting afresh/);
  });
});

describe("the store fails between the PATCH and the save", () => {
  it("the next tick takes the scale for its own, inside its cool-down, and does not notify it again", async () => {
    const cfg = config();
    world.heroku.setQuantity(APP, "web", 1);
    world.memory.events.length = 0;
    slow();
    // The tick appends the intent (an EVAL of APPEND); its fenced save, after the PATCH, fails.
    proxy.inject({ command: "EVAL", scriptContains: "set", fault: { kind: "fail" }, times: 5 });
    const scaled = await tick(cfg);
    expect(scaled.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
    expect(scaled.error).toMatch(/state store \(upstash\) failed/);
    proxy.clear();
    const before = world.heroku.scaleCount();
    const next = await tick(cfg);
    expect(next.processes[0]).toMatchObject({
      status: "held",
      decision: { reason: expect.stringMatching(/cooling down/) as unknown },
    });
    expect(next.processes[0]!.manual).toBeUndefined();
    expect(world.heroku.scaleCount()).toBe(before);
    // Notified once, by the tick that made it.
    expect(world.memory.events.filter((e) => e.kind === "scale")).toHaveLength(1);
    expect(next.processes[0]!.notified).toEqual([]);
  });
});

describe("a decision asks for a count no platform runs", () => {
  // A stored pause's count stands outside the bounds by design, so only the last guard checks it.
  it.each([2.5, -1, 1e6])(
    "a stored pause at %s processes: the PATCH is refused and reported, the count unchanged",
    async (processes) => {
      const cfg = config();
      world.heroku.setQuantity(APP, "web", 1);
      const paused = { since: world.clock.now() - 60_000, processes, by: "cli", announced: true as const };
      await seedState(
        world.storeFor(cfg.keyPrefix),
        encodeState({ web: { ...emptyProcessRecord(), paused } }, world.clock.now()),
      );
      const before = world.heroku.requests.filter((r) => r.method === "PATCH").length;
      const report = await tick(cfg);
      expect(report.processes[0]).toMatchObject({
        status: "error",
        error: {
          id: "target_refused",
          message: `not scaled: the target ${processes} is not a whole number of processes from 0 to 10000`,
        },
      });
      expect(world.heroku.requests.filter((r) => r.method === "PATCH").length).toBe(before);
      expect(world.heroku.quantity(APP, "web")).toBe(1);
    },
  );
});

describe("ticks collide", () => {
  it("two at once: exactly one runs, the other is skipped", async () => {
    const cfg = config();
    const reports = await Promise.all([tick(cfg), tick(cfg)]);
    expect(reports.filter((r) => r.skipped === "locked")).toHaveLength(1);
    expect(reports.filter((r) => !r.skipped && !r.error)).toHaveLength(1);
  });

  it("a killed tick left its lock: ticks are skipped until it expires, never blocked for good", async () => {
    const cfg = config();
    const lock = await world.storeFor(cfg.keyPrefix).acquireLock(1500);
    expect(lock).not.toBeNull();
    expect((await tick(cfg)).skipped).toBe("locked");
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await tick(cfg)).skipped).toBeUndefined();
  });
});

describe("the platform misbehaves", () => {
  for (const [status, id] of [
    [401, "unauthorized"],
    [403, "forbidden"],
    [404, "not_found"],
    [422, "invalid_params"],
    [429, "rate_limit"],
    [500, "internal_server_error"],
    [503, "service_unavailable"],
  ] as const) {
    it(`answers a scale with ${status}: the error is reported and notified, the count unchanged`, async () => {
      const cfg = config();
      world.heroku.setQuantity(APP, "web", 1);
      slow();
      world.heroku.failNext(status, { id, message: `injected ${id}` }, 1, "PATCH");
      const report = await tick(cfg);
      expect(report.processes[0]).toMatchObject({ status: "error", error: { id } });
      expect(world.heroku.quantity(APP, "web")).toBe(1);
    });
  }

  it("answers 429: the account backs off (no request next tick), the decision is made again after it", async () => {
    const cfg = config();
    world.heroku.setQuantity(APP, "web", 1);
    slow();
    world.heroku.failNext(429, undefined, 1, "PATCH");
    expect((await tick(cfg)).processes[0]).toMatchObject({ status: "error", error: { id: "rate_limit" } });
    const before = world.heroku.requests.length;
    expect((await tick(cfg)).processes[0]).toMatchObject({ error: { id: "rate_limit_backoff" } });
    expect(world.heroku.requests.length).toBe(before);
    expect((await tick(cfg)).processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
  });

  it("refuses a scale over the dyno limit (422): capped at the limit named, and kept within it", async () => {
    const cfg = config();
    world.heroku.setQuantity(APP, "web", 2);
    slow();
    const refusal = {
      id: "cannot_update_above_limit",
      message: "Cannot update to more than 2 Basic size dynos per process type.",
    };
    world.heroku.failNext(422, refusal, 1, "PATCH");
    const capped = await tick(cfg);
    expect(capped.processes[0]).toMatchObject({ status: "held", decision: { action: "hold", target: 2 } });
    const before = world.heroku.scaleCount();
    expect((await tick(cfg)).processes[0]!.status).toBe("held");
    expect(world.heroku.scaleCount()).toBe(before);
    expect(world.heroku.quantity(APP, "web")).toBe(2);
  });

  it("applies a scale but answers too late: the next tick finds it applied and does not scale again", async () => {
    const cfg = config();
    world.heroku.setQuantity(APP, "web", 1);
    slow();
    world.heroku.setLatency(4000, "PATCH");
    const late = await tick(cfg);
    expect(late.processes[0]!.status).toMatch(/error|timeout/);
    world.heroku.setLatency(0);
    const before = world.heroku.scaleCount();
    const next = await tick(cfg);
    expect(world.heroku.quantity(APP, "web")).toBe(2);
    // Recorded as its own scale, inside the cool-down: no second PATCH.
    expect(world.heroku.scaleCount()).toBe(before);
    expect(next.processes[0]!.status).not.toBe("error");
  });
});

describe("the app and the notifiers misbehave", () => {
  it("a heartbeat that never answers is a failed reading within its timeout", async () => {
    const cfg = config({
      measurement: { backend: "response-time", url: `${hungUrl}/heartbeat`, timeoutMs: 500 },
    });
    const report = await tick(cfg);
    expect(report.processes[0]!.reading).toMatchObject({ ok: false });
  });

  it("a webhook notifier that never answers costs only its timeout", async () => {
    const cfg = config({
      notification: {
        backends: [{ backend: "webhook", url: `${hungUrl}/${WEBHOOK_SECRET}` }],
        notifyOn: ["measurement"],
        timeoutMs: 500,
      },
    });
    const report = await tick(cfg);
    expect(report.error).toBeUndefined();
    expect(report.processes[0]!.warnings.join("\n")).toMatch(/webhook/);
  });
});
