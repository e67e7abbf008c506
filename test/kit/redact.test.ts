import { describe, expect, it } from "vitest";
import { scrub } from "../../src/kit/redact.js";
import { createStateStore, StoreConfigError } from "../../src/state/index.js";

describe("scrub", () => {
  it("takes out known secrets, any URL's user and password, and secret-looking query parameters", () => {
    const text =
      "GET https://deploy:hunter2-pw@api.example.com/apps?api_key=k-123&page=2 failed; " +
      "redis at rediss://default:AbCdEf123@eu1.upstash.io:6379, token s3cr3t-token";
    expect(scrub(text, ["s3cr3t-token"])).toBe(
      "GET https://[redacted]@api.example.com/apps?api_key=[redacted]&page=2 failed; " +
        "redis at rediss://[redacted]@eu1.upstash.io:6379, token [redacted]",
    );
  });

  it("leaves a text without secrets as it is", () => {
    const text = "HTTP 503 from https://api.heroku.com/apps/x/formation (user@example.com asked)";
    expect(scrub(text, [])).toBe(text);
  });
});

describe("UPSTASH_REDIS_REST_URL", () => {
  const store = (url: string) => () =>
    createStateStore({ UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: "t0ken-value" }, "p");

  it("refuses Upstash's redis:// connection string, saying which URL to use, without echoing it", () => {
    for (const url of [
      "rediss://default:PaSsWoRd99@eu1-x.upstash.io:6379",
      "redis://:PaSsWoRd99@host:6379",
    ]) {
      expect(store(url)).toThrow(StoreConfigError);
      expect(store(url)).toThrow(/REST URL \(https:\/\/<name>\.upstash\.io/);
      try {
        store(url)();
      } catch (error) {
        expect(String((error as Error).message)).not.toContain("PaSsWoRd99");
      }
    }
  });

  it("refuses a user or password in the REST URL, and what is not an https URL", () => {
    expect(store("https://user:PaSsWoRd99@eu1-x.upstash.io")).toThrow(/must not hold a user or password/);
    expect(store("eu1-x.upstash.io")).toThrow(/not a URL/);
    expect(store("ftp://eu1-x.upstash.io")).toThrow(/https:\/\//);
    expect(store("https://eu1-x.upstash.io")()).toMatchObject({ kind: "upstash" });
  });
});
