import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDashboard, type Dashboard } from "../../src/api/server.js";
import type { Config } from "../../src/config/schema.js";
import { launchChromium } from "../helpers/browser.js";
import { plant } from "../helpers/planted.js";
import { startWorld, ticks, type World } from "../helpers/world.js";

const STATUS = plant("status-token");
const TICKS = 30;
let world: World;
let config: Config;
let dashboard: Dashboard;
let browser: Browser;
let shots: string;

/**
 * Real ticks against the local world fill the store: web's heartbeat slows after ten minutes, so
 * it scales up (three slow readings in a row), worker stays calm. Then the dashboard, served as
 * `autoscalebot dashboard` serves it, is read in Chromium as a person reads it.
 */
beforeAll(async () => {
  world = await startWorld(["web", "worker"]);
  config = world.config({ decision: { maxProcesses: 4 } });
  await ticks(world, config, 10);
  world.targets.web!.set({ latencyMs: 400 });
  await ticks(world, config, TICKS - 10);
  dashboard = await startDashboard({
    context: { config, store: world.storeFor(config.keyPrefix), now: () => world.clock.now() },
    env: { AUTOSCALE_STATUS_TOKEN: STATUS },
    port: 0,
  });
  browser = await launchChromium();
  shots = await mkdtemp(join(tmpdir(), "autoscalebot-dashboard-"));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await world?.close();
});

async function open(fragment: string, viewport = { width: 1100, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${dashboard.url}${fragment}`);
  return page;
}

describe("the dashboard, in Chromium", () => {
  it("shows every process with its charts, scale events and reasons", async () => {
    const page = await open(`#token=${STATUS}`);
    await page.getByRole("button", { name: "1h" }).click();
    await page.locator("section.process").nth(1).waitFor();
    // The token left the address bar at once.
    expect(page.url()).not.toContain(STATUS);
    expect(await page.locator("section.process h2").allTextContents()).toEqual(["web", "worker"]);

    const web = page.locator('section.process[data-process="web"]');
    // Every tick of the hour is a point of both charts.
    await expect
      .poll(() => web.locator(".chart.measurement").getAttribute("data-points"))
      .toBe(String(TICKS));
    expect(await web.locator(".chart.count").getAttribute("data-points")).toBe(String(TICKS));
    expect(await web.locator(".chart canvas").count()).toBe(2);
    const scales = await web.locator("ul.scales li").allTextContents();
    expect(scales.length).toBeGreaterThanOrEqual(2);
    expect(scales.at(-1)).toMatch(/1 → 2\s+3 fails in a row \(> 300 or failed\)/);
    expect(await web.locator(".facts").textContent()).toMatch(/4 processes, bounds 1-4; last reading \d+ ms/);
    const notices = await web.locator("ul.notifications li").allTextContents();
    expect(notices.some((n) => /\bscale\b/.test(n))).toBe(true);
    expect(notices[0]).toContain("above-max");

    const worker = page.locator('section.process[data-process="worker"]');
    expect(await worker.locator(".scales-slot").textContent()).toBe("no scale in this range");
    await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
  });

  it("refreshes by itself, asking only for the ticks after the newest it drew", async () => {
    const page = await open(`#token=${STATUS}&refresh=1`);
    const asked: string[] = [];
    page.on("request", (request) => asked.push(request.url()));
    await page.getByRole("button", { name: "1h" }).click();
    const web = page.locator('section.process[data-process="web"] .chart.count');
    await expect.poll(() => web.getAttribute("data-points")).toBe(String(TICKS));
    world.targets.web!.set({ latencyMs: 0 });
    await ticks(world, config, 3);
    await expect.poll(() => web.getAttribute("data-points"), { timeout: 5000 }).toBe(String(TICKS + 3));
    expect(asked.some((url) => /api\/status\?range=1h&since=/.test(url))).toBe(true);
    // The page's series is the range's, as a full read gives it.
    const full = (await (
      await fetch(`${dashboard.url}api/status?range=1h`, { headers: { Authorization: `Bearer ${STATUS}` } })
    ).json()) as { processes: Array<{ series: unknown[] }> };
    expect(full.processes[0]!.series).toHaveLength(TICKS + 3);
  });

  it("asks for the token, refuses a wrong one, and keeps a right one", async () => {
    const page = await open("");
    await page.locator("#token-form").waitFor();
    expect(await page.locator("#token-error").textContent()).toContain("AUTOSCALE_STATUS_TOKEN");
    await page.fill("#token", "wrong-token");
    await page.click("#token-form button");
    await expect.poll(() => page.locator("#token-error").textContent()).toBe("That token was refused.");
    expect(await page.locator("section.process").count()).toBe(0);

    await page.fill("#token", STATUS);
    await page.click("#token-form button");
    await page.locator("section.process").nth(1).waitFor();
    expect(await page.locator("#token-form").isHidden()).toBe(true);
    await page.reload();
    await page.locator("section.process").nth(1).waitFor();
  });

  it("shows a pause made through the local API", async () => {
    const pause = (body: object, token = STATUS) =>
      fetch(`${dashboard.url}api/pause`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await pause({ process: "worker", minutes: 30 }, "wrong")).status).toBe(401);
    expect((await pause({ process: "nope" })).status).toBe(400);
    expect((await pause({ process: "worker", minutes: 30 })).status).toBe(200);
    await ticks(world, config, 1);
    const page = await open(`#token=${STATUS}`);
    const worker = page.locator('section.process[data-process="worker"]');
    await expect
      .poll(() => worker.locator(".badge.steering").textContent())
      .toMatch(/^paused since .*, until /);
  });

  it("is readable on a phone: nothing wider than the screen", async () => {
    const page = await open(`#token=${STATUS}`, { width: 390, height: 844 });
    await page.locator("section.process").nth(1).waitFor();
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(shots, "phone.png"), fullPage: true });
  });
});
