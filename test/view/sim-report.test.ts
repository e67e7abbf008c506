import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/kit/cli-io.js";
import { runSimulate } from "../../src/simulate/cli.js";
import { launchChromium } from "../helpers/browser.js";

const EXAMPLES = fileURLToPath(new URL("../../src/simulate/examples/", import.meta.url));
let dir: string;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "autoscalebot-report-"));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  // The screenshots stay when asked for (KEEP_SCREENSHOTS=1), to look at while building.
  if (!process.env.KEEP_SCREENSHOTS) await rm(dir, { recursive: true, force: true });
});

const silent: CliIo = { env: {}, out: () => {}, err: () => {}, onStop: () => {} };

describe("the simulator's HTML report, in Chromium", () => {
  it("draws every run in its own colour, marks the worst minutes and zooms all charts together", async () => {
    const report = join(dir, "report.html");
    const code = await runSimulate(
      [
        "--trace",
        "bundled",
        "--config",
        join(EXAMPLES, "threshold.json"),
        "--config",
        join(EXAMPLES, "queue-time.json"),
        "--report",
        report,
      ],
      silent,
    );
    expect(code).toBe(0);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const failures: string[] = [];
    page.on("pageerror", (error) => failures.push(error.message));
    page.on("request", (request) => {
      if (!request.url().startsWith("file:")) failures.push(`fetched ${request.url()}`);
    });
    await page.goto(pathToFileURL(report).href);
    const charts = page.locator("#charts .chart");
    await expect.poll(() => charts.count()).toBe(3);
    expect(await charts.locator("canvas").count()).toBe(3);
    const runs = Number(await charts.nth(1).getAttribute("data-lines"));
    expect(runs).toBeGreaterThanOrEqual(4); // two policies and the baselines
    // Every run's legend entry has its own colour.
    const colours = await page.evaluate<string[]>(
      `[...document.querySelectorAll("#charts .chart:nth-child(2) .u-series:not(:first-child) .u-marker")]
        .map((marker) => getComputedStyle(marker).borderColor)`,
    );
    expect(new Set(colours).size).toBe(runs);
    // Five worst minutes for each of the two policies, listed and marked.
    expect(await page.locator("#worst tr").count()).toBe(10);

    await page.screenshot({ path: join(dir, "report.png"), fullPage: true });

    // Drag across the first chart: every chart shows the same, narrower time range.
    const before =
      Number(await charts.nth(2).getAttribute("data-to")) -
      Number(await charts.nth(2).getAttribute("data-from"));
    const box = (await charts.nth(0).locator(".u-over").boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const ranges: number[] = [];
    for (const chart of await charts.all())
      ranges.push(
        Number(await chart.getAttribute("data-to")) - Number(await chart.getAttribute("data-from")),
      );
    expect(ranges[0]).toBeLessThan(before * 0.3);
    expect(new Set(ranges).size).toBe(1);
    await page.screenshot({ path: join(dir, "zoomed.png"), fullPage: true });
    expect(failures).toEqual([]);
  });
});
