"""``traintrack datasets ls`` and ``traintrack runs ls``: the everyday look at what is there."""

from __future__ import annotations

import itertools
from typing import Any, Iterator, List, TypeVar

from .. import DatasetSummary, RunInfo
from ._context import Context
from ._errors import UsageError
from ._format import Result, rows_result
from ._parser import Subcommands, command, group

T = TypeVar("T")


def register(commands: Subcommands) -> None:
    datasets = group(commands, "datasets", "datasets (read with the Python SDK: client.datasets)")
    ls = command(datasets, "ls", "list datasets by name, with their latest version", list_datasets, aliases=("list",))
    ls.add_argument("--prefix", default="", help="only names starting with this")
    ls.add_argument("--limit", type=int, default=0, help="at most this many (default: all)")
    runs = group(commands, "runs", "runs of experiments (read with the Python SDK: client.runs)")
    runs_ls = command(runs, "ls", "list the runs of a project, newest first", list_runs, aliases=("list",))
    runs_ls.add_argument("--project", required=True)
    runs_ls.add_argument("--experiment", default="", help="only this experiment's runs")
    runs_ls.add_argument("--group", default="", help="only this run group's runs")
    runs_ls.add_argument("--limit", type=int, default=50, help="at most this many (default 50; 0: all)")


def _first(items: Iterator[T], limit: int) -> List[T]:
    if limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    return list(itertools.islice(items, limit) if limit else items)


def list_datasets(ctx: Context) -> Result:
    found: List[DatasetSummary] = _first(ctx.client.datasets.list(ctx.args.prefix), ctx.args.limit)
    return rows_result(
        found,
        ("NAME", "LATEST", "VERSIONS", "UPDATED", "DESCRIPTION"),
        lambda d: (d.name, d.latest_version, d.version_count, d.updated_at, d.description),
    )


def list_runs(ctx: Context) -> Result:
    a = ctx.args
    found: List[RunInfo] = _first(ctx.client.runs.list(a.project, a.experiment, group=a.group), a.limit)

    def row(r: RunInfo) -> Any:
        return (r.run_id, r.experiment, r.name, r.status, r.start_time, r.end_time, r.group)

    return rows_result(found, ("ID", "EXPERIMENT", "NAME", "STATUS", "STARTED", "ENDED", "GROUP"), row)
