/** OpenLineage RunEvents checked and mapped to pipeline operations (no I/O). */
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/services/errors.js";
import { ioRefOf, MAX_FACETS_BYTES, operationsOf, parseRunEvent } from "../../src/services/pipelines/openlineage.js";

const PARENT = { run: { runId: "0191-parent" }, job: { namespace: "airflow", name: "etl_dag" } };

function event(over: Record<string, unknown> = {}) {
  return {
    eventType: "START",
    eventTime: "2026-11-30T01:00:00.000Z",
    run: { runId: "0191-child", facets: { parent: PARENT, nominalTime: { nominalStartTime: "2026-11-30T00:00:00Z" } } },
    job: { namespace: "airflow", name: "etl_dag.extract", facets: { jobType: { jobType: "TASK" } } },
    inputs: [{ namespace: "postgres://db:5432", name: "public.orders", facets: { schema: { fields: [] } } }],
    outputs: [{ namespace: "s3://raw", name: "orders/2026-11-30", outputFacets: { outputStatistics: { rowCount: 3 } } }],
    producer: "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
    schemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    ...over,
  };
}

/** The field an InvalidInputError names, or "ok". */
function fieldOf(body: unknown): string {
  try {
    parseRunEvent(body);
    return "ok";
  } catch (error) {
    if (error instanceof InvalidInputError) return error.field;
    throw error;
  }
}

describe("OpenLineage RunEvents", () => {
  it("makes a child run a step instance of its parent's pipeline run, facets kept", () => {
    const [op, ...rest] = operationsOf(parseRunEvent(event()));
    expect(rest).toEqual([]);
    expect(op).toMatchObject({
      kind: "step",
      pipeline: { namespace: "airflow", name: "etl_dag" },
      pipelineRunId: "0191-parent",
      step: "etl_dag.extract",
      stepRunId: "0191-child",
      at: new Date("2026-11-30T01:00:00.000Z"),
      end: undefined,
    });
    expect(op?.facets).toEqual({ parent: PARENT, nominalTime: { nominalStartTime: "2026-11-30T00:00:00Z" }, "job.jobType": { jobType: "TASK" } });
    expect(op?.kind === "step" && op.outputs[0]?.facets).toEqual({ outputFacets: { outputStatistics: { rowCount: 3 } } });
  });

  it("ends a step: COMPLETE succeeded, FAIL failed with the errorMessage facet, ABORT failed as aborted; RUNNING and OTHER end nothing", () => {
    const end = (eventType: string, facets: Record<string, unknown> = {}) => {
      const [op] = operationsOf(parseRunEvent(event({ eventType, run: { runId: "c", facets: { parent: PARENT, ...facets } } })));
      return op?.kind === "step" ? op.end : "not a step";
    };
    expect(end("COMPLETE")).toEqual({ status: "succeeded", message: "" });
    expect(end("FAIL", { errorMessage: { message: "division by zero", programmingLanguage: "python" } })).toEqual({ status: "failed", message: "division by zero" });
    expect(end("FAIL")).toEqual({ status: "failed", message: "failed (OpenLineage FAIL event)" });
    expect(end("ABORT")).toEqual({ status: "failed", message: "aborted" });
    expect(end("RUNNING")).toBeUndefined();
    expect(end("OTHER")).toBeUndefined();
  });

  it("makes a run without a parent a pipeline run, and a step of itself only when it has datasets", () => {
    const bare = { run: { runId: "p1", facets: {} }, inputs: [], outputs: [] };
    const statuses = ["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"].map((eventType) => {
      const ops = operationsOf(parseRunEvent(event({ ...bare, eventType })));
      return ops.map((o) => (o.kind === "run" ? `${o.runId}:${o.end ?? "-"}` : o.kind));
    });
    expect(statuses).toEqual([["p1:-"], ["p1:-"], ["p1:succeeded"], ["p1:failed"], ["p1:aborted"], ["p1:-"]]);
    const withData = operationsOf(parseRunEvent(event({ run: { runId: "p2" } })));
    expect(withData.map((o) => [o.kind, o.kind === "step" ? `${o.pipelineRunId}/${o.step}` : o.runId])).toEqual([
      ["run", "p2"],
      ["step", "p2/etl_dag.extract"],
    ]);
  });

  it("names a dataset version of ours by namespace traintrack and <dataset>@<version>, anything else is external", () => {
    expect(ioRefOf({ namespace: "traintrack", name: "customer_churn@1.0.1", facets: {} })).toEqual({ kind: "dataset", name: "customer_churn", version: "1.0.1" });
    expect(ioRefOf({ namespace: "traintrack", name: "no-version", facets: {} })).toMatchObject({ kind: "external", namespace: "traintrack", name: "no-version" });
    expect(ioRefOf({ namespace: "traintrack", name: "trailing@", facets: {} })).toMatchObject({ kind: "external" });
    expect(ioRefOf({ namespace: "s3://raw", name: "a@1", facets: { x: 1 } })).toEqual({ kind: "external", namespace: "s3://raw", name: "a@1", facets: { x: 1 } });
  });

  it("refuses a malformed event naming the field", () => {
    expect(fieldOf("text")).toBe("body");
    expect(fieldOf([event()])).toBe("body");
    expect(fieldOf(event({ eventType: "FINISHED" }))).toBe("eventType");
    expect(fieldOf(event({ eventType: undefined }))).toBe("ok");
    expect(fieldOf(event({ eventTime: undefined }))).toBe("eventTime");
    expect(fieldOf(event({ eventTime: "yesterday" }))).toBe("eventTime");
    expect(fieldOf(event({ eventTime: "2026-13-45T99:00:00Z" }))).toBe("eventTime");
    expect(fieldOf(event({ run: undefined }))).toBe("run");
    expect(fieldOf(event({ run: { facets: {} } }))).toBe("run.runId");
    expect(fieldOf(event({ run: { runId: 7 } }))).toBe("run.runId");
    expect(fieldOf(event({ run: { runId: "r", facets: [] } }))).toBe("run.facets");
    expect(fieldOf(event({ run: { runId: "r", facets: { parent: { run: {}, job: PARENT.job } } } }))).toBe("run.facets.parent.run.runId");
    expect(fieldOf(event({ run: { runId: "r", facets: { parent: { run: PARENT.run } } } }))).toBe("run.facets.parent.job");
    expect(fieldOf(event({ job: undefined }))).toBe("job");
    expect(fieldOf(event({ job: { namespace: "n" } }))).toBe("job.name");
    expect(fieldOf(event({ job: { namespace: "n", name: "x".repeat(257) } }))).toBe("job.name");
    expect(fieldOf(event({ job: { namespace: "n", name: "a\u0007b" } }))).toBe("job.name");
    expect(fieldOf(event({ producer: undefined }))).toBe("producer");
    expect(fieldOf(event({ inputs: {} }))).toBe("inputs");
    expect(fieldOf(event({ inputs: [{ namespace: "n" }] }))).toBe("inputs[0].name");
    expect(fieldOf(event({ outputs: [{ namespace: "n", name: "x", facets: "no" }] }))).toBe("outputs[0].facets");
    expect(fieldOf(event({ inputs: Array.from({ length: 1001 }, () => ({ namespace: "n", name: "x" })) }))).toBe("inputs");
    expect(fieldOf(event({ run: { runId: "r", facets: { custom: { text: "a\u0000b" } } } }))).toBe("run.facets.custom");
  });

  it("keeps facets within a byte budget, replacing those past it by a note", () => {
    const big = { blob: "x".repeat(MAX_FACETS_BYTES) };
    const e = parseRunEvent(event({ run: { runId: "r", facets: { small: { a: 1 }, big } } }));
    expect(e.facets.small).toEqual({ a: 1 });
    expect(JSON.stringify(e.facets.big)).toContain("dropped");
  });
});
