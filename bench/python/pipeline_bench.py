"""Benchmark: a pipeline of 5,000 steps recorded through the Python SDK (issue 13).

One pipeline run of 20 layers of 250 steps, each step after two of the layer
before (one in 19 after three: 9,766 edges), recorded with the SDK's bulk API
(``prun.record_steps``: RecordSteps, a layer per call, as an orchestrator reports
a layer once it is done). For comparison, the per-step path (``with
prun.step(...)``: StartStep on entry, FinishStep on exit, 16 threads) over the
first two layers of a second run. Then ``prun.graph()`` collapsed and expanded. The server runs on
test/scripts/with-services.sh's PostgreSQL (a fresh database) with local files.
The target is absolute: recording ≥ 1,000 steps/s.

    npm run bench:pipelines
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent))

import traintrack as tt  # noqa: E402
from bench_services import Processes, create_databases, db_url_for, drop_databases, need, run_main, start_traintrack  # noqa: E402

LAYERS = int(os.environ.get("BENCH_PIPELINE_LAYERS", "20"))
WIDTH = int(os.environ.get("BENCH_PIPELINE_WIDTH", "250"))
IN_FLIGHT = 16
PER_STEP_LAYERS = int(os.environ.get("BENCH_PIPELINE_PER_STEP_LAYERS", "2"))
TARGET_STEPS_PER_SECOND = 1000


def upstream(layer: int, i: int) -> List[str]:
    if layer == 0:
        return []
    before = [f"s{layer - 1}-{i}", f"s{layer - 1}-{(i + 1) % WIDTH}"]
    return before + ([f"s{layer - 1}-{(i + 2) % WIDTH}"] if i % 19 == 0 else [])


def main() -> int:
    admin_url = need("TRAINTRACK_TEST_PG_URL", "npm run bench:pipelines")
    database = f"tt_pipeline_bench_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="tt-pipeline-bench-"))
    procs = Processes()
    api_key = f"tt_bench_{os.getpid()}_{int(time.time())}"
    create_databases(admin_url, [database])
    try:
        _, port = start_traintrack(procs, work, db_url_for(admin_url, database), api_key)
        client = tt.Client(url=f"http://127.0.0.1:{port}", api_key=api_key, progress=False)
        pipe = client.pipelines.get_or_create("bench", project="bench")
        edges = sum(len(upstream(layer, i)) for layer in range(LAYERS) for i in range(WIDTH))
        steps = LAYERS * WIDTH
        with pipe.run() as prun:
            started = time.perf_counter()
            # A layer per call, as an orchestrator reports a layer once it is done.
            for layer in range(LAYERS):
                prun.record_steps(tt.StepRecord(f"s{layer}-{i}", after=upstream(layer, i)) for i in range(WIDTH))
            seconds = time.perf_counter() - started
        # The per-step path for comparison, on the first PER_STEP_LAYERS layers of a second run.
        with pipe.run() as per_step:
            t = time.perf_counter()
            for layer in range(PER_STEP_LAYERS):

                def one(i: int, layer: int = layer) -> None:
                    with per_step.step(f"s{layer}-{i}", after=upstream(layer, i)):
                        pass

                with ThreadPoolExecutor(IN_FLIGHT) as pool:
                    list(pool.map(one, range(WIDTH)))
            per_step_rate = PER_STEP_LAYERS * WIDTH / (time.perf_counter() - t)
        collapsed, expanded = [], []
        for _ in range(7):
            t = time.perf_counter()
            prun.graph()
            collapsed.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            prun.graph(expand=True)
            expanded.append((time.perf_counter() - t) * 1000)
        rate = steps / seconds
        print(f"\n== pipeline of {steps} steps in {LAYERS} layers ({edges} edges), recorded through the Python SDK (prun.record_steps, a layer per call)")
        print(f"{'record s':>9}  {'steps/s':>8}  {'graph ms (collapsed)':>20}  {'graph ms (expanded)':>19}  {'per-step path steps/s':>21}")
        print(f"{seconds:9.2f}  {rate:8.0f}  {statistics.median(collapsed):20.0f}  {statistics.median(expanded):19.0f}  {per_step_rate:21.0f}")
        print(f"target: recording ≥ {TARGET_STEPS_PER_SECOND} steps/s through the SDK: {'MET' if rate >= TARGET_STEPS_PER_SECOND else 'MISSED'}")
        print(
            f"note: per-step path = `with prun.step(...)` (StartStep + FinishStep) from {IN_FLIGHT} threads over {PER_STEP_LAYERS * WIDTH} steps; "
            "graph times include the SDK's decoding (median of 7)"
        )
        client.close()
        return 0
    finally:
        procs.stop_all()
        drop_databases(admin_url, [database])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
