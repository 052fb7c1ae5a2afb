"""``traintrack pipelines …``: list pipelines and their runs, and draw a run's DAG in the terminal.

Record pipelines with the Python SDK (``client.pipelines``, ``@tt.step``) or OpenLineage events.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .. import Pipeline, PipelineRunInfo
from ._context import Context
from ._dag import draw
from ._errors import UsageError
from ._format import Result, rows_result
from ._parser import Subcommands, command, group
from .browse import _first


def register(commands: Subcommands) -> None:
    pipelines = group(commands, "pipelines", "pipelines, their runs and DAGs (record them with the Python SDK or OpenLineage)")
    ls = command(pipelines, "ls", "list pipelines by name", list_pipelines, aliases=("list",))
    ls.add_argument("--project", default="", help="only this project's pipelines")
    ls.add_argument("--limit", type=int, default=0, help="at most this many (default: all)")
    runs = command(pipelines, "runs", "list a pipeline's runs, newest first", list_runs)
    runs.add_argument("name", metavar="NAME")
    runs.add_argument("--limit", type=int, default=20, help="at most this many (default 20; 0: all)")
    show_ = command(pipelines, "show", "draw a run's DAG (default: the latest run): steps by layer, status, timing, upstream", show_run)
    show_.add_argument("name", metavar="NAME")
    show_.add_argument("--run", dest="run_id", metavar="RUN_ID", help="this run of the pipeline (see 'traintrack pipelines runs NAME')")
    show_.add_argument("--expand", action="store_true", help="one node per instance of fan-out steps")


def pipeline_document(p: Pipeline) -> Dict[str, Any]:
    return {"name": p.name, "project": p.project, "description": p.description, "namespace": p.namespace, "created_at": p.created_at}


def list_pipelines(ctx: Context) -> Result:
    a = ctx.args
    found: List[Pipeline] = _first(ctx.client.pipelines.list(a.project or None), a.limit)
    result = rows_result(
        found,
        ("NAME", "PROJECT", "NAMESPACE", "CREATED", "DESCRIPTION"),
        lambda p: (p.name, p.project, p.namespace, p.created_at, p.description.split("\n", 1)[0]),
    )
    result.data = [pipeline_document(p) for p in found]
    return result


def list_runs(ctx: Context) -> Result:
    a = ctx.args
    found: List[PipelineRunInfo] = _first(ctx.client.pipelines.runs(a.name), a.limit)

    def row(r: PipelineRunInfo) -> Any:
        steps = ", ".join(f"{n} {status}" for status, n in sorted(r.step_counts.items()) if n)
        return (r.id, r.status, r.start_time, r.end_time, r.trigger, steps)

    return rows_result(found, ("ID", "STATUS", "STARTED", "ENDED", "TRIGGER", "STEPS"), row)


def show_run(ctx: Context) -> Result:
    a = ctx.args
    pipelines = ctx.client.pipelines
    run_id = a.run_id
    if not run_id:
        latest = next(pipelines.runs(a.name, page_size=1), None)
        if latest is None:
            pipelines.get(a.name)  # NotFound (exit 5) when there is no such pipeline
            raise UsageError(f"pipeline {a.name!r} has no runs yet")
        run_id = latest.id
    dag = pipelines.get_run(run_id, expand_instances=True)
    if dag.run.pipeline != a.name:
        raise UsageError(f"run {run_id} is a run of pipeline {dag.run.pipeline!r}, not {a.name!r}")
    graph = pipelines.graph(run_id, expand=a.expand)
    document = {"run": dag.run, "steps": dag.steps, "edges": dag.edges, "graph": graph}
    return Result(document, draw(graph, dag))
