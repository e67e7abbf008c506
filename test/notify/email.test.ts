import { createServer } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { close, listen } from "../../src/local/listen.js";
import { startResendApi, type ResendApiServer } from "../../src/local/resend-api.js";
import { EmailNotifier, emailNotifierSchema, type EmailNotifierConfig } from "../../src/notify/email.js";
import type { AutoscaleEvent } from "../../src/notify/events.js";

const KEY = "re_test_secret_key_123";

let resend: ResendApiServer;
beforeAll(async () => {
  resend = await startResendApi({ apiKey: KEY });
});
afterAll(() => resend.close());
beforeEach(() => {
  resend.received.length = 0;
  resend.setLatency(0);
});

const config = (overrides: Partial<EmailNotifierConfig> = {}): EmailNotifierConfig =>
  emailNotifierSchema.parse({
    backend: "email",
    from: "Autoscaler <autoscale@example.com>",
    to: "ops@example.com",
    ...overrides,
  });
const env = () => ({ RESEND_API_KEY: KEY, RESEND_BASE_URL: resend.url });
const signal = () => AbortSignal.timeout(5000);

const aboveMax: AutoscaleEvent = {
  kind: "above-max",
  phase: "started",
  process: "web",
  tickId: "tick-7",
  at: "2024-05-01T12:03:00.000Z",
  message: "needs more than the maximum of 3 processes",
  from: 3,
  to: 3,
  value: 480,
  unit: "ms",
  reason: "3 of 3 readings above 300 ms <script>",
  readings: [
    { at: "2024-05-01T12:01:00.000Z", value: 410 },
    { at: "2024-05-01T12:02:00.000Z", value: 450 },
    { at: "2024-05-01T12:03:00.000Z", value: 480 },
  ],
  advice: "raise maxProcesses or make requests faster",
};
const scale: AutoscaleEvent = {
  kind: "scale",
  process: "worker",
  tickId: "tick-7",
  at: "2024-05-01T12:03:00.000Z",
  message: "scaled 1 -> 2",
  from: 1,
  to: 2,
};

type Sent = { from: string; to: string[]; subject: string; text: string; html: string };
const lastBody = () => resend.received.at(-1)!.body as Sent;

describe("emailNotifierSchema", () => {
  it("defaults the subject prefix and the key's variable", () => {
    expect(config()).toEqual({
      backend: "email",
      from: "Autoscaler <autoscale@example.com>",
      to: "ops@example.com",
      subjectPrefix: "[autoscalebot]",
      apiKeyEnv: "RESEND_API_KEY",
    });
  });

  it("accepts a bare sender and a list of recipients", () => {
    const parsed = emailNotifierSchema.parse({
      backend: "email",
      from: "a@example.com",
      to: ["b@example.com", "c@example.com"],
    });
    expect(parsed.to).toEqual(["b@example.com", "c@example.com"]);
  });

  it.each([
    [{ from: "not an address" }, "from"],
    [{ from: "Name <nope>" }, "from"],
    [{ to: [] }, "to"],
    [{ to: "nope" }, "to"],
    [{ apiKeyEnv: "has space" }, "apiKeyEnv"],
    [{ apiKey: "re_inline" }, ""],
  ])("refuses %j", (overrides, path) => {
    const result = emailNotifierSchema.safeParse({
      backend: "email",
      from: "a@example.com",
      to: "b@example.com",
      ...overrides,
    });
    expect(result.success).toBe(false);
    if (path) expect(result.error!.issues[0]!.path).toEqual([path]);
  });
});

describe("EmailNotifier with the real resend SDK against the local Resend API", () => {
  it("sends one email per send with subject, text and HTML that say what, why and what to do", async () => {
    await new EmailNotifier(config(), env()).send([aboveMax, scale], signal());
    expect(resend.received).toHaveLength(1);
    const request = resend.received[0]!;
    expect(request).toMatchObject({ method: "POST", path: "/emails" });
    expect(request.headers.authorization).toBe("[redacted]");
    expect(request.headers["user-agent"]).toMatch(/^resend-node:/);
    expect(request.headers["idempotency-key"]).toMatch(/^autoscalebot-[0-9a-f]{40}$/);

    const body = lastBody();
    expect(body.from).toBe("Autoscaler <autoscale@example.com>");
    expect(body.to).toEqual(["ops@example.com"]);
    expect(body.subject).toBe("[autoscalebot] web: needs more than 3 processes (above-max) (+1 more)");
    for (const part of [body.text, body.html]) {
      expect(part).toContain("needs more than the maximum of 3 processes");
      expect(part).toContain("raise maxProcesses or make requests faster");
      expect(part).toContain("worker: scaled 1 → 2");
      expect(part).toContain("tick tick-7 at 2024-05-01T12:03:00.000Z");
    }
    expect(body.text).toContain("Why: 3 of 3 readings above 300 ms <script>");
    expect(body.text).toContain("12:02:00  450 ms");
    expect(body.html).toContain("3 of 3 readings above 300 ms &lt;script&gt;");
    expect(body.html).not.toContain("<script>");
    expect(body.html).toMatch(/12:02:00<\/td><td[^>]*>450 ms/);
  });

  it("sends to every recipient, with the configured prefix", async () => {
    await new EmailNotifier(
      config({ to: ["a@example.com", "b@example.com"], subjectPrefix: "[prod]" }),
      env(),
    ).send([scale], signal());
    expect(lastBody()).toMatchObject({
      to: ["a@example.com", "b@example.com"],
      subject: "[prod] worker: scaled 1 → 2",
    });
  });

  it("sends nothing for no events", async () => {
    await new EmailNotifier(config(), env()).send([], signal());
    expect(resend.received).toHaveLength(0);
  });

  it("uses the same idempotency key for the same message, so a retried tick sends it once", async () => {
    const notifier = new EmailNotifier(config(), env());
    await notifier.send([scale], signal());
    await notifier.send([scale], signal());
    await notifier.send([aboveMax], signal());
    const keys = resend.received.map((r) => r.headers["idempotency-key"]);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it("names the missing variable and sends nothing", async () => {
    await expect(
      new EmailNotifier(config(), { RESEND_BASE_URL: resend.url }).send([scale], signal()),
    ).rejects.toThrow("email: environment variable RESEND_API_KEY (the Resend API key) is not set");
    await expect(
      new EmailNotifier(config({ apiKeyEnv: "MAIL_KEY" }), env()).send([scale], signal()),
    ).rejects.toThrow(/MAIL_KEY/);
    expect(resend.received).toHaveLength(0);
  });

  it("never falls back to process.env for the key", async () => {
    process.env.RESEND_API_KEY = KEY;
    try {
      await expect(
        new EmailNotifier(config(), { RESEND_BASE_URL: resend.url }).send([scale], signal()),
      ).rejects.toThrow(/RESEND_API_KEY/);
    } finally {
      delete process.env.RESEND_API_KEY;
    }
  });

  it("reports a wrong key as Resend does, without the key", async () => {
    const error = await new EmailNotifier(config(), { ...env(), RESEND_API_KEY: "re_wrong_key_456" })
      .send([scale], signal())
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toBe("email via Resend failed: invalid_api_key (HTTP 403): API key is invalid.");
    expect(error!.message).not.toContain("re_wrong_key_456");
  });

  it.each([
    [401, /missing_api_key \(HTTP 401\): Missing API key/],
    [422, /validation_error \(HTTP 422\)/],
    [429, /rate_limit_exceeded \(HTTP 429\)/],
    [500, /internal_server_error \(HTTP 500\)/],
  ])("turns a Resend %i into an error with its name and message, never the key", async (status, pattern) => {
    resend.failNext(status);
    const error = await new EmailNotifier(config(), env())
      .send([scale], signal())
      .catch((e: unknown) => e as Error);
    expect(error!.message).toMatch(pattern);
    expect(error!.message).not.toContain(KEY);
  });

  it("redacts the key even if an error message were to echo it", async () => {
    resend.failNext(422, { statusCode: 422, name: "validation_error", message: `bad key ${KEY}` });
    await expect(new EmailNotifier(config(), env()).send([scale], signal())).rejects.toThrow(
      "email via Resend failed: validation_error (HTTP 422): bad key [redacted]",
    );
  });

  it("reports a non-JSON error page as the SDK does", async () => {
    resend.failNext(502, "<html>Bad Gateway</html>");
    await expect(new EmailNotifier(config(), env()).send([scale], signal())).rejects.toThrow(
      /application_error \(HTTP 502\)/,
    );
  });

  it("reports the server's validation of a bad request", async () => {
    // The schema refuses such an address; this checks the local server and the error path.
    const notifier = new EmailNotifier({ ...config(), from: "nobody" }, env());
    await expect(notifier.send([scale], signal())).rejects.toThrow(
      /validation_error \(HTTP 422\): Invalid `from` field/,
    );
  });

  it("reports an unreachable Resend", async () => {
    const server = createServer();
    const closed = await listen(server);
    await close(server);
    const notifier = new EmailNotifier(config(), { ...env(), RESEND_BASE_URL: closed });
    await expect(notifier.send([scale], signal())).rejects.toThrow(/application_error: Unable to fetch data/);
  });

  it("gives up when the signal times out, without waiting for the answer", async () => {
    resend.setLatency(5000);
    const started = Date.now();
    await expect(new EmailNotifier(config(), env()).send([scale], AbortSignal.timeout(150))).rejects.toThrow(
      "email: Resend did not answer in time",
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("does not send when already cancelled", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new EmailNotifier(config(), env()).send([scale], controller.signal)).rejects.toThrow(
      "email: Resend did not answer before the send was cancelled",
    );
    expect(resend.received).toHaveLength(0);
  });
});

describe("local Resend API", () => {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${resend.url}/emails`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const valid = { from: "a@example.com", to: "b@example.com", subject: "hi", text: "hello" };

  it("answers 200 with an id", async () => {
    const response = await post(valid);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown });
  });

  it("answers 401 missing_api_key without a Bearer token", async () => {
    const response = await fetch(`${resend.url}/emails`, { method: "POST", body: JSON.stringify(valid) });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      statusCode: 401,
      name: "missing_api_key",
      message: "Missing API key in the authorization header.",
    });
  });

  it.each([
    [{ ...valid, to: undefined }, "missing_required_field", "Missing `to` field."],
    [{ ...valid, subject: undefined }, "missing_required_field", "Missing `subject` field."],
    [{ ...valid, text: undefined }, "missing_required_field", "Missing `html` or `text` field."],
    [{ ...valid, to: ["x"] }, "validation_error", expect.stringMatching(/^Invalid `to` field/) as unknown],
  ])("answers 422 for %j", async (body, name, message) => {
    const response = await post(body);
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({ statusCode: 422, name, message });
  });

  it("answers a repeated idempotent request with the first id, and 409 for a different body", async () => {
    const headers = { "idempotency-key": "same-key" };
    const first = (await (await post(valid, headers)).json()) as { id: string };
    const again = (await (await post(valid, headers)).json()) as { id: string };
    expect(again.id).toBe(first.id);
    const conflict = await post({ ...valid, subject: "other" }, headers);
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({ name: "invalid_idempotent_request" });
  });

  it("answers 404 and 405 elsewhere", async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    expect((await fetch(`${resend.url}/domains`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${resend.url}/emails`, { headers: auth })).status).toBe(405);
  });
});
