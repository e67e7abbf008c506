import { randomUUID } from "node:crypto";
import { ManualClock } from "../kit/clock.js";
import { parseConfig } from "../config/load.js";
import { startHerokuApi } from "../local/heroku-api.js";
import { startRedisServer } from "../local/redis-server.js";
import { startTargetApp, type TargetApp } from "../local/target-app.js";
import { startUpstashRest } from "../local/upstash-rest.js";
import { UpstashStateStore } from "../state/index.js";
import { runTick } from "../engine/tick.js";
import { median } from "./median.js";

/**
 * `npm run bench`: the claims the tick makes about cost, measured against the real local world
 * (redis-server behind the Upstash REST front, the Heroku-compatible API, real heartbeats):
 * Redis commands per tick do not grow with the number of processes, and processes are
 * measured concurrently, so 20 processes with 200 ms heartbeats take about as long as one.
 */
const HEARTBEAT_MS = 200;
const ROUNDS = 5;
const APP = "bench-app";

export async function benchTick(): Promise<void> {
  const apiKey = randomUUID();
  const redis = await startRedisServer();
  const upstash = await startUpstashRest({ redisUrl: redis.url, token: randomUUID() });
  const names = Array.from({ length: 20 }, (_, i) => `proc${i + 1}`);
  const heroku = await startHerokuApi({
    apiKey,
    apps: { [APP]: Object.fromEntries(names.map((n) => [n, 1])) },
  });
  const target: TargetApp = await startTargetApp({ latencyMs: HEARTBEAT_MS });
  const clock = new ManualClock(Date.now());
  const env = { HEROKU_API_KEY: apiKey, HEROKU_API_URL: heroku.url };
  try {
    console.log(
      `tick benchmark: ${HEARTBEAT_MS} ms heartbeats, median of ${ROUNDS} ticks, Upstash REST front over redis-server`,
    );
    console.log("processes  redis commands/tick  tick wall time");
    const results: Record<number, number> = {};
    for (const count of [1, 20]) {
      const config = parseConfig({
        keyPrefix: `bench-${count}`,
        processes: Object.fromEntries(
          names.slice(0, count).map((name) => [
            name,
            {
              measurement: { backend: "response-time", url: `${target.url}/${name}` },
              decision: { minMeasurement: 100, maxMeasurement: 1000 },
              scaling: { backend: "heroku", app: APP },
              notification: { backends: ["memory"] },
            },
          ]),
        ),
      });
      const store = new UpstashStateStore({
        url: upstash.url,
        token: upstash.token,
        keyPrefix: config.keyPrefix,
      });
      const commands: number[] = [];
      const times: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        upstash.resetCount();
        const report = await runTick(config, { clock, store, env });
        if (report.error || report.processes.some((p) => p.status === "error"))
          throw new Error(JSON.stringify(report));
        commands.push(upstash.commandCount());
        times.push(report.durationMs);
        clock.advance(60_000);
      }
      results[count] = median(times);
      console.log(
        `${String(count).padStart(9)}  ${String(median(commands)).padStart(19)}  ${String(median(times)).padStart(11)} ms`,
      );
    }
    const ratio = results[20]! / results[1]!;
    console.log(`20 processes take ${ratio.toFixed(2)}x the time of 1 (a serial loop would take about 20x)`);
  } finally {
    await Promise.all([target.close(), heroku.close(), upstash.close()]);
    await redis.stop();
  }
}

await benchTick();
