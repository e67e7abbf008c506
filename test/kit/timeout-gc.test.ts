import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { systemClock } from "../../src/kit/clock.js";
import { createMeasurement } from "../../src/measure/index.js";
import { createScaler } from "../../src/scale/index.js";
import { UpstashStateStore } from "../../src/state/upstash.js";

/**
 * nodejs/node#57736: `AbortSignal.any([signal, AbortSignal.timeout(ms)])` can lose its timeout
 * when the collector takes the inner signal, and a hung call then never ends. Our timeouts are
 * our own controller and timer (src/kit/http.ts); this proves each call against a server that
 * accepts and never answers still ends at its own timeout while the collector runs all along
 * (the workers run with --expose-gc, vitest.config.ts).
 */
let hung: Server;
let url: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  hung = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => hung.close(resolve));
});

const gc = (globalThis as { gc?: () => void }).gc;

/** Runs `call` `times` times under constant collection; every one must end within its timeout and slack. */
async function underGc(times: number, timeoutMs: number, call: () => Promise<unknown>): Promise<number[]> {
  expect(gc, "run with --expose-gc").toBeTypeOf("function");
  const collector = setInterval(() => gc!(), 2);
  const took: number[] = [];
  try {
    for (let i = 0; i < times; i++) {
      const started = performance.now();
      await call().catch(() => {});
      took.push(performance.now() - started);
    }
  } finally {
    clearInterval(collector);
  }
  for (const ms of took) {
    expect(ms).toBeGreaterThanOrEqual(timeoutMs - 5);
    // Generous: a lost timeout would hang until the test times out, not end a few seconds late.
    expect(ms).toBeLessThan(timeoutMs + 5000);
  }
  return took;
}

const config = (measurement: Record<string, unknown>) =>
  parseConfig({
    processes: {
      web: { measurement, scaling: { backend: "heroku", app: "hung-app", timeoutMs: 150 } },
    },
  }).processes.web!;

describe("timeouts under forced garbage collection, against a server that never answers", () => {
  it("the heartbeat", async () => {
    const measurement = createMeasurement(
      config({ backend: "response-time", url: `${url}/heartbeat`, timeoutMs: 150 }).measurement,
      { env: {}, clock: systemClock },
    );
    await underGc(5, 150, async () => {
      const reading = await measurement.measure(new AbortController().signal);
      expect(reading).toMatchObject({ ok: false });
    });
  });

  it("a queue broker over redis://", async () => {
    const measurement = createMeasurement(
      config({ backend: "sidekiq-queue", queue: "default", brokerUrlEnv: "HUNG_BROKER", timeoutMs: 150 })
        .measurement,
      { env: { HUNG_BROKER: `redis://127.0.0.1:${url.split(":").at(-1)}` }, clock: systemClock },
    );
    await underGc(5, 150, async () => {
      expect(await measurement.measure(new AbortController().signal)).toMatchObject({ ok: false });
    });
  });

  it("the platform's API", async () => {
    const scaler = createScaler(config({ backend: "response-time", url }).scaling, "web", {
      HEROKU_API_KEY: "hung-key-123",
      HEROKU_API_URL: url,
    });
    await underGc(5, 150, () => scaler.current(new AbortController().signal));
  });

  it("the state store", async () => {
    const store = new UpstashStateStore({
      url,
      token: "hung-token",
      keyPrefix: "gc",
      retry: false,
      timeoutMs: 150,
    });
    await underGc(5, 150, () => store.load());
  });
});
