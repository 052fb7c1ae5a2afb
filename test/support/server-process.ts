/**
 * A plain Traintrack server, as `npm start` runs it, for tests that must see
 * the process itself (does it survive a database restart?): run as a child
 * process by test/support/child-server.ts,
 *
 *   node --import tsx test/support/server-process.ts
 *
 * Configuration comes from the environment (loadConfig). Prints
 * `listening <port>` on stdout once it accepts calls; nothing else goes to
 * stdout. Like src/main.ts, it installs no handler for uncaught errors, so
 * whatever would crash the real server crashes this one.
 */
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";

async function main(): Promise<void> {
  const app = await createApp(loadConfig(), { log: (message, error) => console.error(message, error ?? "") });
  console.log(`listening ${app.port}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
