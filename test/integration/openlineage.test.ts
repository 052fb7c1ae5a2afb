/**
 * OpenLineage intake at POST /api/v1/lineage over raw HTTP, as producers send
 * it, on both backends: a three-step pipeline under a parent run gives the
 * same DAG whether its events arrive in order, reversed, or shuffled and
 * twice; datasets become external datasets by namespace and name (or ours);
 * facets are kept; bad input and bad keys are refused; writes are audited.
 * (The real producer, openlineage-python, is in sdk/python/tests/test_openlineage.py.)
 */
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyScope } from "../../gen/traintrack/v1/api_key_pb.js";
import { AuditService } from "../../gen/traintrack/v1/audit_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { PipelineRunStatus, PipelineService, type StepIO, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { createKey } from "../support/scim.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

const PRODUCER = "https://github.com/traintrack/tests";
const SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
const T0 = Date.parse("2026-11-30T01:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

type Dataset = { namespace: string; name: string; facets?: Record<string, unknown> };

/** The events of one run of `dag`: the parent run, and extract → transform → load under it, each START then COMPLETE. */
function pipelineEvents(dag: string, fail = false) {
  const parent = { runId: randomUUID(), job: { namespace: "airflow", name: dag } };
  const parentFacet = { parent: { run: { runId: parent.runId }, job: parent.job } };
  const child = (name: string, start: number, inputs: Dataset[], outputs: Dataset[], end: "COMPLETE" | "FAIL" = "COMPLETE") => {
    const runId = randomUUID();
    const base = (eventType: string, minute: number, facets: Record<string, unknown> = {}) => ({
      eventType,
      eventTime: at(minute),
      run: { runId, facets: { ...parentFacet, ...facets } },
      job: { namespace: "airflow", name, facets: { jobType: { processingType: "BATCH", integration: "AIRFLOW", jobType: "TASK" } } },
      inputs,
      outputs: eventType === "START" ? [] : outputs,
      producer: PRODUCER,
      schemaURL: SCHEMA,
    });
    return [base("START", start), base(end, start + 1, end === "FAIL" ? { errorMessage: { message: "disk full", programmingLanguage: "python" } } : {})];
  };
  const orders = { namespace: "postgres://db:5432", name: "shop.public.orders", facets: { schema: { fields: [{ name: "id", type: "int" }] } } };
  const raw = { namespace: "s3://raw", name: `orders/${dag}` };
  const clean = { namespace: "s3://clean", name: `orders/${dag}` };
  const table = { namespace: "snowflake://acme", name: "analytics.orders" };
  const pipelineEvent = (eventType: string, minute: number) => ({
    eventType,
    eventTime: at(minute),
    run: { runId: parent.runId, facets: { nominalTime: { nominalStartTime: at(0) } } },
    job: { ...parent.job, facets: { documentation: { description: "nightly orders" } } },
    inputs: [],
    outputs: [],
    producer: PRODUCER,
    schemaURL: SCHEMA,
  });
  return [
    pipelineEvent("START", 0),
    ...child("extract", 1, [orders], [raw]),
    ...child("transform", 3, [raw], [clean]),
    ...child("load", 5, [clean], [table], fail ? "FAIL" : "COMPLETE"),
    pipelineEvent(fail ? "FAIL" : "COMPLETE", 7),
  ];
}

/** A fixed shuffle (the same every run): a linear congruential generator. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const io = (x: StepIO) => (x.ref.case === "external" ? `${x.ref.value.namespace} ${x.ref.value.name}` : x.ref.case === "dataset" ? `dataset ${x.ref.value.name}@${x.ref.value.version}` : String(x.ref.case));
const iso = (t: { seconds: bigint; nanos: number } | undefined) => (t ? new Date(Number(t.seconds) * 1000 + t.nanos / 1e6).toISOString() : "");

describe.each(backends())("OpenLineage intake on $name", (backend) => {
  let server: TestServer;
  let n = 0;
  const pipelines = () => server.client(PipelineService);

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  async function post(body: unknown, init: { key?: string | null; raw?: string | Uint8Array; headers?: Record<string, string>; method?: string } = {}) {
    const headers: Record<string, string> = { "content-type": "application/json", ...init.headers };
    const key = init.key === undefined ? server.apiKey : init.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    const res = await fetch(`${server.baseUrl}/api/v1/lineage`, { method: init.method ?? "POST", headers, body: init.raw ?? (init.method === "GET" ? undefined : JSON.stringify(body)) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function sendAll(events: unknown[]) {
    for (const e of events) expect((await post(e)).status, JSON.stringify(e)).toBe(201);
  }

  /** The one run of pipeline `dag`, as GetPipelineRun shows it (ids left out). */
  async function dagOf(dag: string) {
    const { runs } = await pipelines().listPipelineRuns({ pipeline: dag });
    expect(runs).toHaveLength(1);
    const got = await pipelines().getPipelineRun({ pipelineRunId: runs[0]?.id ?? "", expandInstances: true });
    return {
      id: runs[0]?.id ?? "",
      run: { status: PipelineRunStatus[got.run?.status ?? 0], start: iso(got.run?.startTime), end: iso(got.run?.endTime), steps: got.run?.stepCounts },
      steps: got.steps.map((s) => ({
        name: s.name,
        status: StepStatus[s.status],
        start: iso(s.startTime),
        end: iso(s.endTime),
        instances: s.instances.map((i) => i.message),
        inputs: s.inputs.map(io),
        outputs: s.outputs.map(io),
      })),
      edges: got.edges.map((e) => `${e.from} -> ${e.to}${e.fromData ? " (data)" : ""}`).sort(),
    };
  }

  describe.skipIf(!backend.available)("", () => {
    it("gives one DAG whether the events come in order, reversed, shuffled and twice, or all at once", async () => {
      const names = [`etl-${++n}`, `etl-${++n}`, `etl-${++n}`, `etl-${++n}`];
      await sendAll(pipelineEvents(names[0] as string));
      await sendAll(pipelineEvents(names[1] as string).reverse());
      const events = pipelineEvents(names[2] as string);
      await sendAll(shuffled([...events, ...events], 7));
      // As from many workers at once: every event twice, concurrently.
      const concurrent = pipelineEvents(names[3] as string);
      const answers = await Promise.all([...concurrent, ...concurrent].map((e) => post(e)));
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));

      const [inOrder, reversed, twice, atOnce] = await Promise.all(names.map(dagOf));
      const expected = {
        run: { status: "SUCCEEDED", start: at(0), end: at(7), steps: { succeeded: 3 } },
        steps: [
          { name: "extract", status: "SUCCEEDED", start: at(1), end: at(2), instances: [""], inputs: ["postgres://db:5432 shop.public.orders"], outputs: [`s3://raw orders/${names[0]}`] },
          { name: "transform", status: "SUCCEEDED", start: at(3), end: at(4), instances: [""], inputs: [`s3://raw orders/${names[0]}`], outputs: [`s3://clean orders/${names[0]}`] },
          { name: "load", status: "SUCCEEDED", start: at(5), end: at(6), instances: [""], inputs: [`s3://clean orders/${names[0]}`], outputs: ["snowflake://acme analytics.orders"] },
        ],
        edges: ["extract -> transform (data)", "transform -> load (data)"],
      };
      expect(inOrder).toMatchObject(expected);
      const renamed = (d: typeof reversed, from: string) => JSON.parse(JSON.stringify({ ...d, id: "" }).replaceAll(from, names[0] as string));
      expect(renamed(reversed, names[1] as string)).toEqual({ ...inOrder, id: "" });
      expect(renamed(twice, names[2] as string)).toEqual({ ...inOrder, id: "" });
      expect(renamed(atOnce, names[3] as string)).toEqual({ ...inOrder, id: "" });
      expect((await pipelines().getPipeline({ name: names[0] as string })).pipeline?.namespace).toBe("airflow");
    });

    it("keeps the facets of runs, jobs and datasets", async () => {
      const dag = `facets-${++n}`;
      const events = pipelineEvents(dag);
      await sendAll(events);
      const { id } = await dagOf(dag);
      const db = server.app.db;
      const run = await db.selectFrom("pipelineRuns").select("facets").where("id", "=", id).executeTakeFirstOrThrow();
      expect(run.facets).toMatchObject({ nominalTime: { nominalStartTime: at(0) }, "job.documentation": { description: "nightly orders" } });
      const extract = await db.selectFrom("pipelineSteps").select("facets").where("pipelineRunId", "=", id).where("name", "=", "extract").executeTakeFirstOrThrow();
      expect(extract.facets).toMatchObject({ parent: { job: { namespace: "airflow", name: dag } }, "job.jobType": { jobType: "TASK" } });
      const orders = await db.selectFrom("externalDatasets").select("facets").where("namespace", "=", "postgres://db:5432").where("name", "=", "shop.public.orders").executeTakeFirstOrThrow();
      expect(orders.facets).toMatchObject({ schema: { fields: [{ name: "id", type: "int" }] } });
      // And GetPipelineRun returns them: the run's, and each instance's when expanded.
      const got = await pipelines().getPipelineRun({ pipelineRunId: id, expandInstances: true });
      expect(got.run?.facets).toMatchObject({ nominalTime: { nominalStartTime: at(0) }, "job.documentation": { description: "nightly orders" } });
      expect(got.steps.find((s) => s.name === "extract")?.instances[0]?.facets).toMatchObject({ parent: { job: { namespace: "airflow", name: dag } } });
    });

    it("records a failure with its error message, and a dataset version of ours named traintrack/<dataset>@<version>", async () => {
      const dag = `fail-${++n}`;
      await server.client(DatasetService).createDataset({ name: `orders-${n}`, version: "1" });
      const events = pipelineEvents(dag, true).map((e) =>
        e.job.name === "extract" ? { ...e, inputs: [{ namespace: "traintrack", name: `orders-${n}@1` }, { namespace: "traintrack", name: "missing@9" }] } : e,
      );
      await sendAll(events);
      const got = await dagOf(dag);
      expect(got.run.status).toBe("FAILED");
      expect(got.steps.find((s) => s.name === "load")).toMatchObject({ status: "FAILED", instances: ["disk full"] });
      expect(got.steps.find((s) => s.name === "extract")?.inputs).toEqual([`dataset orders-${n}@1`, "traintrack missing@9"]);
    });

    it("makes a step run twice under one parent run one step with two instances", async () => {
      const dag = `retry-${++n}`;
      const events = pipelineEvents(dag, true);
      const load = events.filter((e) => e.job.name === "load");
      const again = load.map((e) => ({ ...e, eventType: e.eventType === "FAIL" ? "COMPLETE" : e.eventType, eventTime: at(e.eventType === "START" ? 8 : 9), run: { ...e.run, runId: "second-attempt" } }));
      await sendAll([...events, ...again, ...again]);
      const got = await dagOf(dag);
      expect(got.steps.find((s) => s.name === "load")).toMatchObject({ status: "FAILED", start: at(5), end: at(9), instances: ["disk full", ""] });
    });

    it("creates the pipeline run when a step's event comes first, and takes gzip bodies", async () => {
      const dag = `early-${++n}`;
      const [, start] = pipelineEvents(dag);
      expect((await post(undefined, { raw: gzipSync(JSON.stringify(start)), headers: { "content-encoding": "gzip" } })).status).toBe(201);
      const got = await dagOf(dag);
      expect(got.run).toMatchObject({ status: "RUNNING", start: at(1) });
      expect(got.steps.map((s) => [s.name, s.status])).toEqual([["extract", "RUNNING"]]);
    });

    it("refuses bad input, bad keys and too little access, and audits what it records", async () => {
      const [event] = pipelineEvents(`bad-${++n}`);
      const ok = event as Record<string, unknown>;
      expect(await post(undefined, { raw: "{not json" })).toMatchObject({ status: 400 });
      expect(await post({ ...ok, run: { facets: {} } })).toMatchObject({ status: 400, body: { field: "run.runId" } });
      expect((await post({ ...ok, eventTime: "soon" })).body.message).toContain("eventTime");
      expect(await post({ ...ok, eventType: "FINISHED" })).toMatchObject({ status: 400, body: { field: "eventType" } });
      expect(await post({ ...ok, job: { namespace: "airflow" } })).toMatchObject({ status: 400, body: { field: "job.name" } });
      expect((await post(undefined, { raw: JSON.stringify({ ...ok, pad: "x".repeat(1024 * 1024) }) })).status).toBe(413);
      expect((await post(ok, { key: null })).status).toBe(401);
      expect((await post(ok, { key: "tt_not_a_key" })).status).toBe(401);
      expect((await post(ok, { key: await createKey(server, ApiKeyScope.READ_ONLY) })).status).toBe(403);
      expect((await post(ok, { key: await createKey(server, ApiKeyScope.SCIM) })).status).toBe(403);
      expect((await post(undefined, { method: "GET" })).status).toBe(405);
      expect((await pipelines().listPipelines({ pageSize: 100 })).pipelines.map((p) => p.name)).not.toContain(`bad-${n}`);

      expect((await post(ok)).status).toBe(201);
      const { events } = await server.client(AuditService).listAuditEvents({ pageSize: 100 });
      const ours = events.filter((e) => e.method === "OpenLineage POST /api/v1/lineage");
      expect(ours.some((e) => e.outcome === "ok" && e.resource.startsWith("pipeline-run/plr"))).toBe(true);
      expect(ours.some((e) => e.outcome === "invalid_argument")).toBe(true);
      expect(ours.some((e) => e.outcome === "permission_denied")).toBe(true);
    });
  });
});
