"""A pipeline run's DAG drawn for a terminal: its steps by layer, each with a status mark, timing and where it comes from.

Plain ASCII, so that it survives any terminal, log file and copy-paste::

    nightly-churn  run pr_1  failed  2026-11-29 01:00:00Z -> 2026-11-29 01:05:12Z  trigger: manual
    params: date=2026-11-29

    layer 0
      [+] extract    succeeded   12.3s
    layer 1
      [+] features   succeeded    3.0s  <- extract
      [=] score x10  cached             <- extract  (10 cached)
    layer 2
      [x] train      failed       1.0s  <- features, score~
          ! ValueError: boom

``<- a~`` marks an edge that comes from the data (``a`` wrote what this step read), not a declared upstream.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Union

from .._pipeline_models import PipelineDAG, PipelineGraph, PipelineGraphNode, StepInfo, StepInstance
from ._format import show

MARKS: Dict[str, str] = {
    "succeeded": "[+]",
    "failed": "[x]",
    "running": "[>]",
    "pending": "[ ]",
    "skipped": "[-]",
    "cached": "[=]",
}
LEGEND = "  ".join(f"{mark} {status}" for status, mark in MARKS.items())


def duration(span: Union[StepInfo, StepInstance, None]) -> str:
    """``"12.3s"``, ``"4m05s"``, ``"2h03m"``; empty when it has not both started and ended."""
    if span is None or span.start_time is None or span.end_time is None:
        return ""
    seconds = max((span.end_time - span.start_time).total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def _instance(node: PipelineGraphNode, step: Optional[StepInfo]) -> Optional[StepInstance]:
    """The instance an expanded node (``"name[3]"``) stands for, when the run was read with its instances."""
    number = node.id[len(node.step) :].strip("[]")
    if step is None or not number.isdigit():
        return None
    return next((i for i in step.instances if i.instance == int(number)), None)


def _label(node: PipelineGraphNode) -> str:
    return f"{node.id} x{node.instance_count}" if node.instance_count > 1 else node.id


def _counts(step: Optional[StepInfo]) -> str:
    if step is None or step.instance_count <= 1:
        return ""
    return "(" + ", ".join(f"{n} {status}" for status, n in sorted(step.instances_by_status.items(), key=lambda kv: -kv[1]) if n) + ")"


def header(dag: PipelineDAG) -> List[str]:
    r = dag.run
    times = show(r.start_time) + (f" -> {show(r.end_time)}" if r.end_time else "")
    lines = [f"{r.pipeline}  run {r.id}  {r.status}  {times}" + (f"  trigger: {r.trigger}" if r.trigger else "")]
    if r.params:
        lines.append("params: " + ", ".join(f"{k}={v}" for k, v in sorted(r.params.items())))
    return lines


def draw(graph: PipelineGraph, dag: Optional[PipelineDAG] = None) -> str:
    """The DAG by layer (the graph's nodes carry their layer), with the run's header when ``dag`` is given."""
    steps = {s.name: s for s in dag.steps} if dag is not None else {}
    upstream: Dict[str, List[str]] = {}
    for e in graph.edges:
        upstream.setdefault(e.to_step, []).append(e.from_step + ("~" if e.from_data else ""))
    labels = {n.id: _label(n) for n in graph.nodes}
    width = max((len(label) for label in labels.values()), default=0)
    status_width = max((len(n.status) for n in graph.nodes), default=0)
    lines = header(dag) + [""] if dag is not None else []
    if not graph.nodes:
        return "\n".join(lines + ["(no steps yet)"])
    for layer, nodes in enumerate(graph.layers()):
        lines.append(f"layer {layer}")
        for n in nodes:
            step = steps.get(n.step)
            instance = _instance(n, step) if graph.expanded else None
            after = upstream.get(n.id, [])
            cells = [
                f"  {MARKS.get(n.status, '[?]')} {labels[n.id].ljust(width)}",
                n.status.ljust(status_width),
                duration(instance if graph.expanded else step).rjust(7),
                f"<- {', '.join(after)}" if after else "",
                _counts(step) if not graph.expanded else "",
            ]
            lines.append("  ".join(cells).rstrip())
            failed = [instance] if instance is not None else (step.instances if step and not graph.expanded else ())
            failures = {i.message for i in failed if i.status == "failed" and i.message}
            lines.extend(f"{' ' * 6}! {message.splitlines()[0]}" for message in sorted(failures)[:3])
    lines += ["", LEGEND]
    return "\n".join(lines)
