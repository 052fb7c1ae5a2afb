/**
 * One worker of a pipeline run, in its own process with its own client, as
 * an orchestrator's task runner would be: it starts the step "shared" (which
 * every worker starts too), then records its share of the fan-out "work"
 * (instances `from` to `to` - 1, each reading "raw" and writing its own part),
 * and prints one JSON line: the ids it got for "shared", for the instances of
 * "contended" (which every worker starts too), and for its instances of "work".
 *
 * Usage: node --import tsx test/support/pipeline-step-worker.ts <base url> <api key> <protocol> <pipeline run id> <from> <to>
 */
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";

const [baseUrl = "", apiKey = "", protocol = "grpc", pipelineRunId = "", fromText = "0", toText = "0"] = process.argv.slice(2);
const authorised: Interceptor = (next) => (req) => {
  req.header.set("authorization", `Bearer ${apiKey}`);
  return next(req);
};
const transport =
  protocol === "connect"
    ? createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [authorised] })
    : protocol === "grpc-web"
      ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors: [authorised] })
      : createGrpcTransport({ baseUrl, interceptors: [authorised] });
const pipelines = createClient(PipelineService, transport);
const external = (name: string) => ({ ref: { case: "external" as const, value: { namespace: "s3://workers", name, facets: "" } } });

async function main(): Promise<void> {
  const shared = await pipelines.startStep({ pipelineRunId, name: "shared", upstream: ["extract"] });
  await pipelines.finishStep({ pipelineRunId, name: "shared", status: StepStatus.SUCCEEDED });
  // Every worker also starts every instance of "contended", all at once: the same instances race from every process.
  const contended = await Promise.all(Array.from({ length: 10 }, (_, instance) => pipelines.startStep({ pipelineRunId, name: "contended", instance, upstream: ["shared"] })));
  const ids: string[] = [];
  // A few instances in flight at once, as a task runner with several slots.
  const instances = Array.from({ length: Number(toText) - Number(fromText) }, (_, i) => Number(fromText) + i);
  for (let at = 0; at < instances.length; at += 4) {
    await Promise.all(
      instances.slice(at, at + 4).map(async (instance) => {
        const started = await pipelines.startStep({ pipelineRunId, name: "work", instance, upstream: ["shared"], inputs: [external("raw")] });
        const id = started.step?.id ?? "";
        await pipelines.recordStepIO({ stepId: id, outputs: [external(`part-${instance}`)] });
        await pipelines.finishStep({ stepId: id, status: StepStatus.SUCCEEDED });
        ids.push(id);
      }),
    );
  }
  process.stdout.write(`${JSON.stringify({ shared: shared.step?.id ?? "", contended: contended.map((c) => c.step?.id ?? ""), ids })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
