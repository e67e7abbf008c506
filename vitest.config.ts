import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // test/kit/timeout-gc.test.ts forces collections while calls hang.
    execArgv: ["--expose-gc"],
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
