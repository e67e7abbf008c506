import { describe, expect, it } from "vitest";
import { closest, didYouMean } from "../../src/kit/closest.js";
import { noun, plural } from "../../src/kit/plural.js";

describe("plural", () => {
  it("says 1 process, 2 processes, 0 processes, and -1 process for a net change", () => {
    expect(plural(1, "process", "processes")).toBe("1 process");
    expect(plural(2, "process", "processes")).toBe("2 processes");
    expect(plural(0, "process", "processes")).toBe("0 processes");
    expect(plural(-1, "process", "processes")).toBe("-1 process");
    expect(plural(1, "fail")).toBe("1 fail");
    expect(plural(3, "fail")).toBe("3 fails");
    expect(plural(1500, "minute", "minutes", "1,500")).toBe("1,500 minutes");
    expect(noun(1, "job")).toBe("job");
  });
});

describe("closest", () => {
  const known = ["AUTOSCALE_MAX_DYNOS", "AUTOSCALE_MIN_DYNOS", "AUTOSCALE_CONFIG"];
  it("finds the candidate a typo meant, in any case, and nothing far off", () => {
    expect(closest("AUTOSCALE_MAX_DYNS", known)).toBe("AUTOSCALE_MAX_DYNOS");
    expect(closest("autoscale_min_dynos", known)).toBe("AUTOSCALE_MIN_DYNOS");
    expect(closest("AUTOSCALE_FROBNICATE", known)).toBeUndefined();
    expect(closest("tik", ["tick", "run"])).toBe("tick");
    expect(closest("x", ["tick", "run"])).toBeUndefined();
    expect(didYouMean("AUTOSCALE_CONFIGG", known)).toBe(" (did you mean AUTOSCALE_CONFIG?)");
    expect(didYouMean("zzz", known)).toBe("");
  });
});
