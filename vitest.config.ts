import { defineConfig } from "vitest/config";

// Integration suites start servers and real PostgreSQL/MinIO clients: at most
// two test files run at once (the CI machines have two cores), each in its own
// forked process. Run through `npm test` (test/scripts/run-all.sh), which
// starts the services; `npx vitest run test/unit` works on its own.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    watch: false,
  },
});
