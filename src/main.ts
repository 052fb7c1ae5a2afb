/** Starts Traintrack from the environment: `npm start`. */
import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  const where = config.database.kind === "postgres" ? "PostgreSQL" : `embedded PGlite in ${config.database.dataDir}`;
  const storage = config.storage.kind === "s3" ? `S3 at ${config.storage.endpoint}` : `local files in ${config.storage.root}`;
  console.log(`traintrack listening on ${config.host}:${app.port} (gRPC, gRPC-Web, Connect; ${where}; ${storage})`);
  if (app.bootstrapKey) {
    console.log(`\nCreated organisation "default" and its admin API key. It is shown only this once:\n\n  ${app.bootstrapKey}\n`);
  }

  const janitorPass = () => app.janitor.runOnce().catch((error: unknown) => console.error("janitor pass failed", error));
  void janitorPass();
  const timer = config.janitorIntervalSeconds > 0 ? setInterval(janitorPass, config.janitorIntervalSeconds * 1000) : undefined;
  timer?.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    clearInterval(timer);
    await app.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
});
