/**
 * A pipeline run recorded from several processes at once, as orchestrators
 * run steps on several workers: each process has its own client (over a
 * different protocol), they all start the same step, and each records its
 * share of a fan-out. The DAG read back is whole and consistent.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineRunStatus, PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const WORKERS = 4;
const PER_WORKER = 15;

interface Answer {
  shared: string;
  contended: string[];
  ids: string[];
}

/** Runs the worker script; resolves with its JSON answer, rejects with its stderr when it fails. */
function worker(args: string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/pipeline-step-worker.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as Answer) : reject(new Error(`worker exited with ${code}: ${err}`))));
  });
}

describe.each(backends())("a pipeline run recorded from several processes on $name", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  it.skipIf(!backend.available)("yields one instance of a step every process starts, and every instance each process recorded", async () => {
    const pipelines = server.client(PipelineService);
    const runId = (await pipelines.startPipelineRun({ pipeline: "multi-process", createPipeline: true })).run?.id ?? "";
    const extract = await pipelines.startStep({ pipelineRunId: runId, name: "extract" });
    await pipelines.finishStep({ stepId: extract.step?.id ?? "", status: StepStatus.SUCCEEDED, outputs: [{ ref: { case: "external", value: { namespace: "s3://workers", name: "raw" } } }] });

    const protocols = ["grpc", "connect", "grpc-web", "grpc"];
    const answers = await Promise.all(
      Array.from({ length: WORKERS }, (_, w) => worker([server.baseUrl, server.apiKey, protocols[w] ?? "grpc", runId, String(w * PER_WORKER), String((w + 1) * PER_WORKER)])),
    );
    // Every process got the same instance of "shared".
    expect(new Set(answers.map((a) => a.shared)).size).toBe(1);
    for (let i = 0; i < 10; i++) expect(new Set(answers.map((a) => a.contended[i])).size, `contended[${i}]`).toBe(1);
    const recorded = answers.flatMap((a) => a.ids);
    expect(new Set(recorded).size).toBe(WORKERS * PER_WORKER);

    const merge = await pipelines.startStep({ pipelineRunId: runId, name: "merge", inputs: Array.from({ length: WORKERS * PER_WORKER }, (_, i) => ({ ref: { case: "external" as const, value: { namespace: "s3://workers", name: `part-${i}` } } })) });
    await pipelines.finishStep({ stepId: merge.step?.id ?? "", status: StepStatus.SUCCEEDED });
    for (let instance = 0; instance < 10; instance++) await pipelines.finishStep({ pipelineRunId: runId, name: "contended", instance, status: StepStatus.SUCCEEDED });
    const ended = await pipelines.finishPipelineRun({ pipelineRunId: runId, status: PipelineRunStatus.SUCCEEDED });
    expect(ended.run?.stepCounts).toEqual({ succeeded: 1 + 1 + 10 + WORKERS * PER_WORKER + 1 });

    const dag = await pipelines.getPipelineRun({ pipelineRunId: runId, expandInstances: true });
    expect(dag.steps.map((s) => [s.name, StepStatus[s.status], s.instanceCount]).sort()).toEqual([
      ["contended", "SUCCEEDED", 10],
      ["extract", "SUCCEEDED", 1],
      ["merge", "SUCCEEDED", 1],
      ["shared", "SUCCEEDED", 1],
      ["work", "SUCCEEDED", WORKERS * PER_WORKER],
    ]);
    // Topological order: each step after its upstream steps.
    const at = (name: string) => dag.steps.findIndex((s) => s.name === name);
    for (const e of dag.edges) expect(at(e.from), `${e.from} → ${e.to}`).toBeLessThan(at(e.to));
    const work = dag.steps.find((s) => s.name === "work");
    expect(work?.instances.map((i) => i.instance)).toEqual(Array.from({ length: WORKERS * PER_WORKER }, (_, i) => i));
    expect(work?.instances.map((i) => i.id).sort()).toEqual([...recorded].sort());
    expect(work?.instances.every((i) => i.startTime !== undefined && i.endTime !== undefined)).toBe(true);
    expect(work?.outputs).toHaveLength(WORKERS * PER_WORKER);
    expect(dag.steps.find((s) => s.name === "shared")?.instances[0]?.id).toBe(answers[0]?.shared);
    expect(dag.edges.map((e) => [e.from, e.to, e.fromData]).sort()).toEqual([
      ["extract", "shared", false],
      ["extract", "work", true],
      ["shared", "contended", false],
      ["shared", "work", false],
      ["work", "merge", true],
    ]);
    const graph = await pipelines.getPipelineGraph({ pipelineRunId: runId, expand: true });
    expect(graph.nodes).toHaveLength(3 + 10 + WORKERS * PER_WORKER);
    // extract → shared; shared → each contended instance; extract → each work instance (data) and shared → each (declared), each → merge.
    expect(graph.edges).toHaveLength(1 + 10 + 3 * WORKERS * PER_WORKER);
  });
});
