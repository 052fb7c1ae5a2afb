import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { GetLineageRequestSchema } from "../../gen/traintrack/v1/dataset_pb.js";
import { GetMetricHistoryRequestSchema, SearchRunsRequestSchema } from "../../gen/traintrack/v1/experiment_pb.js";
import { InvalidInputError, LimitExceededError } from "../../src/services/errors.js";
import { countWithinBytes } from "../../src/services/read-limits.js";
import { lineageBounds } from "../../src/wire/validate/datasets.js";
import { searchRuns } from "../../src/wire/validate/experiments.js";
import { history } from "../../src/wire/validate/metrics.js";

const runIds = (n: number) => Array.from({ length: n }, (_, i) => `run_${i}`);

describe("GetMetricHistory's points per response", () => {
  it("allows run ids × max_points up to 1,000,000", () => {
    expect(history(create(GetMetricHistoryRequestSchema, { key: "loss", runIds: runIds(100), maxPoints: 10_000 })).maxPoints).toBe(10_000);
    expect(history(create(GetMetricHistoryRequestSchema, { key: "loss", runIds: runIds(10), maxPoints: 100_000 })).runIds).toHaveLength(10);
  });
  it("refuses one point more as a server limit, saying how many max_points fit", () => {
    const over = () => history(create(GetMetricHistoryRequestSchema, { key: "loss", runIds: runIds(100), maxPoints: 10_001 }));
    expect(over).toThrow(LimitExceededError);
    expect(over).toThrow(/at most 10000 max_points with these runs/);
  });
});

describe("SearchRuns' experiment names", () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `e${i}`);
  it("takes 10,000 and folds repeats", () => {
    expect(searchRuns(create(SearchRunsRequestSchema, { project: "p", experiments: names(10_000) })).experiments).toHaveLength(10_000);
    expect(searchRuns(create(SearchRunsRequestSchema, { project: "p", experiments: ["a", "a"], statuses: [1, 1, 1] }))).toMatchObject({
      experiments: ["a"],
      statuses: ["running"],
    });
  });
  it("refuses 10,001", () => {
    expect(() => searchRuns(create(SearchRunsRequestSchema, { project: "p", experiments: names(10_001) }))).toThrow(InvalidInputError);
  });
});

describe("GetLineage's bounds", () => {
  it("defaults max_nodes to 1,000 and refuses more than 10,000", () => {
    expect(lineageBounds(create(GetLineageRequestSchema, {}))).toEqual({ depth: 0, maxNodes: 1000 });
    expect(lineageBounds(create(GetLineageRequestSchema, { maxNodes: 10_000, depth: 100 }))).toEqual({ depth: 100, maxNodes: 10_000 });
    expect(() => lineageBounds(create(GetLineageRequestSchema, { maxNodes: 10_001 }))).toThrow(/max_nodes/);
    expect(() => lineageBounds(create(GetLineageRequestSchema, { maxNodes: -1 }))).toThrow(/max_nodes/);
    expect(() => lineageBounds(create(GetLineageRequestSchema, { depth: 101 }))).toThrow(/depth/);
  });
});

describe("pages cut by bytes", () => {
  it("keeps items while they fit, and always the first", () => {
    expect(countWithinBytes([3, 3, 3], (n) => n, 7)).toBe(2);
    expect(countWithinBytes([3, 3, 3], (n) => n, 9)).toBe(3);
    expect(countWithinBytes([50, 1], (n) => n, 10)).toBe(1);
    expect(countWithinBytes([], (n: number) => n, 10)).toBe(0);
  });
});
