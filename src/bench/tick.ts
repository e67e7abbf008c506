import { randomUUID } from "node:crypto";
import { ManualClock } from "../kit/clock.js";
import { parseConfig } from "../config/load.js";
import { startHerokuApi, type HerokuApiServer } from "../local/heroku-api.js";
import { startRedisServer } from "../local/redis-server.js";
import { startTargetApp, type TargetApp } from "../local/target-app.js";
import { startUpstashRest, type UpstashRestServer } from "../local/upstash-rest.js";
import { UpstashStateStore, type StateStore } from "../state/index.js";
import type { Env } from "../kit/env.js";
import { runTick } from "../engine/tick.js";
import { emptyProcessRecord } from "../engine/process-record.js";
import { encodeState } from "../engine/state-document.js";
import { encodeProfile } from "../decide/index.js";
import { median } from "./median.js";

/**
 * `npm run bench`: the claims the tick makes about cost, measured against the real local world
 * (redis-server behind the Upstash REST front, the Heroku-compatible API, real heartbeats):
 * Redis commands per tick do not grow with the number of processes (one more on a tick that
 * scales, for the scales' intent), Heroku requests grow with the apps, not the processes (one
 * formation read per app, one batch write per app that scales), processes are measured
 * concurrently, so 20 processes with 200 ms heartbeats take about as long as one, and the state
 * document stays small however long the processes flap.
 */
const HEARTBEAT_MS = 200;
const ROUNDS = 5;
const APP = "bench-app";
/** The 20 processes' second app: half of them run there. */
const SECOND_APP = "bench-app-two";
const appOf = (index: number) => (index < 10 ? APP : SECOND_APP);
/** The state-size worst case: this many processes, each scaling every tick, for this many ticks. */
const FLAPPING_PROCESSES = 50;
const FLAPPING_TICKS = 1000;
/** The goal for the state read, and for the state written, per process per tick. */
const STATE_BYTES_GOAL = 1024;

export async function benchTick(): Promise<void> {
  const apiKey = randomUUID();
  const redis = await startRedisServer();
  const upstash = await startUpstashRest({ redisUrl: redis.url, token: randomUUID() });
  const names = Array.from({ length: 20 }, (_, i) => `proc${i + 1}`);
  const flapping = Array.from({ length: FLAPPING_PROCESSES }, (_, i) => `flap${i + 1}`);
  const heroku = await startHerokuApi({
    apiKey,
    apps: {
      [APP]: Object.fromEntries([...names.slice(0, 10), ...flapping].map((n) => [n, 1])),
      [SECOND_APP]: Object.fromEntries(names.slice(10).map((n) => [n, 1])),
    },
    rateLimit: Number.MAX_SAFE_INTEGER,
  });
  const target: TargetApp = await startTargetApp({ latencyMs: HEARTBEAT_MS });
  const clock = new ManualClock(Date.now());
  const env = { HEROKU_API_KEY: apiKey, HEROKU_API_URL: heroku.url };
  try {
    console.log(
      `tick benchmark: ${HEARTBEAT_MS} ms heartbeats, median of ${ROUNDS} ticks, Upstash REST front over redis-server`,
    );
    console.log("processes  redis commands/tick  heroku requests/tick  tick wall time");
    const results: Record<number, number> = {};
    for (const count of [1, 20]) {
      const config = benchConfig(`bench-${count}`, names.slice(0, count), target, {
        minMeasurement: 100,
        maxMeasurement: 1000,
      });
      const store = new UpstashStateStore({
        url: upstash.url,
        token: upstash.token,
        keyPrefix: config.keyPrefix,
      });
      const commands: number[] = [];
      const requests: string[] = [];
      const times: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        upstash.resetCount();
        const calls = herokuCalls(heroku);
        const report = await runTick(config, { clock, store, env });
        if (report.error || report.processes.some((p) => p.status === "error"))
          throw new Error(JSON.stringify(report));
        commands.push(upstash.commandCount());
        requests.push(calls());
        times.push(report.durationMs);
        clock.advance(60_000);
      }
      results[count] = median(times);
      console.log(
        `${String(count).padStart(9)}  ${String(median(commands)).padStart(19)}  ${requests[requests.length >> 1]!.padStart(20)}  ${String(median(times)).padStart(11)} ms`,
      );
    }
    const ratio = results[20]! / results[1]!;
    console.log(`20 processes take ${ratio.toFixed(2)}x the time of 1 (a serial loop would take about 20x)`);
    console.log("(no process scales in these ticks: the one that scales takes one command more, below)");
    await benchAllScale(names, heroku, upstash, env, clock);
    await benchStateSize(upstash, env);
  } finally {
    await Promise.all([target.close(), heroku.close(), upstash.close()]);
    await redis.stop();
  }
}

/** The processes' config: a response-time heartbeat each, on their app (the first 10 on one, the rest on the other). */
function benchConfig(
  keyPrefix: string,
  names: string[],
  target: TargetApp,
  decision: Record<string, unknown>,
  notifyOn?: string[],
) {
  return parseConfig({
    keyPrefix,
    processes: Object.fromEntries(
      names.map((name, i) => [
        name,
        {
          measurement: { backend: "response-time", url: `${target.url}/${name}` },
          decision,
          scaling: { backend: "heroku", app: appOf(i) },
          notification: { backends: ["memory"], ...(notifyOn ? { notifyOn } : {}) },
        },
      ]),
    ),
  });
}

/** Counts the Heroku requests from now on: "N reads, M writes" when called. */
function herokuCalls(heroku: HerokuApiServer): () => string {
  const from = heroku.requests.length;
  return () => {
    const made = heroku.requests.slice(from);
    const reads = made.filter((r) => r.method === "GET").length;
    return `${reads} reads, ${made.length - reads} writes`;
  };
}

/** One tick in which all 20 processes, on two apps, scale: Heroku requests and Redis commands. */
async function benchAllScale(
  names: string[],
  heroku: HerokuApiServer,
  upstash: UpstashRestServer,
  env: Env,
  clock: ManualClock,
): Promise<void> {
  const failing = await startTargetApp({ latencyMs: 0, status: 500 });
  try {
    const config = benchConfig("bench-all-scale", names, failing, {
      minMeasurement: 100,
      maxMeasurement: 1000,
      failsToScaleUp: 1,
    });
    const store = new UpstashStateStore({
      url: upstash.url,
      token: upstash.token,
      keyPrefix: config.keyPrefix,
    });
    upstash.resetCount();
    const calls = herokuCalls(heroku);
    const report = await runTick(config, { clock, store, env });
    const scaled = report.processes.filter((p) => p.status === "scaled").length;
    if (report.error || scaled !== names.length) throw new Error(JSON.stringify(report));
    console.log(
      `all ${scaled} processes scaling, on 2 apps: ${calls()} to Heroku (goal: 2 reads, at most 2 writes), ` +
        `${upstash.commandCount()} redis commands`,
    );
    clock.advance(60_000);
  } finally {
    await failing.close();
  }
}

await benchTick();

/** A store that counts the state bytes it loads and saves (the document, as Redis holds it). */
function countingStore(store: StateStore): { store: StateStore; read: () => number; written: number[] } {
  let read = 0;
  const written: number[] = [];
  const counted: StateStore = {
    kind: store.kind,
    timeoutMs: store.timeoutMs,
    acquireLock: async (ttlMs) => {
      const lock = await store.acquireLock(ttlMs);
      return (
        lock && {
          save: (document) => {
            written.push(Buffer.byteLength(document));
            return lock.save(document);
          },
          append: (text) => {
            written.push(Buffer.byteLength(text));
            return lock.append(text);
          },
          release: () => lock.release(),
        }
      );
    },
    load: async () => {
      const document = await store.load();
      read = document === null ? 0 : Buffer.byteLength(document);
      return document;
    },
    appendHistory: (entry, keep) => store.appendHistory(entry, keep),
    readHistory: (count) => store.readHistory(count),
  };
  return { store: counted, read: () => read, written };
}

/**
 * The worst case for the state document: every process scales every tick (up on a failing
 * heartbeat, down on a fast one), so each tick also appends the scales' intent before its PATCHes,
 * and each pre-warms from a whole week's profile.
 */
async function benchStateSize(upstash: UpstashRestServer, env: Env): Promise<void> {
  const flapper = await startTargetApp({ latencyMs: 0 });
  try {
    const names = Array.from({ length: FLAPPING_PROCESSES }, (_, i) => `flap${i + 1}`);
    const config = parseConfig({
      keyPrefix: "bench-flapping",
      processes: Object.fromEntries(
        names.map((name) => [
          name,
          {
            measurement: { backend: "response-time", url: `${flapper.url}/${name}` },
            // A failing heartbeat (HTTP 500) is a fail; any answer under a second a pass.
            decision: {
              minMeasurement: 1000,
              maxMeasurement: 2000,
              failsToScaleUp: 1,
              passesToScaleDown: 1,
              postScaleWaitSeconds: 0,
              maxProcesses: 2,
              prewarm: {},
            },
            scaling: { backend: "heroku", app: APP },
            notification: { backends: ["memory"], notifyOn: ["scale", "too-rapid"] },
          },
        ]),
      ),
    });
    const counting = countingStore(
      new UpstashStateStore({ url: upstash.url, token: upstash.token, keyPrefix: config.keyPrefix }),
    );
    const clock = new ManualClock(Date.now());
    // Pre-warming's profile (the default, of the day) at its usual largest: every hour learnt, above 35 processes (two digits).
    const profile = encodeProfile(Array.from({ length: 24 }, () => 40));
    const prewarmed = { ...emptyProcessRecord(), prewarm: { profile, slot: 0, count: 40 } };
    const lock = (await counting.store.acquireLock(10_000))!;
    await lock.save(encodeState(Object.fromEntries(names.map((name) => [name, prewarmed])), clock.now()));
    await lock.release();
    const perProcess = (bytes: number) => bytes / FLAPPING_PROCESSES;
    const reads: number[] = [];
    const writes: number[] = [];
    const commands = new Map<number, number>();
    let scaled = 0;
    const started = performance.now();
    for (let tick = 0; tick < FLAPPING_TICKS; tick++) {
      // Odd ticks fail (scale up to 2), even ones answer at once (scale down to 1).
      flapper.set({ status: tick % 2 === 0 ? 500 : 200 });
      counting.written.length = 0;
      upstash.resetCount();
      const report = await runTick(config, { clock, store: counting.store, env });
      if (report.error) throw new Error(JSON.stringify(report));
      scaled += report.processes.filter((p) => p.status === "scaled").length;
      const count = upstash.commandCount();
      commands.set(count, (commands.get(count) ?? 0) + 1);
      reads.push(perProcess(counting.read()));
      writes.push(perProcess(counting.written.reduce((a, b) => a + b, 0)));
      clock.advance(60_000);
    }
    const worst = (values: number[]) => Math.round(Math.max(...values));
    const last = (values: number[]) => Math.round(values.at(-1)!);
    const within = (bytes: number) => (bytes <= STATE_BYTES_GOAL ? "within" : "OVER");
    console.log(
      `\nstate bytes per process per tick, ${FLAPPING_PROCESSES} processes flapping every tick for ${FLAPPING_TICKS} ticks ` +
        `(${scaled.toLocaleString("en")} scales, ${Math.round((performance.now() - started) / 1000)} s):`,
    );
    console.log("           at tick 10  at tick 1000  worst");
    const row = (label: string, values: number[]) =>
      console.log(
        `${label.padEnd(9)}  ${`${Math.round(values[9]!)} B`.padStart(10)}  ${`${last(values)} B`.padStart(12)}  ${`${worst(values)} B`.padStart(5)}  ${within(worst(values))} the goal of ${STATE_BYTES_GOAL} B`,
      );
    row("read", reads);
    row("written", writes);
    console.log(
      "(written: the scales' intent appended before the PATCHes, then the whole document saved after them)",
    );
    const counts = [...commands.entries()].sort(([a], [b]) => a - b);
    console.log(
      `redis commands per tick that scales: ${counts.map(([n, ticks]) => `${n} (${ticks} ticks)`).join(", ")}`,
    );
  } finally {
    await flapper.close();
  }
}
