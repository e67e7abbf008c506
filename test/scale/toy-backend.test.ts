import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTargetApp, type TargetApp } from "../../src/local/target-app.js";

/**
 * "A new backend is one file and one entry in its stage's list": checked on a copy of the
 * source tree, to which a toy scaler is added exactly so (its file, and its import and entry in
 * src/scale/registry.ts). The copy builds, and its CLI validates and ticks with the toy.
 */
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const TOY = `import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import type { ScalingBackend } from "./types.js";

const toySchema = z.strictObject({ backend: z.literal("toy"), file: z.string() });

/** A platform whose formation is a number in a file. */
export const toy: ScalingBackend<typeof toySchema> = {
  schema: toySchema,
  create: (config) => ({
    target: \`toy \${config.file}\`,
    current: () => Promise.resolve(Number(readFileSync(config.file, "utf8"))),
    scaleTo: (quantity) => {
      writeFileSync(config.file, String(quantity));
      return Promise.resolve(quantity);
    },
  }),
  budgetMs: () => 1000,
  formation: (config) => config.file,
  secretEnv: () => [],
  advice: () => "check the toy's file",
};
`;

let dir: string;
let app: TargetApp;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "autoscalebot-toy-"));
  for (const part of ["src", "packages", "package.json", "tsconfig.json", "tsconfig.build.json"])
    await cp(join(ROOT, part), join(dir, part), { recursive: true, filter: (p) => !p.includes("/dist") });
  await cp(join(ROOT, "packages/heartbeat/dist"), join(dir, "packages/heartbeat/dist"), { recursive: true });
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  app = await startTargetApp({ body: { desired: 3 } });
}, 60_000);
afterAll(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a toy scaler added as one file and one list entry", () => {
  it("builds, is validated with the rest of the config and scales through a real tick", async () => {
    await writeFile(join(dir, "src/scale/toy.ts"), TOY);
    const registryPath = join(dir, "src/scale/registry.ts");
    const registry = await readFile(registryPath, "utf8");
    const listed = registry
      .replace(
        'import { heroku } from "./heroku.js";',
        'import { heroku } from "./heroku.js";\nimport { toy } from "./toy.js";',
      )
      .replace("backendRegistry([", "backendRegistry([toy, ");
    // The import and the entry in the list: nothing else of the product changes.
    expect(listed.split("\n").length - registry.split("\n").length).toBe(1);
    expect(listed).toContain("backendRegistry([toy, heroku");
    await writeFile(registryPath, listed);

    await run(join(dir, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { cwd: dir });

    const formation = join(dir, "formation.txt");
    await writeFile(formation, "1");
    const config = join(dir, "toy.json");
    const process = (scaling: object) => ({
      measurement: { backend: "app-json", url: `${app.url}/load` },
      scaling,
      notification: { backends: [] },
    });
    const cli = (...args: string[]) =>
      run("node", [join(dir, "dist/cli/bin.js"), ...args], {
        cwd: dir,
        env: { PATH: globalThis.process.env.PATH, AUTOSCALE_STATE_DIR: join(dir, "state") },
      });

    await writeFile(config, JSON.stringify({ processes: { web: process({ backend: "toy", file: 1 }) } }));
    const refused = await cli("validate", "--config", config).catch((error: { stderr: string }) => error);
    expect(refused.stderr).toContain("processes.web.scaling.file:");

    await writeFile(
      config,
      JSON.stringify({ processes: { web: process({ backend: "toy", file: formation }) } }),
    );
    const { stdout } = await cli("tick", "--config", config, "--json");
    const report = JSON.parse(stdout) as { processes: Array<{ status: string; scaled?: unknown }> };
    expect(report.processes[0]).toMatchObject({ status: "scaled", scaled: { from: 1, to: 3 } });
    expect(await readFile(formation, "utf8")).toBe("3");
  }, 120_000);
});
