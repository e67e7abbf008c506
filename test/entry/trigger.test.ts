import { afterAll, beforeAll, describe, expect, it } from "vitest";
import bundledConfig from "../../autoscale.config.json" with { type: "json" };
import { handleTrigger } from "../../src/entry/netlify.js";
import { plant } from "../helpers/planted.js";
import { APP, startWorld, type World } from "../helpers/world.js";

const TOKEN = plant("trigger-token");
let world: World;
let env: Record<string, string>;

beforeAll(async () => {
  world = await startWorld(["web", "worker"]);
  const config = {
    processes: Object.fromEntries(
      ["web", "worker"].map((name) => [
        name,
        {
          measurement: { backend: "response-time", url: `${world.targets[name]!.url}/heartbeat` },
          decision: { failsToScaleUp: 1 },
          scaling: { backend: "heroku", app: APP },
          notification: { backends: ["memory"] },
        },
      ]),
    ),
  };
  env = world.functionEnv(config, { AUTOSCALE_TRIGGER_TOKEN: TOKEN });
});
afterAll(() => world.close());

function post(
  query = "",
  headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}` },
  method = "POST",
) {
  return new Request(`https://autoscalebot.example/api/tick${query}`, { method, headers });
}

async function call(request: Request, overrides: Record<string, string | undefined> = {}) {
  const response = await handleTrigger(request, { ...env, ...overrides }, bundledConfig);
  const text = await response.text();
  for (const secret of [TOKEN, world.apiKey, world.upstash.token]) expect(text).not.toContain(secret);
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

describe("POST /api/tick", () => {
  it("runs a tick with the right token and answers the report", async () => {
    const { status, body } = await call(post());
    expect(status).toBe(200);
    expect(body).toMatchObject({ dryRun: false, store: "upstash" });
    expect((body.processes as unknown[]).length).toBe(2);
  });

  it("rejects a missing or wrong token with 401", async () => {
    expect((await call(post("", {}))).status).toBe(401);
    expect((await call(post("", { Authorization: "Bearer wrong" }))).status).toBe(401);
    expect((await call(post("", { Authorization: `Basic ${TOKEN}` }))).status).toBe(401);
    const wrongLength = await call(post("", { Authorization: `Bearer ${TOKEN}x` }));
    expect(wrongLength.status).toBe(401);
    expect(wrongLength.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("answers 405 to other methods", async () => {
    const { status, headers } = await call(post("", {}, "GET"));
    expect(status).toBe(405);
    expect(headers.get("allow")).toBe("POST");
  });

  it("answers 503 with a clear message when no token is configured", async () => {
    const { status, body } = await call(post(), { AUTOSCALE_TRIGGER_TOKEN: undefined });
    expect(status).toBe(503);
    expect(body.error).toMatch(/AUTOSCALE_TRIGGER_TOKEN/);
  });

  it("takes process= (repeatable) and dryRun=1", async () => {
    world.targets.web!.set({ status: 500 });
    const before = world.heroku.scaleCount();
    try {
      const { status, body } = await call(post("?process=web&dryRun=1"));
      expect(status).toBe(200);
      expect(body).toMatchObject({ dryRun: true, processes: [{ process: "web", status: "would-scale" }] });
      expect(world.heroku.scaleCount()).toBe(before);
      const both = await call(post("?process=web&process=worker&dryRun=true"));
      expect((both.body.processes as Array<{ process: string }>).map((p) => p.process)).toEqual([
        "web",
        "worker",
      ]);
    } finally {
      world.targets.web!.set({ status: 200 });
    }
  });

  it("refuses every ambiguous parameter with 400 and scales nothing", async () => {
    world.targets.web!.set({ status: 500 });
    const before = world.heroku.scaleCount();
    try {
      for (const query of [
        "?dryRun=TRUE",
        "?dryRun=True",
        "?dryRun=on",
        "?dryRun",
        "?dryrun=1",
        "?dry-run=1",
        "?dry_run=1",
        "?dryRun=0&dryRun=1",
        "?process[]=web",
        "?process=",
      ]) {
        const { status, body } = await call(post(query));
        expect(status, query).toBe(400);
        expect(body.error, query).toEqual(expect.any(String));
      }
      expect((await call(post("?dryrun=1"))).body.error).toContain("did you mean dryRun?");
      expect(world.heroku.scaleCount()).toBe(before);
      expect((await call(post("?dryRun=false&process=worker"))).status).toBe(200);
    } finally {
      world.targets.web!.set({ status: 200 });
    }
  });

  it("answers 502 with the report when a process failed, as the CLI exits 1", async () => {
    const { status, body } = await call(post("?process=web&dryRun=1"), { HEROKU_API_KEY: "wrong-key" });
    expect(status).toBe(502);
    expect(body).toMatchObject({ processes: [{ process: "web", status: "error" }] });
  });

  it("answers 400 for an unknown process", async () => {
    const { status, body } = await call(post("?process=nope"));
    expect(status).toBe(400);
    expect(body.error).toMatch(/unknown process "nope"/);
  });

  it("answers 500 with every problem's path for an invalid AUTOSCALE_CONFIG", async () => {
    const bad = JSON.stringify({
      processes: { web: { measurement: { backend: "nope" }, scaling: { backend: "heroku" } } },
    });
    const { status, body } = await call(post(), { AUTOSCALE_CONFIG: bad });
    expect(status).toBe(500);
    expect(body.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^processes\.web\.measurement\.backend: /),
        expect.stringMatching(/^processes\.web\.scaling\.app: /),
      ]),
    );
  });

  it("answers 409 while another tick holds the lock", async () => {
    const { UpstashStateStore } = await import("../../src/state/upstash.js");
    const store = new UpstashStateStore({
      url: world.upstash.url,
      token: world.upstash.token,
      keyPrefix: "autoscalebot",
    });
    const lock = await store.acquireLock(10_000);
    try {
      const { status, body } = await call(post());
      expect(status).toBe(409);
      expect(body.skipped).toBe("locked");
    } finally {
      await lock!.release();
    }
  });

  it("on Netlify without Upstash settings it answers 503 naming them (Netlify exposes no NETLIFY variable to functions)", async () => {
    const { status, body } = await call(post(), {
      UPSTASH_REDIS_REST_URL: undefined,
      UPSTASH_REDIS_REST_TOKEN: undefined,
    });
    expect(status).toBe(503);
    expect(body.error).toMatch(/UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set on Netlify/);
  });

  it("under local emulation (netlify dev) it may keep state in files", async () => {
    const { mkdtemp } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(`${tmpdir()}/asb-trigger-`);
    const { status, body } = await call(post("?dryRun=1"), {
      UPSTASH_REDIS_REST_URL: undefined,
      UPSTASH_REDIS_REST_TOKEN: undefined,
      NETLIFY_DEV: "true",
      AUTOSCALE_STATE_DIR: dir,
    });
    expect(status).toBe(200);
    expect(body.store).toBe("file");
  });
});
