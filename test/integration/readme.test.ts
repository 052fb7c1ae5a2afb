/**
 * The README is the front door: its grpcurl session, its TypeScript example
 * and its Python example run one after the other, as written (only the port
 * is this server's), against a fresh server, without colliding.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { grpcurlPath } from "../support/services.js";

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PYTHON = path.join(ROOT, "sdk/python/.venv/bin/python");

/** The first fenced block of `language` after the heading `heading`. */
function block(readme: string, heading: string, language: string): string {
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(section);
  if (!match?.[1]) throw new Error(`README has no ${language} block under "${heading}"`);
  return match[1];
}

const grpcurl = grpcurlPath();
const python = existsSync(PYTHON) || process.env.CI === "true" ? PYTHON : undefined;

describe.skipIf(!grpcurl || !python)("the README's examples", () => {
  let server: TestServer;
  let dir: string;
  let readme: string;
  const local = (code: string) => code.replaceAll("localhost:8080", `127.0.0.1:${server.app.port}`);
  const env = () => ({
    ...process.env,
    PATH: `${path.dirname(grpcurl ?? "")}:${process.env.PATH ?? ""}`,
    KEY: server.apiKey,
    TRAINTRACK_API_KEY: server.apiKey,
    TRAINTRACK_URL: `http://127.0.0.1:${server.app.port}`,
  });

  beforeAll(async () => {
    server = await startTestServer("embedded");
    dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-readme-"));
    readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("the grpcurl session uploads, commits, reads back and lists", async () => {
    const script = local(block(readme, "## A session with grpcurl", "sh"));
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script], { cwd: dir, env: env() });
    expect(stdout).toContain(Buffer.from("id,label\n1,yes\n2,no\n").toString("base64"));
    expect(stdout).toContain('"name":"customer_churn"');
  });

  it("then the TypeScript example commits version 1.1.0, derived from 1.0.0", async () => {
    // In the clone's root, where the example's imports of ./gen/ resolve; run where churn.csv is.
    const file = path.join(ROOT, `.readme-example-${process.pid}.ts`);
    await writeFile(file, local(block(readme, "## The same from TypeScript", "ts")));
    try {
      // `npx tsx example.ts`, as the README says: the clone's own tsx.
      const { stdout } = await run(path.join(ROOT, "node_modules/.bin/tsx"), [file], { cwd: dir, env: env() });
      expect(stdout).toContain("churn.csv");
    } finally {
      await rm(file, { force: true });
    }
    const { dataset } = await server.client(DatasetService).getDataset({ name: "customer_churn", version: "1.1.0" });
    expect(dataset?.derivedFrom.map((r) => r.version)).toEqual(["1.0.0"]);
  });

  it("then the Python example saves 2.0.0, transforms it into 2.0.1 and logs a run's model", async () => {
    await run(PYTHON, ["-c", block(readme, "## From Python", "python")], { cwd: dir, env: env() });
    const datasets = server.client(DatasetService);
    const { versions } = await datasets.listDatasetVersions({ name: "customer_churn" });
    expect(versions.map((v) => v.version).sort()).toEqual(["1.0.0", "1.1.0", "2.0.0", "2.0.1"]);
    const { runs } = await server.client(ExperimentService).listRuns({ project: "churn", experiment: "xgb-sweep" });
    expect(runs).toHaveLength(1);
    const { artefacts } = await server.client(RunArtefactService).listRunArtefacts({ runId: runs[0]?.runId ?? "" });
    expect(artefacts.map((a) => a.path)).toEqual(["model.pt"]);
  });
});
