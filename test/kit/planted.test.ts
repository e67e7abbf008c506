import { describe, expect, it } from "vitest";
import { checkOutput, plant, recordOutput, takeOutput } from "../helpers/planted.js";

/** The suite's own check (test/setup/no-planted-secrets.ts): what it captures, and what it fails on. */
describe("planted secrets in a test's output", () => {
  it("the console and stdout are captured, with what helpers record of child processes", () => {
    takeOutput();
    console.log("a line from the console");
    process.stdout.write("a line on stdout\n");
    recordOutput("a line from a child process");
    const output = takeOutput();
    for (const line of ["a line from the console", "a line on stdout", "a line from a child process"])
      expect(output).toContain(line);
  });

  it("fails naming the secret's label, never the secret; each planted secret is fresh", () => {
    const secret = plant("sample-token");
    expect(plant("sample-token")).not.toBe(secret);
    recordOutput(`a child said ${secret}`);
    expect(() => checkOutput("this test")).toThrow(
      /^this test printed planted secrets \(sample-token\): something leaks them$/,
    );
    // The check took the output: the setup's own check after this test finds nothing.
    expect(() => checkOutput("this test")).not.toThrow();
  });
});
