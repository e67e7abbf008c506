import { afterAll, beforeAll, describe, expect, it } from "vitest";
import bundledConfig from "../../autoscale.config.json" with { type: "json" };
import { encodeState } from "../../src/engine/state-document.js";
import { handleHealth, handleStatus, handleTrigger } from "../../src/entry/netlify.js";
import {
  STATUS_TOKEN as STATUS,
  startWorld,
  TRIGGER_TOKEN as TRIGGER,
  type World,
} from "../helpers/world.js";
import { seedState } from "../helpers/stores.js";

let world: World;
let env: Record<string, string>;

beforeAll(async () => {
  world = await startWorld(["web"]);
  env = world.webFunctionEnv("status-endpoint");
  const tick = new Request("https://autoscalebot.example/api/tick", {
    method: "POST",
    headers: { Authorization: `Bearer ${TRIGGER}` },
  });
  expect((await handleTrigger(tick, env, bundledConfig)).status).toBe(200);
});
afterAll(() => world.close());

async function get(query: string, token?: string, overrides: Record<string, string | undefined> = {}) {
  const request = new Request(`https://autoscalebot.example/api/status${query}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  const response = await handleStatus(request, { ...env, ...overrides }, bundledConfig);
  const text = await response.text();
  for (const secret of [TRIGGER, STATUS, world.apiKey, world.upstash.token])
    expect(text).not.toContain(secret);
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
}

describe("GET /api/status", () => {
  it("answers the processes' status with the status token or the trigger's", async () => {
    for (const token of [STATUS, TRIGGER]) {
      const { status, body } = await get("?range=1h&process=web", token);
      expect(status).toBe(200);
      expect(body).toMatchObject({ range: "1h", processes: [{ process: "web", current: 1 }] });
      expect((body.processes as Array<{ series: unknown[] }>)[0]!.series).toHaveLength(1);
    }
  });

  it("since: only the ticks after it, and whether they are all of them", async () => {
    const { body: whole } = await get("?range=1h", STATUS);
    const last = (whole.processes as Array<{ series: Array<{ at: string }> }>)[0]!.series.at(-1)!.at;
    const { status, body } = await get(`?range=1h&since=${encodeURIComponent(last)}`, STATUS);
    expect(status).toBe(200);
    expect(body).toMatchObject({ since: last, complete: true, processes: [{ process: "web", series: [] }] });
    const before = new Date(Date.parse(last) - 1).toISOString();
    const { body: one } = await get(`?range=1h&since=${before}`, STATUS);
    expect((one.processes as Array<{ series: unknown[] }>)[0]!.series).toHaveLength(1);
    expect(await get("?since=yesterday", STATUS)).toMatchObject({ status: 400 });
  });

  it("refuses a wrong or missing token, a bad range or process, and other methods", async () => {
    expect((await get("", "wrong")).status).toBe(401);
    expect((await get("")).status).toBe(401);
    expect(await get("?range=2h", STATUS)).toMatchObject({ status: 400 });
    expect(await get("?process=nope", STATUS)).toMatchObject({ status: 400 });
    const post = new Request("https://autoscalebot.example/api/status", { method: "POST" });
    expect((await handleStatus(post, env, bundledConfig)).status).toBe(405);
  });

  it("is off without any token", async () => {
    const off = await get("", STATUS, {
      AUTOSCALE_STATUS_TOKEN: undefined,
      AUTOSCALE_TRIGGER_TOKEN: undefined,
    });
    expect(off).toMatchObject({
      status: 503,
      body: { error: expect.stringContaining("AUTOSCALE_STATUS_TOKEN") as unknown },
    });
  });
});

describe("GET /api/health", () => {
  const health = async (keyPrefix?: string) => {
    const config = JSON.parse(env.AUTOSCALE_CONFIG!) as Record<string, unknown>;
    const overrides = keyPrefix ? { AUTOSCALE_CONFIG: JSON.stringify({ ...config, keyPrefix }) } : {};
    const response = await handleHealth(
      new Request("https://autoscalebot.example/api/health"),
      { ...env, ...overrides },
      bundledConfig,
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it("is 200 while the last tick is recent, without a token, telling nothing but its age", async () => {
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["lastTickAgeSeconds", "status"]);
    expect(body.status).toBe("ok");
    expect(body.lastTickAgeSeconds).toBeLessThan(60);
  });

  it("is 503 when the last tick is over three minutes old, or there never was one", async () => {
    await seedState(world.storeFor("health-stale"), encodeState({}, Date.now() - 4 * 60_000));
    expect(await health("health-stale")).toMatchObject({ status: 503, body: { status: "stale" } });
    expect(await health("health-never")).toEqual({
      status: 503,
      body: { status: "stale", lastTickAgeSeconds: null },
    });
  });
});
