/** The runs table's filter text read into SearchRuns conditions (ui/src/pages/runs/run-filter.ts). */
import { describe, expect, it } from "vitest";
import { parseRunFilter } from "../../ui/src/pages/runs/run-filter.js";

const conditions = (text: string) => {
  const parsed = parseRunFilter(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.conditions;
};
const error = (text: string) => {
  const parsed = parseRunFilter(text);
  return parsed.ok ? undefined : parsed.error;
};

describe("the runs filter", () => {
  it("reads nothing from an empty box", () => {
    expect(conditions("  ")).toEqual({ statuses: [], tags: {}, params: {}, metrics: [] });
  });

  it("reads metric thresholds, params, tags and statuses joined by and", () => {
    expect(conditions("metrics.val/loss <= 0.25 AND params.lr = 0.01 and tags.team = vision and status in (finished, FAILED)")).toEqual({
      statuses: ["finished", "failed"],
      tags: { team: "vision" },
      params: { lr: "0.01" },
      metrics: [{ key: "val/loss", op: "<=", value: 0.25 }],
    });
    expect(conditions("metrics.acc>=.9 and status = running").metrics).toEqual([{ key: "acc", op: ">=", value: 0.9 }]);
  });

  it("keeps quoted values whole, spaces and 'and' included", () => {
    expect(conditions('tags.note = "cats and dogs" and params.model name = \'res net\'')).toMatchObject({
      tags: { note: "cats and dogs" },
      params: { "model name": "res net" },
    });
  });

  it("says what it cannot read", () => {
    expect(error("loss < 1")).toMatch(/metrics\.KEY, params\.KEY, tags\.KEY or status/);
    expect(error("metrics.loss = 1")).toMatch(/metrics compare with <, <=, > or >=/);
    expect(error("metrics.loss < low")).toMatch(/"low" is not a number/);
    expect(error("params.lr > 1")).toMatch(/params match with =/);
    expect(error("status = done")).toMatch(/a status is one of running, finished, failed, killed/);
    expect(error('tags.note = "open')).toMatch(/quote is not closed/);
    expect(error("metrics.loss < 1 and")).toBeDefined();
  });
});
