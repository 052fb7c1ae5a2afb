/**
 * What the runs table can show: the fixed columns (selection, name, status,
 * start, duration) and one column per param, tag or latest metric the user
 * chose ("metrics.loss", "params.lr", "tags.team": the ids kept in the URL),
 * and how each column sorts.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Run } from "@gen/traintrack/v1/experiment_pb.js";
import type { Column } from "../../components/virtual-table.js";
import { formatDuration, formatNumber, formatTime } from "../../components/format.js";
import { StatusLabel, statusName } from "../../components/run-status.js";
import { Link, path } from "../../router.js";

export type KeyKind = "metrics" | "params" | "tags";
export const KINDS: KeyKind[] = ["metrics", "params", "tags"];
const KIND_LABEL: Record<KeyKind, string> = { metrics: "metric", params: "param", tags: "tag" };

/** "metrics.val/loss" → { kind: "metrics", key: "val/loss" }. */
export function splitColumnId(id: string): { kind: KeyKind; key: string } | undefined {
  const dot = id.indexOf(".");
  const kind = id.slice(0, dot) as KeyKind;
  if (dot < 1 || !KINDS.includes(kind)) return undefined;
  return { kind, key: id.slice(dot + 1) };
}

/** Every metric, param and tag key the runs have, sorted, per kind. */
export function keysPresent(runs: readonly Run[]): Record<KeyKind, string[]> {
  const sets = { metrics: new Set<string>(), params: new Set<string>(), tags: new Set<string>() };
  for (const r of runs) {
    for (const m of r.latestMetrics) sets.metrics.add(m.key);
    for (const k in r.params) sets.params.add(k);
    for (const k in r.tags) sets.tags.add(k);
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return { metrics: sorted(sets.metrics), params: sorted(sets.params), tags: sorted(sets.tags) };
}

/** A run's latest value of a metric; undefined when it logged none. */
export function latest(run: Run, key: string): number | undefined {
  return run.latestMetrics.find((m) => m.key === key)?.value;
}

function durationMs(r: Run): number | undefined {
  if (!r.startTime) return undefined;
  return (r.endTime ? timestampMs(r.endTime) : Date.now()) - timestampMs(r.startTime);
}

type Value = number | string | undefined;

/** The value a column sorts by. */
export function sortValue(run: Run, id: string): Value {
  switch (id) {
    case "name":
      return run.name || run.runId;
    case "status":
      return statusName(run.status);
    case "started":
      return run.startTime ? timestampMs(run.startTime) : undefined;
    case "duration":
      return durationMs(run);
  }
  const col = splitColumnId(id);
  if (!col) return undefined;
  if (col.kind === "metrics") {
    const v = latest(run, col.key);
    return v === undefined || Number.isNaN(v) ? undefined : v;
  }
  const raw = (col.kind === "params" ? run.params : run.tags)[col.key];
  if (raw === undefined) return undefined;
  // Params such as "0.01" and "0.1" sort as numbers; anything else as text.
  const n = Number(raw);
  return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
}

/** Sorted copy: numbers before text, runs without a value (and NaN) last whichever the direction. */
export function sortRuns(runs: readonly Run[], id: string, desc: boolean): Run[] {
  const keyed = runs.map((run) => ({ run, v: sortValue(run, id) }));
  keyed.sort((a, b) => {
    if (a.v === undefined || b.v === undefined) return a.v === b.v ? 0 : a.v === undefined ? 1 : -1;
    let c: number;
    if (typeof a.v === "number" && typeof b.v === "number") c = a.v - b.v;
    else if (typeof a.v === "number") c = -1;
    else if (typeof b.v === "number") c = 1;
    else c = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
    return desc ? -c : c;
  });
  return keyed.map((k) => k.run);
}

export function runColumns(chosen: readonly string[], selection: { has: (id: string) => boolean; toggle: (id: string) => void }): Column<Run>[] {
  const fixed: Column<Run>[] = [
    {
      id: "select",
      header: "",
      width: 40,
      render: (r) => (
        <input type="checkbox" aria-label={`Select ${r.name || r.runId}`} checked={selection.has(r.runId)} onChange={() => selection.toggle(r.runId)} />
      ),
    },
    { id: "name", header: "Run", width: 220, sortable: true, render: (r) => <Link to={path`/runs/${r.runId}`} title={r.runId}>{r.name || r.runId}</Link> },
    { id: "status", header: "Status", width: 100, sortable: true, render: (r) => <StatusLabel status={r.status} /> },
    { id: "started", header: "Started", width: 170, sortable: true, render: (r) => formatTime(r.startTime) },
    { id: "duration", header: "Duration", width: 110, sortable: true, align: "right", render: (r) => formatDuration(durationMs(r) ?? Number.NaN) },
  ];
  const picked = chosen.flatMap((id): Column<Run>[] => {
    const col = splitColumnId(id);
    if (!col) return [];
    const { kind, key } = col;
    const header = (
      <>
        <span className="col-kind">{KIND_LABEL[kind]}</span>
        {key}
      </>
    );
    const title = `${kind}.${key}`;
    if (kind === "metrics") {
      return [{ id, header, title, width: 130, sortable: true, align: "right", render: (r) => fmtMetric(latest(r, key)) }];
    }
    return [{ id, header, title, width: 140, sortable: true, render: (r) => <span title={(kind === "params" ? r.params : r.tags)[key]}>{(kind === "params" ? r.params : r.tags)[key] ?? ""}</span> }];
  });
  return [...fixed, ...picked];
}

function fmtMetric(v: number | undefined): string {
  return v === undefined ? "" : formatNumber(v);
}
