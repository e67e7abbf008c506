import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen } from "../../src/local/listen.js";
import { bundleCli, spawnCli, type CliBundle, type CliProcess } from "../helpers/cli-process.js";
import { APP, startWorld, type World } from "../helpers/world.js";

/**
 * SIGTERM ends `autoscalebot run` within the tick deadline whatever hangs: the real CLI in its own
 * process, ticking every second against a world where one part never answers. The tick in
 * progress finishes within its deadline; a call that nothing can cancel (a file read on a hung
 * disk, here a FIFO nobody writes) no longer keeps the process alive after "stopped": the
 * backstop ends it, with a message, by the signal's own default action.
 */
const TICK_DEADLINE_MS = 9000;
/** stopWithinMs in src/cli/main.ts: the deadline, no monitor, one second. */
const STOP_WITHIN_MS = TICK_DEADLINE_MS + 1000;
/** Process start-up and the scheduling of two busy cores. */
const SLACK_MS = 2500;

let world: World;
let cli: CliBundle;
let hung: Server;
let hungUrl: string;
let dir: string;
const started: CliProcess[] = [];

beforeAll(async () => {
  [world, cli] = await Promise.all([startWorld(["web"]), bundleCli()]);
  hung = createServer(() => {}); // accepts, reads, never answers
  hungUrl = await listen(hung);
  dir = await mkdtemp(join(tmpdir(), "autoscalebot-stop-"));
});
afterAll(async () => {
  for (const run of started)
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
  hung.closeAllConnections();
  await new Promise((resolve) => hung.close(resolve));
  await Promise.all([world.close(), cli.remove(), rm(dir, { recursive: true, force: true })]);
});

interface Hang {
  /** The web process's settings over the defaults. */
  web?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Prepares the state directory. */
  prepare?: (stateDir: string, keyPrefix: string) => Promise<void>;
  nodeArgs?: string[];
}

let runs = 0;
async function runUntilSigterm(hang: Hang) {
  const name = `stop-${++runs}`;
  const own = join(dir, name);
  const stateDir = join(own, "state");
  await mkdir(stateDir, { recursive: true });
  await hang.prepare?.(stateDir, name);
  const configPath = join(own, "config.json");
  await writeFile(
    configPath,
    JSON.stringify({
      keyPrefix: name,
      tickDeadlineMs: TICK_DEADLINE_MS,
      processes: {
        web: {
          measurement: {
            backend: "response-time",
            url: `${world.targets.web!.url}/heartbeat`,
            timeoutMs: 1000,
          },
          scaling: { backend: "heroku", app: APP, timeoutMs: 1000 },
          notification: { backends: ["console"], timeoutMs: 1000 },
          ...hang.web,
        },
      },
    }),
  );
  const run = spawnCli(
    cli,
    ["run", "--config", configPath, "--interval", "1"],
    {
      ...world.env,
      AUTOSCALE_STATE_DIR: stateDir,
      ...hang.env,
    },
    hang.nodeArgs,
  );
  started.push(run);
  // Once a first tick has ended: the handlers are in place, and the next tick meets the hang too.
  await run.waitFor(/^tick /m);
  const sentAt = performance.now();
  run.child.kill("SIGTERM");
  const ended = await Promise.race([
    run.exited,
    new Promise<null>((resolve) => setTimeout(() => resolve(null), STOP_WITHIN_MS + SLACK_MS)),
  ]);
  expect(ended, `still alive ${STOP_WITHIN_MS + SLACK_MS} ms after SIGTERM:\n${run.output()}`).not.toBeNull();
  return { ...ended!, afterMs: ended!.at - sentAt, output: run.output() };
}

const upstash = () => ({
  UPSTASH_REDIS_REST_URL: world.upstash.url,
  UPSTASH_REDIS_REST_TOKEN: world.upstash.token,
});

describe.concurrent("SIGTERM ends autoscalebot run within the tick deadline", { timeout: 30_000 }, () => {
  it("with a hung heartbeat, under GC pressure (forced collections every 20 ms)", async () => {
    const ended = await runUntilSigterm({
      web: { measurement: { backend: "response-time", url: `${hungUrl}/heartbeat`, timeoutMs: 1000 } },
      env: upstash(),
      nodeArgs: ["--expose-gc", "--import", "data:text/javascript,setInterval(()=>gc(),20).unref()"],
    });
    expect(ended).toMatchObject({ code: 0, signal: null });
    expect(ended.output).toMatch(/no answer within 1000 ms[\s\S]*\nstopped\n$/);
  });

  it("with a store that never answers", async () => {
    const ended = await runUntilSigterm({
      env: { UPSTASH_REDIS_REST_URL: hungUrl, UPSTASH_REDIS_REST_TOKEN: world.upstash.token },
    });
    expect(ended).toMatchObject({ code: 0, signal: null });
    expect(ended.output).toMatch(/Upstash Redis unreachable during acquireLock[\s\S]*\nstopped\n$/);
  });

  it("with a platform that never answers", async () => {
    const ended = await runUntilSigterm({ env: { ...upstash(), HEROKU_API_URL: hungUrl } });
    expect(ended).toMatchObject({ code: 0, signal: null });
    expect(ended.output).toMatch(/\nstopped\n$/);
  });

  it("with a notifier that never answers", async () => {
    const ended = await runUntilSigterm({
      web: {
        notification: {
          backends: [{ backend: "webhook", url: `${hungUrl}/hook` }],
          notifyOn: ["measurement"],
          timeoutMs: 1000,
        },
      },
      env: upstash(),
    });
    expect(ended).toMatchObject({ code: 0, signal: null });
    expect(ended.output).toMatch(/\nstopped\n$/);
  });

  it("with a state file on a disk that never answers: the tick times out, then the backstop ends the process", async () => {
    const ended = await runUntilSigterm({
      // A FIFO nobody writes: opening it blocks a libuv thread for good, as a hung mount does.
      prepare: (stateDir, keyPrefix) =>
        Promise.resolve(void execFileSync("mkfifo", [join(stateDir, `${keyPrefix}.state.json`)])),
    });
    expect(ended.output).toMatch(/File state store did not finish load within 5000 ms[\s\S]*\nstopped\n/);
    expect(ended.output).toMatch(
      /autoscalebot: still running 10000 ms after SIGTERM \(.*FSReqPromise.*\): ending now\n$/,
    );
    expect(ended).toMatchObject({ code: null, signal: "SIGTERM" });
    expect(ended.afterMs).toBeGreaterThan(STOP_WITHIN_MS - 100);
  });
});
