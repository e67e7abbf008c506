import { readdirSync } from "node:fs";
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";

/**
 * The function modules as a Netlify build makes them: zip-it-and-ship-it bundles a v2 function
 * with its "nft" bundler, whose esbuild step inlines our sources and leaves every package
 * external (`npm run bench` runs the real thing). What such a module imports statically is what a
 * cold start loads; the optional SDKs must come in by dynamic import, so that nft still ships them
 * but only a configured backend loads them. The tools must not be in the module at all.
 */
/** Every function in netlify/functions, the ones added later included. */
const FUNCTIONS = readdirSync("netlify/functions")
  .filter((name) => name.endsWith(".mts"))
  .map((name) => `netlify/functions/${name}`);
const LAZY_PACKAGES = ["redis", "resend"];
const TOOLS = /^src\/(simulate|demo|local|bench)\//;

async function functionModule(entry: string): Promise<Metafile> {
  const { metafile } = await build({
    entryPoints: [entry],
    bundle: true,
    packages: "external",
    format: "esm",
    platform: "node",
    target: "node20",
    outdir: "out",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  return metafile;
}

describe.each(FUNCTIONS)("the bundled %s", (entry) => {
  it("loads the optional SDKs only when a backend needs them, and none of the tools", async () => {
    const metafile = await functionModule(entry);
    const imports = Object.values(metafile.outputs).flatMap((output) => output.imports);
    const packages = (kind: string) =>
      new Set(imports.filter((i) => i.external && i.kind === kind).map((i) => i.path));
    const statically = packages("import-statement");
    const dynamically = packages("dynamic-import");
    for (const name of LAZY_PACKAGES) {
      expect(statically, `${name} is imported statically`).not.toContain(name);
      expect(dynamically, `${name} is not imported at all, so nft would not ship it`).toContain(name);
    }
    expect(Object.keys(metafile.inputs).filter((input) => TOOLS.test(input))).toEqual([]);
  });
});
