import { describe, expect, it } from "vitest";
import { encodeProfile, recordScale } from "../../src/decide/index.js";
import { emptyProcessRecord, type ProcessRecord } from "../../src/engine/process-record.js";
import {
  decodeState,
  emptyState,
  encodeIntents,
  encodeState,
  NewerStateError,
  STATE_VERSION,
} from "../../src/engine/state-document.js";

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

const web: ProcessRecord = {
  history: [
    { at: NOW - 60_000, value: 1500, verdict: "fail" },
    { at: NOW - 30_000, value: null, verdict: "fail" },
    { at: NOW, value: 800, verdict: "ok" },
  ],
  lastScaleAt: NOW - 3_600_000,
  scales: [{ at: NOW - 3_600_000, from: 1, to: 2 }],
};

describe("decodeState", () => {
  it("gives an empty state, without a warning, when nothing is stored", () => {
    expect(decodeState(null)).toEqual({ state: { version: STATE_VERSION, updatedAt: 0, processes: {} } });
    expect(decodeState(null).warning).toBeUndefined();
    expect(emptyState()).toEqual({ version: 2, updatedAt: 0, processes: {} });
  });

  it("round-trips what encodeState wrote", () => {
    const processes = {
      web,
      worker: emptyProcessRecord(),
      clock: recordScale(emptyProcessRecord(), { at: NOW, from: 0, to: 1 }),
    };
    const decoded = decodeState(encodeState(processes, NOW));
    expect(decoded.warning).toBeUndefined();
    expect(decoded.state).toEqual({ version: STATE_VERSION, updatedAt: NOW, processes });
  });

  it("round-trips pre-warming's profile, and drops only the profile when it is malformed", () => {
    const profile = encodeProfile(
      Array.from({ length: 168 }, (_, slot) => (slot % 24 >= 8 && slot % 24 < 18 ? 40 : 2)),
    );
    const prewarmed: ProcessRecord = { ...web, prewarm: { profile, slot: 40, count: 12 } };
    const document = encodeState({ web: prewarmed }, NOW);
    expect(decodeState(document, NOW)).toEqual({
      state: { version: STATE_VERSION, updatedAt: NOW, processes: { web: prewarmed } },
    });
    // A full week of two-digit counts is about 380 bytes of the document.
    expect(document.length - encodeState({ web }, NOW).length).toBeLessThanOrEqual(390);
    const malformed = JSON.parse(document) as { processes: { web: { prewarm: { profile: string } } } };
    malformed.processes.web.prewarm.profile = "12,x";
    const decoded = decodeState(JSON.stringify(malformed), NOW);
    expect(decoded.warning).toBeUndefined();
    expect(decoded.state.processes).toEqual({ web });
  });

  it("round-trips an empty process map", () => {
    expect(decodeState(encodeState({}, NOW))).toEqual({
      state: { version: STATE_VERSION, updatedAt: NOW, processes: {} },
    });
  });

  it("stores readings and scales as arrays (half their bytes), and still reads version 1's objects", () => {
    const tracked: ProcessRecord = {
      ...web,
      history: [
        ...web.history,
        { at: NOW, value: 12, recommendation: 3 },
        { at: NOW, value: 9, verdict: "ok", recommendation: 2 },
      ],
    };
    const stored = JSON.parse(encodeState({ web: tracked }, NOW)) as { processes: { web: ProcessRecord } };
    expect(stored.processes.web.history).toEqual([
      [NOW - 60_000, 1500, "fail"],
      [NOW - 30_000, null, "fail"],
      [NOW, 800, "ok"],
      [NOW, 12, null, 3],
      [NOW, 9, "ok", 2],
    ]);
    expect(stored.processes.web.scales).toEqual([[NOW - 3_600_000, 1, 2]]);
    expect(decodeState(encodeState({ web: tracked }, NOW)).state.processes.web).toEqual(tracked);
    const version1 = JSON.stringify({ version: 1, updatedAt: NOW, processes: { web } });
    expect(decodeState(version1)).toEqual({
      state: { version: STATE_VERSION, updatedAt: NOW, processes: { web } },
    });
  });

  it("refuses a stored reading or scale of the wrong shape", () => {
    const raw = (history: unknown, scales: unknown = []) =>
      JSON.stringify({
        version: 2,
        updatedAt: NOW,
        processes: { web: { history, lastScaleAt: null, scales } },
      });
    for (const bad of [raw([[NOW]]), raw([[NOW, "1"]]), raw([[NOW, 1, "slow"]]), raw([], [[NOW, 1]])])
      expect(decodeState(bad).warning).toBe("stored state of web is malformed; starting afresh for it");
    expect(decodeState(raw([[NOW, 1]]), NOW).state.processes.web!.history).toEqual([{ at: NOW, value: 1 }]);
  });

  it("writes the current version into the document", () => {
    expect(JSON.parse(encodeState({ web }, NOW))).toMatchObject({ version: STATE_VERSION, updatedAt: NOW });
  });

  it.each(["", "nope", "{", '{"version":1,', "undefined"])(
    "starts afresh with a warning on non-JSON %j",
    (raw) => {
      const { state, warning } = decodeState(raw);
      expect(state).toEqual(emptyState());
      expect(warning).toBe("stored state is not JSON; starting afresh");
    },
  );

  it.each<[string, string]>([
    ['{"version":0,"updatedAt":1,"processes":{}}', "0"],
    ['{"version":1.5,"updatedAt":1,"processes":{}}', "1.5"],
    ['{"version":"1","updatedAt":1,"processes":{}}', '"1"'],
    ['{"updatedAt":1,"processes":{}}', "undefined"],
    ["null", "undefined"],
    ["[]", "undefined"],
    ["42", "undefined"],
  ])("starts afresh with a warning naming the version for %s", (raw, version) => {
    const { state, warning } = decodeState(raw);
    expect(state).toEqual(emptyState());
    expect(warning).toBe(`stored state has version ${version}, expected ${STATE_VERSION}; starting afresh`);
  });

  it("refuses a newer version: no state, no warning, an error that says to leave it alone", () => {
    const raw = encodeState({ web }, NOW).replace('"version":2', '"version":3');
    const { state, warning, newer } = decodeState(raw);
    expect(warning).toBeUndefined();
    expect(state.processes).toEqual({});
    expect(newer).toBeInstanceOf(NewerStateError);
    expect(newer?.message).toMatch(
      /^stored state has version 3, newer than this release's 2: .* left untouched/,
    );
  });

  it("clamps times in the future to now, with a warning naming the fields", () => {
    const years = 10 * 365 * 24 * 3_600_000;
    const ahead: ProcessRecord = {
      ...web,
      lastScaleAt: NOW + years,
      scales: [{ at: NOW + years, from: 1, to: 2 }],
      recommendations: [[NOW + years, 5]],
      notices: { "above-max": { since: NOW + years, lastSentAt: NOW + years } },
      override: { since: NOW + years, until: NOW + 2 * years, count: 3 },
      pendingScale: { at: NOW + 1, from: 1, to: 2 },
    };
    const { state, warning } = decodeState(encodeState({ web: ahead, worker: web }, NOW + years), NOW);
    expect(state.processes.web).toMatchObject({
      lastScaleAt: NOW,
      scales: [{ at: NOW, from: 1, to: 2 }],
      recommendations: [[NOW, 5]],
      notices: { "above-max": { since: NOW, lastSentAt: NOW } },
      // The end of an override: at most its longest from now.
      override: { since: NOW, until: NOW + 24 * 3_600_000, count: 3 },
      pendingScale: { at: NOW },
    });
    expect(state.processes.worker).toEqual(web); // nothing ahead: as stored
    expect(state.updatedAt).toBe(NOW);
    expect(warning).toBe(
      "stored state of web has times in the future (lastScaleAt, scales, recommendations, pendingScale, notices, override): clamped to now (2026-01-15T12:00:00.000Z)",
    );
    // Without a clock nothing is clamped (status, which only reads).
    expect(decodeState(encodeState({ web: ahead }, NOW)).state.processes.web).toEqual(ahead);
  });

  it("keeps a pause's end within a month of now", () => {
    const paused: ProcessRecord = { ...web, paused: { since: NOW, until: NOW + 1e12 } };
    const { state } = decodeState(encodeState({ web: paused }, NOW), NOW);
    expect(state.processes.web!.paused).toEqual({ since: NOW, until: NOW + 43_200 * 60_000 });
  });

  const valid = () =>
    JSON.parse(encodeState({ web }, NOW)) as {
      updatedAt: unknown;
      processes: Record<string, Record<string, unknown>>;
    };
  const broken = (mutate: (doc: ReturnType<typeof valid>) => void) => {
    const doc = valid();
    mutate(doc);
    return JSON.stringify(doc);
  };

  it.each<[string, string]>([
    ["history not an array", broken((d) => (d.processes.web!.history = "x"))],
    [
      "a verdict that does not exist",
      broken((d) => (d.processes.web!.history = [{ at: 1, value: 1, verdict: "slow" }])),
    ],
    [
      "a history entry without a time",
      broken((d) => (d.processes.web!.history = [{ value: 1, verdict: "ok" }])),
    ],
    ["a string value", broken((d) => (d.processes.web!.history = [{ at: 1, value: "1", verdict: "ok" }]))],
    ["lastScaleAt missing", broken((d) => delete d.processes.web!.lastScaleAt)],
    ["lastScaleAt a date string", broken((d) => (d.processes.web!.lastScaleAt = "2026-01-15T12:00:00Z"))],
    ["a scale record without to", broken((d) => (d.processes.web!.scales = [{ at: 1, from: 1 }]))],
    [
      "a process that is not an object",
      broken((d) => (d.processes.web = null as unknown as Record<string, unknown>)),
    ],
  ])("resets only the malformed process, with a warning naming it (%s)", (_label, raw) => {
    const { state, warning } = decodeState(raw);
    expect(state.processes).toEqual({});
    expect(warning).toBe("stored state of web is malformed; starting afresh for it");
  });

  it.each<[string, string]>([
    ["processes missing", broken((d) => delete (d as { processes?: unknown }).processes)],
    ["updatedAt a string", broken((d) => (d.updatedAt = "now"))],
  ])("starts afresh with a warning on a malformed document (%s)", (_label, raw) => {
    const { state, warning } = decodeState(raw);
    expect(state).toEqual(emptyState());
    expect(warning).toBe("stored state is malformed; starting afresh");
  });

  it("keeps the other processes when one is malformed", () => {
    const raw = broken((d) => {
      d.processes.worker = { history: "x", lastScaleAt: null, scales: [] };
    });
    const { state, warning } = decodeState(raw);
    expect(state.processes).toEqual({ web });
    expect(warning).toBe("stored state of worker is malformed; starting afresh for it");
  });

  it("returns a fresh object each time", () => {
    const a = decodeState(null).state;
    a.processes.web = web;
    expect(decodeState(null).state.processes).toEqual({});
  });
});

describe("scale intents appended to the document", () => {
  const pending = { at: NOW, from: 2, to: 3 };

  it("sets each named process's pending scale, flagged as the intent, over the record as saved", () => {
    const raw = encodeState({ web }, NOW - 60_000) + encodeIntents({ web: pending, mailer: pending });
    const { state, warning } = decodeState(raw);
    expect(warning).toBeUndefined();
    expect(state.updatedAt).toBe(NOW - 60_000);
    expect(state.processes.web).toEqual({ ...web, pendingScale: { ...pending, intent: true } });
    // A process the document did not have yet starts from an empty record.
    expect(state.processes.mailer).toEqual({
      ...emptyProcessRecord(),
      pendingScale: { ...pending, intent: true },
    });
  });

  it("lets a later line win, and reads lines with no document before them (the first save was lost)", () => {
    const later = { at: NOW + 60_000, from: 3, to: 4 };
    const { state } = decodeState(encodeIntents({ web: pending }) + encodeIntents({ web: later }));
    expect(state.processes.web!.pendingScale).toEqual({ ...later, intent: true });
  });

  it("is only a few bytes a process: what the tick writes before its PATCHes", () => {
    const line = encodeIntents({ web: { at: NOW, from: 12, to: 13 } });
    expect(line.startsWith("\n")).toBe(true);
    expect(Buffer.byteLength(line)).toBeLessThan(60);
  });

  it("skips a malformed line with a warning, keeping the rest", () => {
    const raw = `${encodeState({ web }, NOW)}\n{"intents":{"web":{"at":"soon"}}}${encodeIntents({ worker: pending })}`;
    const { state, warning } = decodeState(raw);
    expect(state.processes.web).toEqual(web);
    expect(state.processes.worker!.pendingScale).toEqual({ ...pending, intent: true });
    expect(warning).toBe("a stored scale intent is malformed; skipped");
  });

  it("clamps an intent's time in the future, and leaves a newer version's document untouched", () => {
    const future = decodeState(
      encodeState({}, NOW) + encodeIntents({ web: { ...pending, at: NOW + 1e9 } }),
      NOW,
    );
    expect(future.state.processes.web!.pendingScale!.at).toBe(NOW);
    const newer = JSON.stringify({ version: STATE_VERSION + 1, updatedAt: NOW, processes: {} });
    expect(decodeState(newer + encodeIntents({ web: pending })).newer).toBeInstanceOf(NewerStateError);
  });
});
