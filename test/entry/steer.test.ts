import { afterAll, beforeAll, describe, expect, it } from "vitest";
import bundledConfig from "../../autoscale.config.json" with { type: "json" };
import { handlePause, handleResume, handleStatus, handleTrigger } from "../../src/entry/netlify.js";
import {
  STATUS_TOKEN as STATUS,
  startWorld,
  TRIGGER_TOKEN as TRIGGER,
  type World,
} from "../helpers/world.js";

let world: World;
let env: Record<string, string>;

beforeAll(async () => {
  world = await startWorld(["web"]);
  env = world.webFunctionEnv("steer-endpoint");
});
afterAll(() => world.close());

const handlers = { pause: handlePause, resume: handleResume, tick: handleTrigger, status: handleStatus };

async function call(
  path: keyof typeof handlers,
  options: { body?: string | object; token?: string; method?: string } = {},
) {
  const { body, token = TRIGGER, method = "POST" } = options;
  const request = new Request(`https://autoscalebot.example/api/${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const response = await handlers[path](request, env, bundledConfig);
  const text = await response.text();
  for (const secret of [TRIGGER, STATUS, world.apiKey, world.upstash.token])
    expect(text).not.toContain(secret);
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

describe("POST /api/pause and /api/resume", () => {
  it("pause, a tick that holds, status showing it, resume, a tick that announces it", async () => {
    const paused = await call("pause", { body: { process: "web", minutes: 30, processes: 1 } });
    expect(paused).toMatchObject({
      status: 200,
      body: { process: "web", changed: true, paused: { processes: 1, by: "api" }, override: null },
    });
    const tick = await call("tick");
    expect(tick.body).toMatchObject({
      processes: [{ status: "held", paused: { processes: 1, by: "api" }, notified: ["pause"] }],
    });
    const status = await call("status", { method: "GET", token: STATUS });
    expect(status.body).toMatchObject({
      processes: [{ paused: { processes: 1, by: "api" }, override: null }],
    });

    const resumed = await call("resume", { body: { process: "web" } });
    expect(resumed).toMatchObject({ status: 200, body: { changed: true, paused: null } });
    const again = await call("resume", { body: { process: "web" } });
    expect(again).toMatchObject({
      status: 200,
      body: { changed: false, message: "web is not paused: nothing to resume" },
    });
    const after = await call("tick");
    expect(after.body).toMatchObject({ processes: [{ notified: ["resume"] }] });
  });

  it("takes only the trigger token: the status token, a wrong one or none is 401", async () => {
    for (const path of ["pause", "resume"] as const) {
      for (const token of [STATUS, "wrong", ""]) {
        const refused = await call(path, { body: { process: "web" }, token });
        expect(refused.status).toBe(401);
        expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    }
  });

  it("is 405 for anything but POST, before looking at the token", async () => {
    const got = await call("pause", { method: "GET", token: "wrong" });
    expect(got).toMatchObject({ status: 405, body: { error: "use POST" } });
    expect(got.headers.get("allow")).toBe("POST");
  });

  it("answers 400 to a body that is not JSON, a bad field or an unknown process", async () => {
    expect(await call("pause", { body: "process=web" })).toMatchObject({
      status: 400,
      body: { error: 'expected a JSON body, e.g. {"process": "web"}' },
    });
    expect(await call("pause")).toMatchObject({ status: 400 });
    expect(await call("pause", { body: { process: "web", minutes: "ten", processes: 1.5 } })).toMatchObject({
      status: 400,
      body: {
        error: "invalid request body",
        problems: ["minutes: expected integer from 1 to 43200", "processes: expected integer >= 0"],
      },
    });
    expect(await call("resume", { body: { process: "web", minutes: 5 } })).toMatchObject({
      status: 400,
      body: { problems: ["minutes: unknown setting"] },
    });
    expect(await call("resume", { body: ["web"] })).toMatchObject({ status: 400 });
    const unknown = await call("pause", { body: { process: "nope" } });
    expect(unknown).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('unknown process "nope"') as unknown },
    });
  });

  it("is off without the trigger token (503), whatever the status token", async () => {
    const request = new Request("https://autoscalebot.example/api/pause", {
      method: "POST",
      headers: { Authorization: `Bearer ${STATUS}` },
      body: JSON.stringify({ process: "web" }),
    });
    const response = await handlePause(request, { ...env, AUTOSCALE_TRIGGER_TOKEN: "" }, bundledConfig);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("AUTOSCALE_TRIGGER_TOKEN");
  });
});
