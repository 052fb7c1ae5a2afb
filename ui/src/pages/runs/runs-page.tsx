/**
 * The runs of one experiment in a virtualised table: thousands of runs, the
 * columns the user picks, sorting, the SearchRuns filter, and a selection to
 * compare. Everything that shapes the view lives in the URL, so a view can be
 * shared: ?filter=…&cols=metrics.loss,params.lr&sort=-metrics.loss&sel=run_a,run_b
 */
import { useMemo } from "react";
import { ErrorBox, Pending } from "../../components/feedback.js";
import { type Sort, VirtualTable } from "../../components/virtual-table.js";
import { Link, navigate, path, setQuery, useLocation } from "../../router.js";
import { ColumnPicker } from "./column-picker.js";
import { EmptyRuns } from "./empty-runs.js";
import { FilterBox } from "./filter-box.js";
import { keysPresent, runColumns, sortRuns } from "./run-columns.js";
import { parseRunFilter } from "./run-filter.js";
import { MAX_LOADED_RUNS, useExperimentRuns } from "./use-experiment-runs.js";
import "./runs.css";

function list(value: string | null): string[] {
  return value ? value.split(",").filter(Boolean) : [];
}

function readSort(value: string | null): Sort | undefined {
  if (!value) return undefined;
  return value.startsWith("-") ? { column: value.slice(1), desc: true } : { column: value, desc: false };
}

export function RunsPage({ project, experiment }: { project: string; experiment: string }) {
  const { query } = useLocation();
  const filterText = query.get("filter") ?? "";
  const chosen = useMemo(() => list(query.get("cols")), [query]);
  const sort = readSort(query.get("sort"));
  const selectedIds = useMemo(() => list(query.get("sel")), [query]);

  const parsed = useMemo(() => parseRunFilter(filterText), [filterText]);
  const { runs, complete, truncated, error, isPending } = useExperimentRuns(project, experiment, parsed.ok ? parsed.conditions : undefined);
  const keys = useMemo(() => keysPresent(runs), [runs]);
  const sorted = useMemo(() => (sort ? sortRuns(runs, sort.column, sort.desc) : runs), [runs, sort?.column, sort?.desc]);

  const selection = useMemo(() => {
    const set = new Set(selectedIds);
    return {
      has: (id: string) => set.has(id),
      toggle: (id: string) => setQuery({ sel: (set.has(id) ? selectedIds.filter((s) => s !== id) : [...selectedIds, id]).join(",") }),
    };
  }, [selectedIds]);
  const columns = useMemo(() => runColumns(chosen, selection), [chosen, selection]);

  return (
    <section className="runs-page">
      <div className="crumbs">
        <Link to="/projects">Projects</Link> / <Link to={path`/projects/${project}`}>{project}</Link> /
      </div>
      <div className="page-head">
        <h1>{experiment}</h1>
        {isPending || (error && runs.length === 0) ? null : (
          <span className="muted" data-testid="run-count">
            {runs.length.toLocaleString()} runs{truncated ? ` (the newest ${MAX_LOADED_RUNS.toLocaleString()}: filter to see others)` : complete || error ? "" : ", loading more…"}
          </span>
        )}
        <span className="spacer" />
        <ColumnPicker keys={keys} chosen={chosen} onChange={(next) => setQuery({ cols: next.join(",") })} />
        <span className="muted">{selectedIds.length ? `${selectedIds.length} selected` : "Tick runs to compare them"}</span>
        {selectedIds.length ? (
          <button type="button" className="link-button" onClick={() => setQuery({ sel: undefined })}>
            Clear
          </button>
        ) : null}
        <button
          type="button"
          className="primary"
          disabled={selectedIds.length < 2}
          title={selectedIds.length < 2 ? "Select two runs or more" : undefined}
          onClick={() => navigate(`/compare?runs=${selectedIds.map(encodeURIComponent).join(",")}`)}
        >
          Compare
        </button>
      </div>
      <FilterBox value={filterText} parseError={parsed.ok ? undefined : parsed.error} onApply={(text) => setQuery({ filter: text })} />
      {error ? <ErrorBox error={error} what="search the runs" /> : null}
      {isPending ? (
        <Pending rows={8} />
      ) : runs.length === 0 && complete ? (
        <EmptyRuns project={project} experiment={experiment} filtered={filterText !== ""} />
      ) : runs.length > 0 ? (
        <>
          {sort && !complete ? <p className="muted">Sorted over the runs loaded so far; the rest are on their way.</p> : null}
          <VirtualTable
            label={`Runs of ${experiment}`}
            rows={sorted}
            columns={columns}
            rowKey={(r) => r.runId}
            sort={sort}
            onSort={(next) => setQuery({ sort: next ? `${next.desc ? "-" : ""}${next.column}` : undefined })}
            rowClassName={(r) => (selection.has(r.runId) ? "selected" : undefined)}
            height="calc(100vh - 230px)"
          />
        </>
      ) : null}
    </section>
  );
}
