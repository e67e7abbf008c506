import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startDashboard } from "../../src/api/server.js";
import { main } from "../../src/cli/main.js";
import { emptyProcessRecord } from "../../src/engine/process-record.js";
import { encodeState } from "../../src/engine/state-document.js";
import { systemClock } from "../../src/kit/clock.js";
import { FileStateStore } from "../../src/state/index.js";
import { seedState } from "../helpers/stores.js";
import { handleTrigger } from "../../src/entry/netlify.js";
import { runTick } from "../../src/engine/tick.js";
import { parseConfig } from "../../src/config/load.js";
import type { CliIo } from "../../src/kit/cli-io.js";
import { ConsoleNotifier, LogNotifier } from "../../src/notify/index.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../src/local/webhook-receiver.js";
import { plant, plantedIn } from "../helpers/planted.js";
import { APP, TRIGGER_TOKEN, startWorld, type World } from "../helpers/world.js";

/**
 * One scrubber for every message that leaves the process: a platform that echoes every secret of
 * the environment back in its error (the API key, the store's token and URL password, the API
 * tokens, Resend's key, a broker URL's password, a webhook's secret URL) must not get one of them
 * into the report, the console and log lines, the webhook's body, the CLI's stdout or stderr, or
 * the trigger's answer.
 */
let world: World;
let receiver: WebhookReceiver;
let dir: string;
const RESEND = plant("resend-api-key");
const REDIS_PASSWORD = plant("redis-password");
const HOOK_PATH = plant("hook-path");
const STATUS = plant("status-token");
let env: Record<string, string>;
let rawConfig: Record<string, unknown>;

beforeAll(async () => {
  [world, receiver] = await Promise.all([startWorld(["web"]), startWebhookReceiver()]);
  dir = await mkdtemp(join(tmpdir(), "autoscalebot-secrets-"));
  rawConfig = {
    keyPrefix: "secrets",
    processes: {
      web: {
        measurement: { backend: "response-time", url: `${world.targets.web!.url}/heartbeat` },
        decision: { failsToScaleUp: 1, minMeasurement: 50, maxMeasurement: 100 },
        scaling: { backend: "heroku", app: APP, timeoutMs: 2000 },
        notification: {
          backends: ["console", "log", { backend: "webhook", urlEnv: "ALERTS_HOOK_URL" }],
          notifyOn: ["scale", "scale-failed"],
        },
      },
    },
  };
  env = world.functionEnv(rawConfig, {
    AUTOSCALE_TRIGGER_TOKEN: TRIGGER_TOKEN,
    AUTOSCALE_STATUS_TOKEN: STATUS,
    RESEND_API_KEY: RESEND,
    REDIS_URL: `redis://default:${REDIS_PASSWORD}@127.0.0.1:6379`,
    ALERTS_HOOK_URL: `${receiver.url}/hooks/${HOOK_PATH}`,
  });
});
afterAll(async () => {
  await Promise.all([world.close(), receiver.close(), rm(dir, { recursive: true, force: true })]);
});
beforeEach(() => {
  world.heroku.setQuantity(APP, "web", 1);
  receiver.received.length = 0;
  world.targets.web!.set({ latencyMs: 150 });
  // The platform refuses the scale, quoting every secret it can see.
  const echoed = [
    world.apiKey,
    world.upstash.token,
    TRIGGER_TOKEN,
    STATUS,
    RESEND,
    REDIS_PASSWORD,
    HOOK_PATH,
  ];
  world.heroku.failNext(
    500,
    { id: "internal_server_error", message: `echo ${echoed.join(" ")}` },
    1,
    "PATCH",
  );
});

/** Everything that left the process, as text: none of it may hold a planted secret. */
function leaked(...outputs: unknown[]): string[] {
  const texts = outputs.map((o) => (typeof o === "string" ? o : JSON.stringify(o)));
  // The webhook's bodies (its URL holds the secret path by design).
  texts.push(JSON.stringify(receiver.received.map((r) => r.body)));
  return plantedIn(texts.join("\n"));
}

describe("secrets an error echoes never leave the process", () => {
  it("a tick: the report, the console and log lines, the webhook's body", async () => {
    const lines: string[] = [];
    const config = parseConfig(rawConfig);
    const report = await runTick(config, {
      clock: world.clock,
      store: world.storeFor(config.keyPrefix),
      env,
      notifiers: {
        console: new ConsoleNotifier((l) => lines.push(l)),
        log: new LogNotifier((l) => lines.push(l)),
      },
    });
    expect(report.processes[0]).toMatchObject({ status: "error", error: { id: "internal_server_error" } });
    // Counted, not matched: a failing match would print the secret it found.
    expect(report.processes[0]!.error!.message.split("[redacted]")).toHaveLength(8);
    expect(lines.join("\n")).toContain("[redacted]");
    expect(receiver.received).toHaveLength(1);
    expect(leaked(report, lines)).toEqual([]);
  });

  it("the CLI: stdout and stderr", async () => {
    const path = join(dir, "config.json");
    await writeFile(path, JSON.stringify({ ...rawConfig, keyPrefix: "secrets-cli" }));
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { env, out: (t) => out.push(t), err: (t) => err.push(t), onStop: () => {} };
    expect(await main(["tick", "--config", path, "--json"], io)).toBe(1);
    expect(out.join("\n")).toContain("[redacted]");
    expect(leaked(out, err)).toEqual([]);
  });

  it("the trigger's answer", async () => {
    const request = new Request("https://autoscalebot.example/api/tick", {
      method: "POST",
      headers: { Authorization: `Bearer ${TRIGGER_TOKEN}` },
    });
    const response = await handleTrigger(
      request,
      { ...env, AUTOSCALE_CONFIG: JSON.stringify({ ...rawConfig, keyPrefix: "secrets-trigger" }) },
      {},
    );
    expect(response.status).toBe(502);
    const body = await response.text();
    expect(body).toContain("[redacted]");
    expect(leaked(body)).toEqual([]);
  });
});

describe("the local dashboard's API", () => {
  it("answers scrubbed of the config's secrets, as the functions do", async () => {
    // A state document from before the scrubber (a pause recorded by a secret-bearing name).
    const config = parseConfig({ ...rawConfig, keyPrefix: "secrets-dashboard" });
    const store = new FileStateStore({ dir, keyPrefix: config.keyPrefix, clock: systemClock });
    const record = { ...emptyProcessRecord(), paused: { since: Date.now(), by: `cli ${RESEND}` } };
    await seedState(store, encodeState({ web: record }, Date.now()));
    const dashboard = await startDashboard({
      context: { config, store, now: () => Date.now() },
      env: { ...env, AUTOSCALE_STATUS_TOKEN: STATUS },
      port: 0,
    });
    try {
      const response = await fetch(`${dashboard.url}api/status?range=1h`, {
        headers: { Authorization: `Bearer ${STATUS}` },
      });
      expect(response.status).toBe(200);
      const body = await response.text();
      expect(body).toContain("cli [redacted]");
      expect(leaked(body)).toEqual([]);
    } finally {
      await dashboard.close();
    }
  });
});
