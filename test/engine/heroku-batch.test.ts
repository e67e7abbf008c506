import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../../src/config/schema.js";
import { decodeState } from "../../src/engine/state-document.js";
import { runTick } from "../../src/engine/tick.js";
import { startHerokuApi, type HerokuApiServer } from "../../src/local/heroku-api.js";
import { startWorld, type World } from "../helpers/world.js";

/**
 * Heroku economical, through real ticks: the processes of one app share one formation read and
 * one batch PATCH a tick, scale-downs wait while the account's pool is below the reserve, a 429
 * backs the account off without losing the decision, and a 422 over a dyno limit is capped.
 */
const NAMES = ["web", "worker", "mailer", "clock"];
/** Two apps of one account: web and worker on the first, mailer and clock on the second. */
const APPS = { "shop-frontend": ["web", "worker"], "shop-backend": ["mailer", "clock"] } as const;
const appOf = (name: string) =>
  (APPS["shop-frontend"] as readonly string[]).includes(name) ? "shop-frontend" : "shop-backend";

let world: World;
let heroku: HerokuApiServer;
beforeAll(async () => {
  world = await startWorld(NAMES);
});
afterAll(() => world.close());
beforeEach(async () => {
  heroku = await startHerokuApi({
    apiKey: world.apiKey,
    apps: Object.fromEntries(
      Object.entries(APPS).map(([app, types]) => [app, Object.fromEntries(types.map((t) => [t, 1]))]),
    ),
    // A plan's limit, low enough to reach: Heroku refuses a type past it with a 422 that names it.
    sizeLimits: { "Standard-1X": 3 },
  });
  world.memory.events.length = 0;
  for (const name of NAMES) world.targets[name]!.set({ latencyMs: 0, status: 200 });
});
afterEach(() => heroku.close());

/** Every process scaling at each slow (HTTP 500) tick and down at each fast one, by one. */
function config(
  decision: Record<string, unknown> = {},
  notifyOn = ["scale", "scale-failed", "dyno-limit"],
): Config {
  const base = world.config({
    decision: {
      // Slow only when told (HTTP 500): a busy machine's slow heartbeat is not a fail.
      maxMeasurement: 3000,
      failsToScaleUp: 1,
      passesToScaleDown: 1,
      postScaleWaitSeconds: 0,
      maxProcesses: 5,
      ...decision,
    },
    notifyOn,
  });
  for (const name of NAMES) Object.assign(base.processes[name]!.scaling, { app: appOf(name) });
  return base;
}

const tick = async (cfg: Config) => {
  const report = await runTick(cfg, {
    clock: world.clock,
    store: world.storeFor(cfg.keyPrefix),
    env: { HEROKU_API_KEY: world.apiKey, HEROKU_API_URL: heroku.url },
    notifiers: { memory: world.memory },
  });
  world.clock.advance(60_000);
  return Object.fromEntries(report.processes.map((p) => [p.process, p]));
};

/** The requests of the tick `run` makes, as "METHOD path". */
async function requestsOf<T>(run: () => Promise<T>): Promise<{ result: T; requests: string[] }> {
  const before = heroku.requests.length;
  const result = await run();
  return { result, requests: heroku.requests.slice(before).map((r) => `${r.method} ${r.path}`) };
}

const slow = (...names: string[]) => names.forEach((n) => world.targets[n]!.set({ status: 500 }));
const stored = async (cfg: Config) => decodeState(await world.storeFor(cfg.keyPrefix).load()).state.processes;

describe("Heroku, one read and one write per app", () => {
  it("reads each app's formation once a tick and scales all of its types in one batch PATCH", async () => {
    const cfg = config();
    const held = await requestsOf(() => tick(cfg));
    expect(held.requests.sort()).toEqual([
      "GET /apps/shop-backend/formation",
      "GET /apps/shop-frontend/formation",
    ]);
    slow(...NAMES);
    const scaled = await requestsOf(() => tick(cfg));
    expect(Object.values(scaled.result).map((p) => p.status)).toEqual([
      "scaled",
      "scaled",
      "scaled",
      "scaled",
    ]);
    expect(scaled.requests.filter((r) => r.startsWith("GET"))).toHaveLength(2);
    expect(scaled.requests.filter((r) => r.startsWith("PATCH")).sort()).toEqual([
      "PATCH /apps/shop-backend/formation",
      "PATCH /apps/shop-frontend/formation",
    ]);
    const patch = heroku.requests.find(
      (r) => r.method === "PATCH" && r.path === "/apps/shop-frontend/formation",
    );
    expect(patch?.body).toEqual({
      updates: [
        { type: "web", quantity: 2 },
        { type: "worker", quantity: 2 },
      ],
    });
    for (const name of NAMES) expect(heroku.quantity(appOf(name), name)).toBe(2);
  });

  it("still sees a manual ps:scale every tick", async () => {
    const cfg = config({ passesToScaleDown: 5 });
    await tick(cfg);
    heroku.setQuantity("shop-frontend", "worker", 3);
    const report = await tick(cfg);
    expect(report.worker).toMatchObject({ current: 3, manual: { from: 1, to: 3 } });
    expect(report.web!.manual).toBeUndefined();
  });

  it("reports a failed batch for each process in it, and settles an unanswered one by reading next tick", async () => {
    const cfg = config();
    slow("web", "worker");
    heroku.failNext(503, undefined, 1, "PATCH");
    const failed = await tick(cfg);
    expect(failed.web).toMatchObject({ status: "error", error: { id: "unavailable" } });
    expect(failed.worker).toMatchObject({ status: "error", error: { id: "unavailable" } });
    expect((await stored(cfg)).web!.pendingScale).toMatchObject({ from: 1, to: 2 });
  });
});

describe("Heroku's rate limit", () => {
  it("defers scale-downs below the reserve, says so, and lets scale-ups go", async () => {
    const cfg = config();
    slow(...NAMES);
    await tick(cfg); // everything at 2
    world.targets.web!.set({ status: 200 });
    world.targets.mailer!.set({ status: 200 });
    heroku.setRateLimitRemaining(313); // 312 left after the read
    const { result, requests } = await requestsOf(() => tick(cfg));
    expect(result.web).toMatchObject({
      status: "held",
      current: 2,
      decision: { action: "hold", target: 2 },
    });
    expect(result.web!.decision!.reason).toMatch(
      /^scale-down-deferred: Heroku rate-limit reserve, 312 requests left \(below 450\); scale-ups still go; the policy would scale down to 1: /,
    );
    expect(result.worker).toMatchObject({ status: "scaled", scaled: { from: 2, to: 3 } });
    expect(requests.filter((r) => r.startsWith("PATCH")).sort()).toEqual([
      "PATCH /apps/shop-backend/formation", // clock, still slow: up
      "PATCH /apps/shop-frontend/formation",
    ]);
    const frontend = heroku.requests.findLast((r) => r.path === "/apps/shop-frontend/formation");
    expect(frontend?.body).toEqual({ updates: [{ type: "worker", quantity: 3 }] });
    // Kept, not recorded as a scale: no cool-down started, the next tick decides again.
    const web = (await stored(cfg)).web!;
    expect(web.scales).toHaveLength(1); // the first tick's
    expect(web.lastSeenCount).toBe(2);
    heroku.setRateLimitRemaining(4500);
    expect((await tick(cfg)).web).toMatchObject({ status: "scaled", scaled: { from: 2, to: 1 } });
  });

  it("backs the whole account off after a 429, keeps the decision and decides again after the refill", async () => {
    const cfg = config();
    slow("web");
    heroku.failNext(429, undefined, 1, "PATCH");
    const limited = await tick(cfg);
    expect(limited.web).toMatchObject({
      status: "error",
      error: { id: "rate_limit" },
      decision: { target: 2 },
    });
    const records = await stored(cfg);
    const until = records.web!.rateLimitedUntil!;
    expect(until).toBeGreaterThan(world.clock.now());
    // Every process of the account keeps the back-off, so none of them calls.
    for (const name of NAMES) expect(records[name]!.rateLimitedUntil).toBe(until);
    expect(records.web!.scales).toEqual([]);
    const backingOff = await requestsOf(() => tick(cfg));
    expect(backingOff.requests).toEqual([]);
    expect(backingOff.result.web).toMatchObject({ status: "error", error: { id: "rate_limit_backoff" } });
    const after = await tick(cfg);
    expect(after.web).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
    expect((await stored(cfg)).web!.rateLimitedUntil).toBeUndefined();
  });
});

describe("Heroku's dyno limit", () => {
  it("caps at the limit the 422 names, notifies once, keeps scaling the others and stays within it", async () => {
    const cfg = config({}, ["dyno-limit"]);
    heroku.setQuantity("shop-frontend", "web", 3);
    slow("web", "worker");
    const { result, requests } = await requestsOf(() => tick(cfg));
    // The batch was refused for web's 4; worker's scale went in a second write, web stays at 3.
    expect(requests.filter((r) => r.startsWith("PATCH"))).toEqual([
      "PATCH /apps/shop-frontend/formation",
      "PATCH /apps/shop-frontend/formation",
    ]);
    expect(result.worker).toMatchObject({ status: "scaled", scaled: { from: 1, to: 2 } });
    expect(result.web).toMatchObject({ status: "held", current: 3, decision: { action: "hold", target: 3 } });
    expect(result.web!.decision!.reason).toContain("at most 3 processes of this type (dyno-limit)");
    expect(heroku.quantity("shop-frontend", "web")).toBe(3);
    expect((await stored(cfg)).web!.platformLimit).toEqual({ limit: 3, since: world.clock.now() - 60_000 });
    // Within it from now on: no refused write, no second message while it lasts.
    const next = await requestsOf(() => tick(cfg));
    expect(next.result.web).toMatchObject({ status: "held", decision: { action: "hold", target: 3 } });
    expect(next.requests.filter((r) => r.startsWith("PATCH"))).toEqual([
      "PATCH /apps/shop-frontend/formation",
    ]);
    expect(world.memory.events.map((e) => [e.process, e.kind, e.phase])).toEqual([
      ["web", "dyno-limit", "started"],
    ]);
    expect(world.memory.events[0]).toMatchObject({
      to: 3,
      advice: expect.stringContaining("maxProcesses to 3") as unknown,
    });
    // Resolved once the load no longer asks for more.
    for (const name of ["web", "worker"]) world.targets[name]!.set({ status: 200, latencyMs: 150 });
    for (let i = 0; i < 6; i++) await tick(cfg);
    expect(world.memory.events.map((e) => [e.kind, e.phase])).toEqual([
      ["dyno-limit", "started"],
      ["dyno-limit", "resolved"],
    ]);
  });

  it("scales a process below the limit up to it", async () => {
    const cfg = config({ increment: 3 });
    slow("web");
    const report = await tick(cfg);
    expect(report.web).toMatchObject({
      status: "scaled",
      scaled: { from: 1, to: 3 },
      decision: { target: 3 },
    });
  });
});
