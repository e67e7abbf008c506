import { describe, expect, it } from "vitest";
import type { AutoscaleEvent } from "../../src/notify/events.js";
import {
  describeEvent,
  escapeHtml,
  headline,
  MAX_READINGS,
  renderHtml,
  renderMessage,
  renderText,
  subjectLine,
} from "../../src/notify/render.js";

const base = { process: "web", tickId: "tick-42", at: "2024-05-01T12:03:00.000Z" };

const scale: AutoscaleEvent = {
  ...base,
  kind: "scale",
  message: "scaled 1 -> 2: 3 of 3 readings above 300 ms",
  from: 1,
  to: 2,
  value: 350,
  unit: "ms",
  reason: "3 of 3 readings above 300 ms",
  readings: [
    { at: "2024-05-01T12:01:00.000Z", value: 320 },
    { at: "2024-05-01T12:02:00.000Z", value: null },
    { at: "2024-05-01T12:03:00.000Z", value: 350 },
  ],
};

const aboveMax: AutoscaleEvent = {
  ...base,
  kind: "above-max",
  phase: "started",
  message: "needs more than the maximum of 3 processes",
  from: 3,
  to: 3,
  value: 12,
  unit: "jobs",
  reason: "queue of 12 jobs above 5",
  readings: [{ at: "2024-05-01T12:03:00.000Z", value: 12 }],
  advice: "raise maxProcesses",
};

describe("headline and subject", () => {
  it("says what happened in one line per kind and phase", () => {
    expect(headline(scale)).toBe("web: scaled 1 → 2");
    expect(headline(aboveMax)).toBe("web: needs more than 3 processes (above-max)");
    expect(headline({ ...aboveMax, phase: "repeated" })).toBe(
      "ongoing: web: needs more than 3 processes (above-max)",
    );
    expect(headline({ ...aboveMax, phase: "resolved" })).toBe("resolved: web: above-max");
    expect(
      headline({
        ...base,
        kind: "scale-failed",
        message: "x",
        to: 4,
        error: { id: "rate_limit", message: "slow" },
      }),
    ).toBe("web: scaling to 4 failed (rate_limit)");
    expect(headline({ ...base, kind: "measurement", message: "x", value: null, unit: "ms" })).toBe(
      "web: measurement failed",
    );
    expect(headline({ ...base, kind: "measurement", message: "x", value: 3, unit: "jobs" })).toBe(
      "web: measured 3 jobs",
    );
    expect(headline({ ...base, kind: "pause", message: "x" })).toBe("web: paused");
    expect(headline({ ...base, kind: "pause", message: "x", to: 0, until: "2024-05-01T13:00:00.000Z" })).toBe(
      "web: paused at 0 processes until 2024-05-01T13:00:00.000Z",
    );
    expect(headline({ ...base, kind: "resume", message: "x", by: "api" })).toBe("web: resumed");
    expect(headline({ ...base, kind: "resume", message: "x", by: "expired" })).toBe(
      "web: resumed (the pause ended)",
    );
    expect(headline({ ...base, kind: "manual-scale", message: "x", from: 2, to: 5 })).toBe(
      "web: scaled by hand 2 → 5",
    );
  });

  it("says 1 process and 1 job", () => {
    expect(headline({ ...aboveMax, to: 1 })).toBe("web: needs more than 1 process (above-max)");
    expect(headline({ ...aboveMax, kind: "below-min", to: 1 })).toBe(
      "web: could run fewer than 1 process (below-min)",
    );
    expect(headline({ ...aboveMax, to: undefined })).toBe(
      "web: needs more than the limit of processes (above-max)",
    );
    expect(headline({ ...base, kind: "measurement", message: "x", value: 1, unit: "jobs" })).toBe(
      "web: measured 1 job",
    );
  });

  it("prefixes the subject and names the most urgent event of a group", () => {
    expect(subjectLine([scale])).toBe("[autoscalebot] web: scaled 1 → 2");
    expect(subjectLine([scale, aboveMax], "[prod]")).toBe(
      "[prod] web: needs more than 3 processes (above-max) (+1 more)",
    );
  });

  it("keeps the subject on one line and short, whatever the values", () => {
    const subject = subjectLine([{ ...scale, process: "web\r\nBcc: evil@example.com" + "x".repeat(500) }]);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject.length).toBeLessThanOrEqual(200);
  });
});

describe("text body", () => {
  it("says what, why (reason and readings with units) and what to do, with the tick", () => {
    const text = renderText([aboveMax]);
    expect(text).toContain("web: needs more than 3 processes (above-max)");
    expect(text).toContain("What happened: needs more than the maximum of 3 processes");
    expect(text).toContain("Why: queue of 12 jobs above 5");
    expect(text).toContain("12:03:00  12 jobs");
    expect(text).toContain("What to do: raise maxProcesses");
    expect(text).toContain("tick tick-42 at 2024-05-01T12:03:00.000Z");
  });

  it("shows failed readings as such", () => {
    expect(renderText([scale])).toMatch(
      /12:01:00 {2}320 ms\n {2}12:02:00 {2}no reading\n {2}12:03:00 {2}350 ms/,
    );
  });

  it("groups several events in one body, most urgent first, numbered", () => {
    const text = renderText([scale, aboveMax]);
    const first = text.indexOf("1. web: needs more than 3");
    const second = text.indexOf("2. web: scaled 1 → 2");
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThan(first);
    expect(text.match(/tick tick-42/g)).toHaveLength(1);
  });

  it("lists each tick when a send spans several", () => {
    const text = renderText([scale, { ...aboveMax, tickId: "tick-43", at: "2024-05-01T12:04:00.000Z" }]);
    expect(text).toContain("tick tick-42 at 2024-05-01T12:03:00.000Z");
    expect(text).toContain("tick tick-43 at 2024-05-01T12:04:00.000Z");
  });

  it("keeps only the recent readings and says how many were left out", () => {
    const readings = Array.from({ length: 50 }, (_, i) => ({
      at: `2024-05-01T11:${String(i).padStart(2, "0")}:00.000Z`,
      value: i,
    }));
    const view = describeEvent({ ...scale, readings });
    expect(view.readings).toHaveLength(MAX_READINGS);
    expect(view.readings[0]).toEqual({ at: "11:30:00", value: "30 ms" });
    expect(view.omittedReadings).toBe(30);
    expect(renderText([{ ...scale, readings }])).toContain("30 older not shown");
  });

  it("shows the value when there are no readings, and errors", () => {
    const text = renderText([
      {
        ...base,
        kind: "scale-failed",
        message: "platform API error rate_limit: slow down",
        error: { id: "rate_limit", message: "slow down" },
        value: 2.345,
        unit: "count",
      },
    ]);
    expect(text).toContain("Error: rate_limit: slow down");
    expect(text).toContain("Value: 2.3");
  });
});

describe("HTML body", () => {
  const hostile: AutoscaleEvent = {
    ...aboveMax,
    process: "<b>web</b>",
    message: `<script>alert("x")</script> & more`,
    reason: "<img src=x onerror=alert(1)>",
    advice: "set 'maxProcesses' > 3",
    error: { id: "<i>", message: "</table>" },
    readings: [{ at: "<at>", value: 1 }],
  };

  it("escapes every value", () => {
    const html = renderHtml([hostile]);
    expect(html).not.toMatch(/<script|<img|<b>|<i>|<at>/);
    expect(html.match(/<\/table>/g)).toHaveLength(html.match(/<table/g)!.length);
    expect(html).toContain("&lt;i&gt;: &lt;/table&gt;");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("set &#39;maxProcesses&#39; &gt; 3");
    expect(html).toContain("&lt;b&gt;web&lt;/b&gt;");
  });

  it("has the reason, a readings table and the advice", () => {
    const html = renderHtml([aboveMax]);
    expect(html).toContain("<strong>Why:</strong> queue of 12 jobs above 5");
    expect(html).toMatch(/<table[^>]*><tr><td[^>]*>12:03:00<\/td><td[^>]*>12 jobs<\/td><\/tr><\/table>/);
    expect(html).toContain("<strong>What to do:</strong> raise maxProcesses");
    expect(html).toContain("tick tick-42 at 2024-05-01T12:03:00.000Z");
  });

  it("escapes the five characters that matter", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});

describe("renderMessage", () => {
  it("gives subject, text and HTML for one send", () => {
    const message = renderMessage([scale, aboveMax], "[x]");
    expect(message.subject).toBe("[x] web: needs more than 3 processes (above-max) (+1 more)");
    expect(message.text).toContain("scaled 1 → 2");
    expect(message.html).toContain("scaled 1 → 2");
  });
});
