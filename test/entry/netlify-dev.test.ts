import { NetlifyDev } from "@netlify/dev";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { config as tickFunctionConfig } from "../../netlify/functions/tick.mjs";
import { config as triggerFunctionConfig } from "../../netlify/functions/trigger.mjs";
import { config as pauseFunctionConfig } from "../../netlify/functions/pause.mjs";
import { config as resumeFunctionConfig } from "../../netlify/functions/resume.mjs";
import { decodeState } from "../../src/engine/state-document.js";
import { UpstashStateStore } from "../../src/state/upstash.js";
import { APP, startWorld, type World } from "../helpers/world.js";

/**
 * The functions as Netlify runs them: @netlify/dev bundles netlify/functions/* and routes
 * requests through Netlify's own chain (config paths, scheduled functions), offline.
 */
const TOKEN = "netlify-dev-trigger-token";
const KEY_PREFIX = "netlify-dev";
let world: World;
let dev: NetlifyDev;

const request = (path: string, init: RequestInit = {}) =>
  dev.handleAndIntrospect(new Request(`http://localhost:8888${path}`, init));

beforeAll(async () => {
  world = await startWorld(["web"]);
  Object.assign(process.env, {
    ...world.env,
    AUTOSCALE_TRIGGER_TOKEN: TOKEN,
    UPSTASH_REDIS_REST_URL: world.upstash.url,
    UPSTASH_REDIS_REST_TOKEN: world.upstash.token,
    AUTOSCALE_CONFIG: JSON.stringify({
      keyPrefix: KEY_PREFIX,
      processes: {
        web: {
          measurement: { backend: "response-time", url: `${world.targets.web!.url}/heartbeat` },
          scaling: { backend: "heroku", app: APP },
          notification: { backends: ["log"] },
        },
      },
    }),
  });
  dev = new NetlifyDev({
    projectRoot: process.cwd(),
    serverAddress: "http://localhost:8888",
    edgeFunctions: { enabled: false },
    blobs: { enabled: false },
    database: { enabled: false },
    geolocation: { enabled: false },
    images: { enabled: false },
    aiGateway: { enabled: false },
  });
  await dev.start();
}, 60_000);
afterAll(async () => {
  await dev?.stop();
  await world?.close();
});

describe("the Netlify functions under @netlify/dev", () => {
  it("declares the tick as a every-minute cron schedule and the trigger's path", () => {
    expect(tickFunctionConfig).toEqual({ schedule: "* * * * *" });
    expect(triggerFunctionConfig).toEqual({ path: "/api/tick" });
    expect(pauseFunctionConfig).toEqual({ path: "/api/pause" });
    expect(resumeFunctionConfig).toEqual({ path: "/api/resume" });
  });

  it("routes POST /api/tick to the trigger, authenticated", async () => {
    const ok = await request("/api/tick?dryRun=1", {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(ok?.type).toBe("function");
    expect(ok?.response.status).toBe(200);
    const report = (await ok!.response.json()) as { dryRun: boolean; store: string; processes: unknown[] };
    expect(report).toMatchObject({ dryRun: true, store: "upstash" });
    expect(report.processes).toHaveLength(1);

    const unauthorised = await request("/api/tick", { method: "POST" });
    expect(unauthorised?.response.status).toBe(401);
    const wrongMethod = await request("/api/tick");
    expect(wrongMethod?.response.status).toBe(405);
    // The first request bundles every function: on a busy machine that takes a while.
  }, 180_000);

  it("routes POST /api/pause and /api/resume, with the trigger's token only", async () => {
    for (const path of ["/api/pause", "/api/resume"]) {
      const refused = await request(path, { method: "POST", body: JSON.stringify({ process: "web" }) });
      expect(refused?.type).toBe("function");
      expect(refused?.response.status).toBe(401);
      expect((await request(path))?.response.status).toBe(405);
    }
    const resumed = await request("/api/resume", {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ process: "web" }),
    });
    expect(resumed?.response.status).toBe(200);
    expect(await resumed!.response.json()).toMatchObject({ changed: false, paused: null });
  }, 120_000);

  it("runs a real tick when the scheduled function is invoked, writing state to Upstash", async () => {
    const before = world.targets.web!.hits();
    const invoked = await request("/.netlify/functions/tick", { method: "POST" });
    expect(invoked?.type).toBe("function");
    expect(invoked!.response.status).toBeLessThan(300);
    expect(world.targets.web!.hits()).toBe(before + 1);
    const store = new UpstashStateStore({
      url: world.upstash.url,
      token: world.upstash.token,
      keyPrefix: KEY_PREFIX,
    });
    const { state } = decodeState(await store.load());
    expect(state.processes.web!.history).toHaveLength(1);
  }, 60_000);
});
