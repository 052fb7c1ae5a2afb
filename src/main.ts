/**
 * Starts Traintrack from the environment (`npm start`, or `node dist/src/main.js`
 * after `npm run build`). SIGTERM or SIGINT shuts it down gracefully (see
 * App.close); a second signal exits at once.
 */
import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger, errorField, type Logger } from "./ops/logger.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.ops.logLevel);
  // Whatever escapes every handler is a bug: log it as one JSON line, then die as Node would.
  const die = (error: unknown, what: string) => {
    logger.fatal({ err: errorField(error, true) }, what);
    process.exit(1);
  };
  process.on("uncaughtException", (error) => die(error, "uncaught exception"));
  process.on("unhandledRejection", (reason) => die(reason, "unhandled promise rejection"));
  // Node prints its warnings (deprecations, listener counts) as plain stderr text: log them as JSON instead.
  process.removeAllListeners("warning");
  process.on("warning", (warning) => logger.warn({ err: errorField(warning, false) }, `node: ${warning.name}`));

  const app = await createApp(config, { logger });
  const where = config.database.kind === "postgres" ? "PostgreSQL" : `embedded PGlite in ${config.database.dataDir}`;
  const storage = config.storage.kind === "s3" ? `S3 at ${config.storage.endpoint}` : `local files in ${config.storage.root}`;
  logger.info(
    { host: config.host, port: app.port, database: config.database.kind, storage: config.storage.kind },
    `traintrack listening on ${config.host}:${app.port} (gRPC, gRPC-Web, Connect; ${where}; ${storage})`,
  );
  if (app.bootstrapKey) {
    logger.warn(
      { organization: "default", apiKey: app.bootstrapKey },
      `created organisation "default", its owner "admin" (also the instance administrator) and admin's API key; it is shown only this once: ${app.bootstrapKey}`,
    );
  }
  onSignals(logger, config.ops.shutdownGraceMs, () => app.close());
}

/** The first SIGTERM/SIGINT starts a graceful shutdown; a second one exits at once. */
function onSignals(logger: Logger, graceMs: number, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs }, "shutting down: draining in-flight calls");
    close().then(
      () => {
        logger.info("shut down");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: errorField(error, true) }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  // Before the logger exists (a configuration error) this is still one JSON line.
  const line =
    error instanceof ConfigError
      ? { level: "fatal", msg: `configuration error: ${error.message}` }
      : { level: "fatal", msg: "start-up failed", err: errorField(error, true) };
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), service: "traintrack", ...line })}\n`);
  process.exit(1);
});
