import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as source from "../../packages/heartbeat/src/index.js";
import type { HeartbeatBody } from "../../packages/heartbeat/src/index.js";
import { findServerTiming } from "../../src/measure/server-timing.js";

/**
 * The heartbeat as an app gets it: packed from packages/heartbeat (which builds it), installed
 * into an empty app without the registry, imported and serving there.
 */
const packageDir = new URL("../../packages/heartbeat/", import.meta.url).pathname;
const run = promisify(execFile);
// Without the npm_* variables of an enclosing `npm test`, which would configure the child npm.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("npm_")));

let temp: string;
beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), "heartbeat-package-"));
});
afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});

/** One heartbeat served in the app: the installed package behind the Node adapter on loopback. */
const APP_SCRIPT = `
import { createServer } from "node:http";
import { createHeartbeat, toNodeListener } from "@autoscalebot/heartbeat";

const heartbeat = createHeartbeat({ checks: { db: async () => {} } });
const server = createServer(toNodeListener(heartbeat));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const response = await fetch(\`http://127.0.0.1:\${server.address().port}/heartbeat\`, {
  headers: { "X-Request-Start": String(Date.now() - 5000) },
});
console.log(JSON.stringify({
  status: response.status,
  serverTiming: response.headers.get("server-timing"),
  body: await response.json(),
}));
server.close();
`;

describe("the @autoscalebot/heartbeat package", () => {
  it("installs alone into an empty app and serves a heartbeat there", { timeout: 60_000 }, async () => {
    const { stdout: packed } = await run("npm", ["pack", "--json", "--pack-destination", temp], {
      cwd: packageDir,
      env,
    });
    const [tarball] = JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const shipped = tarball!.files.map((file) => file.path);
    expect(shipped).toEqual(expect.arrayContaining(["README.md", "dist/index.js", "dist/index.d.ts"]));
    expect(shipped.filter((path) => !/^dist\/[\w-]+\.(?:js|d\.ts)$/.test(path)).sort()).toEqual([
      "README.md",
      "package.json",
    ]);

    const app = join(temp, "app");
    await mkdir(app);
    await writeFile(
      join(app, "package.json"),
      JSON.stringify({ name: "app", private: true, type: "module" }),
    );
    // --offline: with no dependencies there is nothing to fetch.
    await run("npm", ["install", join(temp, tarball!.filename), "--offline", "--no-audit", "--no-fund"], {
      cwd: app,
      env,
    });

    const visible = async (dir: string) => (await readdir(dir)).filter((name) => !name.startsWith("."));
    expect(await visible(join(app, "node_modules"))).toEqual(["@autoscalebot"]);
    expect(await visible(join(app, "node_modules", "@autoscalebot"))).toEqual(["heartbeat"]);
    const installed = JSON.parse(
      await readFile(join(app, "node_modules", "@autoscalebot", "heartbeat", "package.json"), "utf8"),
    ) as Record<string, unknown>;
    expect(installed).not.toHaveProperty("dependencies");
    expect(installed).not.toHaveProperty("peerDependencies");

    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", APP_SCRIPT], {
      cwd: app,
      env,
    });
    const answer = JSON.parse(stdout) as { status: number; serverTiming: string; body: HeartbeatBody };
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe("ok");
    expect(answer.body.checks.db?.ok).toBe(true);
    expect(answer.body.queueTimeMs).toBeGreaterThanOrEqual(5000);
    expect(findServerTiming(answer.serverTiming, "queue")?.duration).toBeGreaterThanOrEqual(5000);
    expect(findServerTiming(answer.serverTiming, "db")).not.toBeNull();
  });

  it("is what autoscalebot/heartbeat re-exports", async () => {
    const reexported = (await import("../../src/heartbeat.js")) as Record<string, unknown>;
    expect(Object.keys(reexported).sort()).toEqual(Object.keys(source).sort());
  });

  it("has docs/heartbeat.md as its README", async () => {
    const readme = await readFile(join(packageDir, "README.md"), "utf8");
    expect(await readFile(new URL("../../docs/heartbeat.md", import.meta.url), "utf8")).toBe(readme);
  });
});
