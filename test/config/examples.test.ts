import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";

/** The README lists these; they must stay valid as the schema grows. */
const dir = new URL("../../examples/", import.meta.url);
const files = (await readdir(dir)).filter((name) => name.endsWith(".json"));

describe("examples/", () => {
  it("has examples, each named in the README", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const name of files) expect(readme).toContain(`examples/${name}`);
  });

  it.each(files)("%s is a valid configuration", async (name) => {
    const config = await loadConfigFile(new URL(name, dir).pathname);
    expect(Object.keys(config.processes).length).toBeGreaterThan(0);
  });
});
