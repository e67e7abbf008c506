import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { zipFunctions, type Config as ZisiConfig } from "@netlify/zip-it-and-ship-it";
import { parse as parseToml } from "smol-toml";
import { median } from "./median.js";

/**
 * `npm run bench` (third part): what the scheduled function costs to ship and to start. It is
 * bundled as a Netlify build bundles it, by zip-it-and-ship-it with netlify.toml's [functions]
 * settings, and so is a baseline function that only loads the dependencies any tick needs
 * (baseline-function.mts). For each: the bytes it ships and its cold import time (a fresh node
 * process importing the bundled module, median of several). A v2 function is bundled by "nft":
 * esbuild inlines our sources into one module, node_modules are copied as files, so what a cold
 * start pays for is what the module imports statically, not what the archive holds.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FUNCTION = "netlify/functions/tick.mts";
const BASELINE = "src/bench/baseline-function.mts";
const IMPORTS = 10;
const GOAL = 1.5;
/** Netlify's own runtime files, the same in every function: reported apart from what we ship. */
const NETLIFY_FILE = /^___netlify-/;

/** The zip-it-and-ship-it names of the netlify.toml [functions] settings that shape a bundle. */
const SETTINGS: Record<string, keyof ZisiConfig[string]> = {
  node_bundler: "nodeBundler",
  included_files: "includedFiles",
  external_node_modules: "externalNodeModules",
  ignored_node_modules: "ignoredNodeModules",
};

/** netlify.toml's [functions] settings, as `netlify build` hands them to zip-it-and-ship-it. */
async function functionsConfig(): Promise<ZisiConfig> {
  const toml = parseToml(await readFile(join(ROOT, "netlify.toml"), "utf8"));
  const functions = (toml.functions ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(functions)) {
    if (key === "directory") continue;
    const name = SETTINGS[key];
    // A setting passed on wrongly or not at all would make these figures lie, so none is skipped.
    if (!name) throw new Error(`bench: netlify.toml [functions] ${key} is not one this bench knows`);
    config[name] = value;
  }
  return { "*": config };
}

interface Bundle {
  label: string;
  bundler: string;
  /** The bundled function module, which the Netlify runtime imports at a cold start. */
  module: string;
  files: number;
  bytes: number;
  netlifyBytes: number;
}

/** The files and bytes in a bundle directory, Netlify's own runtime files apart. */
async function sizeOf(dir: string): Promise<Pick<Bundle, "files" | "bytes" | "netlifyBytes">> {
  const size = { files: 0, bytes: 0, netlifyBytes: 0 };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = (await stat(path)).size;
    if (NETLIFY_FILE.test(relative(dir, path))) size.netlifyBytes += bytes;
    else {
      size.files += 1;
      size.bytes += bytes;
    }
  }
  return size;
}

/** Bundles the functions in one run (nft shares its trace cache), as the files Netlify would zip. */
async function bundle(sources: Record<string, string>, config: ZisiConfig, into: string): Promise<Bundle[]> {
  const results = await zipFunctions(
    { user: { functions: Object.values(sources).map((s) => join(ROOT, s)) } },
    into,
    {
      archiveFormat: "none", // the files as they are zipped, so they can be imported
      basePath: ROOT,
      repositoryRoot: ROOT,
      config,
    },
  );
  return Promise.all(
    Object.entries(sources).map(async ([label, source]) => {
      const result = results.find((r) => r.mainFile === join(ROOT, source));
      if (!result) throw new Error(`bench: zip-it-and-ship-it bundled no function from ${source}`);
      const module = join(result.path, source.replace(/\.mts$/, ".mjs"));
      if (!existsSync(module)) throw new Error(`bench: no bundled module at ${module}`);
      return { label, bundler: result.bundler ?? "?", module, ...(await sizeOf(result.path)) };
    }),
  );
}

/** Milliseconds a fresh node process takes to import the module (node's own start-up excluded). */
function importMs(module: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(module).href)}); process.stdout.write(String(performance.now() - t));`;
  return Number(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export async function benchBundle(): Promise<void> {
  const version = (
    createRequire(import.meta.url)("@netlify/zip-it-and-ship-it/package.json") as { version: string }
  ).version;
  const config = await functionsConfig();
  const out = await mkdtemp(join(tmpdir(), "autoscalebot-bundle-"));
  try {
    const [tick, baseline] = (await bundle(
      { "tick function": FUNCTION, "dependencies alone": BASELINE },
      config,
      out,
    )) as [Bundle, Bundle];
    const times = new Map<Bundle, number[]>([
      [tick, []],
      [baseline, []],
    ]);
    // Interleaved, so a busy moment on the machine weighs on both alike.
    for (let round = 0; round < IMPORTS; round++) for (const [b, ms] of times) ms.push(importMs(b.module));
    const importOf = (b: Bundle) => median(times.get(b)!);

    console.log(
      `bundle benchmark: ${FUNCTION} as zip-it-and-ship-it ${version} bundles it (bundler ${tick.bundler}), ` +
        `cold import: median of ${IMPORTS} fresh node processes`,
    );
    console.log("                    files      bytes           size  cold import");
    for (const b of [tick, baseline]) {
      console.log(
        `${b.label.padEnd(18)}  ${String(b.files).padStart(5)}  ${String(b.bytes).padStart(9)}  ${kb(b.bytes).padStart(13)}  ${importOf(b).toFixed(1).padStart(8)} ms`,
      );
    }
    const importRatio = importOf(tick) / importOf(baseline);
    console.log(
      `ratio               ${" ".repeat(16)}  ${`${(tick.bytes / baseline.bytes).toFixed(2)}x`.padStart(13)}  ` +
        `${`${importRatio.toFixed(2)}x`.padStart(11)} (goal: at most ${GOAL}x)`,
    );
    console.log(`sizes leave out Netlify's runtime files, ${kb(tick.netlifyBytes)} in every function`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

await benchBundle();
