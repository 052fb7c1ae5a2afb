/**
 * Benchmark: a large pipeline DAG. One pipeline run of 5,000 steps in 20
 * layers of 250, each step after two steps of the layer before (one in 19 after
 * three: 10,000 edges), recorded with RecordSteps, a layer (250 steps) per
 * call, as an orchestrator would report them (the Python SDK's figure, through
 * prun.record_steps, is bench/python/pipeline_bench.py's). Then GetPipelineGraph
 * collapsed and expanded, and a 3-hop GetLineageGraph from a model version
 * registered from the run that a last-layer step is tracked as. Targets (issue
 * 13): recording ≥ 1,000 steps/s, the graph under 200 ms, the lineage under 50 ms.
 * The absolute figures are the targets; the note gives the machine's load.
 */
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ExperimentService } from "../gen/traintrack/v1/experiment_pb.js";
import { LineageService } from "../gen/traintrack/v1/lineage_pb.js";
import { ModelService } from "../gen/traintrack/v1/model_pb.js";
import { PipelineService, StepStatus } from "../gen/traintrack/v1/pipeline_pb.js";
import { RunArtefactService } from "../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../gen/traintrack/v1/upload_pb.js";
import { Payload, since, upload } from "./client.js";
import type { BenchOptions, ProviderName } from "./options.js";
import { providerLabel, servicePorts } from "./options.js";
import { type CpuSplit, meterCpu } from "./proc.js";
import { printCpu, printTable } from "./report.js";
import { startServer } from "./server.js";

const LAYERS = 20;
const WIDTH = 250;
const READS = 7;

export interface PipelineGraphResult {
  provider: ProviderName;
  steps: number;
  edges: number;
  recordSeconds: number;
  collapsedMs: number[];
  expandedMs: number[];
  lineageMs: number[];
  /** Where the CPU went while the steps were recorded. */
  recordCpu: CpuSplit;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function measurePipelineGraph(opts: BenchOptions, provider: ProviderName): Promise<PipelineGraphResult> {
  const server = await startServer({ provider, services: opts.services, cpuProf: opts.cpuProf, nodeArgs: opts.serverNodeArgs, root: opts.serverRoot, label: `pipelines-${provider}` });
  try {
    const auth: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${server.apiKey}`);
      return next(req);
    };
    const transport = createGrpcTransport({ baseUrl: server.baseUrl, interceptors: [auth] });
    const pipelines = createClient(PipelineService, transport);
    const pipelineRunId = (await pipelines.startPipelineRun({ pipeline: "bench", createPipeline: true, project: "bench" })).run?.id ?? "";

    // The run a last-layer step is tracked as, with a model registered from its artefacts.
    const experiments = createClient(ExperimentService, transport);
    const runId = (await experiments.createRun({ project: "bench", experiment: "bench" })).run?.runId ?? "";
    const weights = await upload(createClient(UploadService, transport), "weights.bin", 4096, [new Payload().small(4096, 0)]);
    await createClient(RunArtefactService, transport).logRunArtefacts({ runId, artefacts: [{ uploadId: weights.uploadId, path: "model/weights.bin" }] });
    await createClient(ModelService, transport).createModelVersion({ model: "bench-model", createModel: true, project: "bench", source: { case: "runArtefacts", value: { runId, pathPrefix: "model/" } } });

    let edges = 0;
    const meter = meterCpu(server.pid, servicePorts(opts.services));
    const profiled = server.profile(`${providerLabel(provider)}: recording ${LAYERS * WIDTH} steps`);
    const t0 = performance.now();
    // A layer per RecordSteps call, as an orchestrator reports a layer once it is done.
    for (let layer = 0; layer < LAYERS; layer++) {
      const steps = Array.from({ length: WIDTH }, (_, i) => {
        const upstream = layer === 0 ? [] : [`s${layer - 1}-${i}`, `s${layer - 1}-${(i + 1) % WIDTH}`, ...(i % 19 === 0 ? [`s${layer - 1}-${(i + 2) % WIDTH}`] : [])];
        edges += upstream.length;
        const tracked = layer === LAYERS - 1 && i === 0 ? runId : "";
        return { name: `s${layer}-${i}`, upstream, runId: tracked, status: StepStatus.SUCCEEDED };
      });
      await pipelines.recordSteps({ pipelineRunId, steps });
    }
    const recordSeconds = since(t0) / 1000;
    profiled();
    const recordCpu = meter.stop();

    const timed = async (call: () => Promise<unknown>) => {
      const out: number[] = [];
      for (let i = 0; i < READS; i++) {
        const t = performance.now();
        await call();
        out.push(since(t));
      }
      return out;
    };
    const lineage = createClient(LineageService, transport);
    return {
      provider,
      steps: LAYERS * WIDTH,
      edges,
      recordSeconds,
      collapsedMs: await timed(() => pipelines.getPipelineGraph({ pipelineRunId })),
      expandedMs: await timed(() => pipelines.getPipelineGraph({ pipelineRunId, expand: true })),
      lineageMs: await timed(() => lineage.getLineageGraph({ start: { case: "model", value: { model: "bench-model", version: 1n } }, depth: 3 })),
      recordCpu,
    };
  } finally {
    await server.stop();
  }
}

export function printPipelineGraph(_opts: BenchOptions, results: PipelineGraphResult[]): void {
  printTable(
    `pipeline DAG: ${LAYERS * WIDTH} steps in ${LAYERS} layers, recorded with RecordSteps, a layer per call`,
    ["provider", "steps", "edges", "record s", "steps/s", "graph ms (collapsed)", "graph ms (expanded)", "lineage 3 hops ms"],
    results.map((r) => [providerLabel(r.provider), r.steps, r.edges, r.recordSeconds, r.steps / r.recordSeconds, median(r.collapsedMs), median(r.expandedMs), median(r.lineageMs)]),
    results.flatMap((r) => [
      { what: `${providerLabel(r.provider)}: recording ≥ 1,000 steps/s`, met: r.steps / r.recordSeconds >= 1000 },
      { what: `${providerLabel(r.provider)}: GetPipelineGraph < 200 ms (median of ${READS}, collapsed and expanded)`, met: Math.max(median(r.collapsedMs), median(r.expandedMs)) < 200 },
      { what: `${providerLabel(r.provider)}: 3-hop GetLineageGraph < 50 ms (median of ${READS})`, met: median(r.lineageMs) < 50 },
    ]),
    ["each step is recorded started and succeeded in one RecordedStep; the model's lineage walks model → run → the step tracked as it → its pipeline run"],
  );
  printCpu(
    "pipeline DAG (recording)",
    results.map((r) => ({ phase: `${providerLabel(r.provider)}: ${r.steps} steps`, cpu: r.recordCpu })),
  );
}
