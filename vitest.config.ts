import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Fails any test whose output holds a secret it planted (test/helpers/planted.ts).
    setupFiles: ["test/setup/no-planted-secrets.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // test/kit/timeout-gc.test.ts forces collections while calls hang.
    execArgv: ["--expose-gc"],
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
