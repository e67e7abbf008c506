import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runDemo } from "../../src/demo/demo.js";
import { DEMO_PLATFORMS } from "../../src/demo/platform-names.js";

describe("npm start (the live demo)", () => {
  it("runs the real tick against the local world and ends with the simulator's table", async () => {
    const lines: string[] = [];
    let dashboard: Promise<unknown> | undefined;
    const code = await runDemo({
      minutes: 6,
      tickMs: 0,
      dashboardPort: 0,
      out: (line) => {
        lines.push(line);
        // The dashboard answers while the demo runs, over the demo's own store and clock.
        const url = /^ {2}dashboard: (\S+)#refresh=2 /.exec(line)?.[1];
        if (url) dashboard = fetch(`${url}api/status?range=24h`).then((r) => r.json());
      },
      onStop: () => () => {},
    });
    expect(code).toBe(0);
    const text = lines.join("\n");
    expect(text).toContain("trace time   load/min  heartbeat  processes  decision");
    expect(await dashboard).toMatchObject({ timezone: "America/New_York", processes: [{ process: "web" }] });
    const ticks = lines.filter((line) => /^07-13 \d\d:\d\d /.test(line));
    expect(ticks).toHaveLength(6);
    // The first reading sits near a threshold (one request: 130 or 250 ms): a loaded machine may tip it into a scale.
    expect(ticks[0]).toMatch(/^07-13 00:00\s+5,380\s+\d+ ms\s+\d+\s+\S/);
    expect(text).toContain("6 ticks (60 trace minutes)");
    expect(text).toMatch(/^policy\s+proc-hours\s+x oracle\s+cost/m);
    expect(text).toMatch(/^live \(this run\)\s/m);
    expect(text).toMatch(/^simulator \(same minutes\)\s/m);
    expect(text).toMatch(/^oracle\s+[\d.]+\s+1\.00x\s/m);
    expect(text).toMatch(/^static peak\s/m);
    // The temporary state directory is gone.
    const dir = /state in (\S+)/.exec(text)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
  });

  it("stops cleanly when told to, after the tick in progress", async () => {
    const lines: string[] = [];
    let stop: () => void = () => {};
    let unregistered = false;
    const code = await runDemo({
      tickMs: 50,
      dashboardPort: false,
      out: (line) => {
        lines.push(line);
        if (lines.filter((l) => l.startsWith("07-13 ")).length === 3) stop();
      },
      onStop: (fn) => {
        stop = fn;
        return () => (unregistered = true);
      },
    });
    expect(code).toBe(0);
    expect(lines.filter((l) => l.startsWith("07-13 "))).toHaveLength(3);
    expect(lines.join("\n")).toContain("stopped after 3 ticks (30 trace minutes)");
    expect(unregistered).toBe(true);
  });

  // The launch day's first hours (10 trace minutes a tick): the load rises, so every stand-in is scaled.
  it.each(DEMO_PLATFORMS.filter((p) => p !== "heroku"))(
    "scales %s's local stand-in through its real scaler",
    async (platform) => {
      const lines: string[] = [];
      const code = await runDemo({
        platform,
        minutes: 30,
        tickMs: 0,
        dashboardPort: false,
        out: (line) => lines.push(line),
        onStop: () => () => {},
      });
      expect(code, lines.join("\n")).toBe(0);
      const text = lines.join("\n");
      expect(text).toMatch(/^live \(this run\)\s/m);
      expect(text).toMatch(/scaled \d+ -> \d+/);
      expect(text).not.toMatch(/scale-failed|\berror\b/i);
    },
  );
});
