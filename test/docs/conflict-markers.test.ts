import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("the tree", () => {
  it("holds no merge-conflict marker", () => {
    const files = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter((f) => /\.(md|ts|mts|mjs|js|json|toml|html|css)$/.test(f));
    const marked = files.filter((file) => {
      let text: string;
      try {
        text = readFileSync(`${ROOT}${file}`, "utf8");
      } catch {
        return false;
      }
      // Prettier turns a marker in Markdown into nested quotes ("> > > > > > >") or a table row.
      return /^(<{7}|>{7}) |^(?:[<>] ){7}|^={7}$|^\| ={7} /m.test(text);
    });
    expect(marked).toEqual([]);
  });
});
