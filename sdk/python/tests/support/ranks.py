"""A rank of a distributed job, run in its own (spawned) process by test_runs."""

from __future__ import annotations

import multiprocessing


def log_as_rank(url: str, api_key: str, project: str, group: str, rank: int, steps: int, results: "multiprocessing.Queue[str]") -> None:
    """Logs ``steps`` points of "loss" (value rank * 1e6 + step) into the group's shared run; puts the run id."""
    import traintrack as tt

    with tt.Client(url=url, api_key=api_key, progress=False) as client:
        with client.start_run(
            project=project, experiment="ddp", group=group, rank=rank, shared=True, params={"world_size": 8},
            logger=tt.LoggerOptions(batch_size=250, batch_interval=0.05),
        ) as run:
            for step in range(steps):
                run.log({"loss": rank * 1_000_000 + step}, step=step)
        results.put(run.id)
