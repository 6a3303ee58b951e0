import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real agent CLIs are heavy (hundreds of MB each); two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
