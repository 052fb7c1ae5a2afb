import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("configuration", () => {
  it("defaults to the embedded database and local files, so a fresh machine needs nothing else", () => {
    const config = loadConfig({ TRAINTRACK_DATA_DIR: "/data" });
    expect(config.database).toEqual({ kind: "pglite", dataDir: "/data/db" });
    expect(config.storage).toEqual({ kind: "local", root: "/data/objects" });
    expect(config.port).toBe(8080);
  });

  it("uses PostgreSQL and S3 when configured", () => {
    const config = loadConfig({
      TRAINTRACK_DB_URL: "postgres://u@h/db",
      TRAINTRACK_S3_ENDPOINT: "http://127.0.0.1:9000",
      TRAINTRACK_S3_ACCESS_KEY: "a",
      TRAINTRACK_S3_SECRET_KEY: "s",
    });
    expect(config.database).toEqual({
      kind: "postgres",
      url: "postgres://u@h/db",
      pool: { size: 20, connectTimeoutMs: 5000, statementTimeoutMs: 30_000, idleInTransactionTimeoutMs: 60_000 },
    });
    expect(config.storage).toMatchObject({ kind: "s3", bucket: "traintrack", endpoint: "http://127.0.0.1:9000" });
  });

  it("reads the janitor's budget and the leases it waits for, so tests can shorten them", () => {
    const config = loadConfig({
      TRAINTRACK_STAGING_GRACE_SECONDS: "1",
      TRAINTRACK_JANITOR_BUDGET_SECONDS: "5",
      TRAINTRACK_JANITOR_CLAIM_TAKEOVER_SECONDS: "10",
    });
    expect(config).toMatchObject({ stagingGraceSeconds: 1, janitorBudgetSeconds: 5, janitorClaimTakeoverSeconds: 10 });
    expect(loadConfig({})).toMatchObject({ stagingGraceSeconds: 60, janitorBudgetSeconds: 60, janitorClaimTakeoverSeconds: 900 });
  });

  it.each([
    [{ TRAINTRACK_JANITOR_BUDGET_SECONDS: "600", TRAINTRACK_JANITOR_CLAIM_TAKEOVER_SECONDS: "900" }, /TRAINTRACK_JANITOR_CLAIM_TAKEOVER_SECONDS must be an integer from 1200/],
    [{ TRAINTRACK_PORT: "http" }, /TRAINTRACK_PORT must be an integer/],
    [{ TRAINTRACK_SEGMENT_BYTES: "1024" }, /TRAINTRACK_SEGMENT_BYTES/],
    [{ TRAINTRACK_STORAGE: "gcs" }, /"local" or "s3"/],
    [{ TRAINTRACK_STORAGE: "s3" }, /TRAINTRACK_S3_ENDPOINT is required/],
    [{ TRAINTRACK_DB_URL: "postgres://h/db", TRAINTRACK_DB_POOL_SIZE: "0" }, /TRAINTRACK_DB_POOL_SIZE/],
    [{ TRAINTRACK_DB_URL: "postgres://h/db", TRAINTRACK_DB_STATEMENT_TIMEOUT_MS: "-1" }, /TRAINTRACK_DB_STATEMENT_TIMEOUT_MS/],
  ])("names the variable to fix: %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
