/**
 * A Traintrack server that dies on purpose: when a CreateDataset commit
 * reaches the step named by TRAINTRACK_TEST_CRASH_AT, the process sends itself
 * SIGKILL, so nothing is cleaned up, closed or flushed, as when a machine
 * loses power or the OOM killer strikes.
 *
 * Run as a child process by test/integration/commit-failures.test.ts:
 *
 *   node --import tsx test/support/crash-server.ts
 *
 * Configuration comes from the environment like `npm start` (loadConfig).
 * Prints `listening <port>` on stdout once it accepts calls.
 */
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { CommitStep } from "../../src/services/upload-commit.js";

const STEPS: readonly string[] = ["planned", "in-transaction", "committed"] satisfies CommitStep[];

async function main(): Promise<void> {
  // This script is an entry point like src/main.ts: the one place it reads its environment.
  const crashAt = process.env.TRAINTRACK_TEST_CRASH_AT ?? "";
  if (!STEPS.includes(crashAt)) {
    throw new Error(`TRAINTRACK_TEST_CRASH_AT must be one of ${STEPS.join(", ")}, not ${JSON.stringify(crashAt)}`);
  }
  const app = await createApp(loadConfig(), {
    onCommitStep: async (step) => {
      if (step !== crashAt) return;
      process.kill(process.pid, "SIGKILL");
      // Delivery is immediate on Linux; never let the commit go on meanwhile.
      await new Promise<never>(() => undefined);
    },
  });
  console.log(`listening ${app.port}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
