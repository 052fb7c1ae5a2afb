"""Metrics benchmark: 1,000,000 metric points through Traintrack and through MLflow, on one PostgreSQL.

Run it under test/scripts/with-services.sh, which starts PostgreSQL (and MinIO)
and exports where they are (``npm run bench:metrics`` does exactly that):

    test/scripts/with-services.sh sdk/python/.venv/bin/python bench/python/metrics_bench.py [--points N] [--runs N]

In one run, against the same PostgreSQL (a fresh database each), it starts an
MLflow tracking server (``mlflow server --backend-store-uri postgresql://...``)
and the TypeScript Traintrack server (``node --import tsx src/main.ts``), then
logs the same workload through each one's own Python client: N points (default
1,000,000) across 10 runs, keys "loss" and "acc" at every step.

  MLflow      ``MlflowClient.log_batch`` at its maximum batch size (1,000 metrics),
              from a subprocess in MLflow's own venv;
  Traintrack  the SDK: ``client.start_run`` + ``run.log({...}, step=)`` + ``flush()``,
              and, as a second figure, ``client.runs.log_metrics`` batches of 10,000;
  COPY limit  the same rows written straight into a scratch table shaped (and
              indexed) like ``metric_points`` with ``COPY ... FROM STDIN`` (psycopg2).

It then times ``client.runs.metric_history([run], key, max_points=1000)`` on a
1,000,000-point series (median of 10 calls after a warm-up) and the two SQL
statements the server runs for it.

MLflow is never a dependency of the SDK: it is installed at run time into its own
venv, cached in ``$TRAINTRACK_MLFLOW_VENV`` (default ``~/.cache/traintrack/mlflow-venv``).
Every subprocess, database and temporary directory is removed on exit.
``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import traintrack as tt
from bench_cpu import Meter, postgres_cpu
from bench_services import (
    Processes,
    create_databases,
    db_url_for,
    drop_databases,
    ensure_mlflow_venv,
    mlflow_env,
    mlflow_python,
    mlflow_version as installed_mlflow_version,
    need,
    run_main,
    start_mlflow,
    start_traintrack,
)

MLFLOW_BATCH = 1000  # MLflow's maximum metrics per log_batch
TT_BATCH = 10_000  # Traintrack's maximum points per LogMetrics
HISTORY_POINTS = 1_000_000
HISTORY_MAX_POINTS = 1000
RATIO_MLFLOW_TARGET = 10.0
RATIO_COPY_TARGET = 0.5
HISTORY_TARGET_MS = 100.0


def value_of(run: int, step: int, key: str) -> float:
    """Deterministic metric values, the same on both sides."""
    return 1.0 / (1.0 + step + run) if key == "loss" else step / (step + 1.0 + run)


# --- helpers that run in the MLflow venv ------------------------------------------------------------


# Runs in the MLflow venv: SQL chores with psycopg2. argv: db_url, command, json args. Prints JSON.
SQL_HELPER = r'''
import io, json, statistics, sys, time
import psycopg2
url, command, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
conn = psycopg2.connect(url)
conn.autocommit = True
cur = conn.cursor()
out = {}
if command == "copy":
    # The same rows as the workload, in metric_points' shape, into a scratch table like it (with its index).
    cur.execute("drop table if exists copy_limit")
    cur.execute("create table copy_limit (like metric_points including all)")
    buf = io.StringIO()
    w = buf.write
    ts = "2026-01-01 00:00:00+00"
    per_run, runs = args["per_run"], args["runs"]
    for run in range(runs):
        rid = "run_copy_%02d" % run
        seq = run * 1000
        ord_ = 0
        for i in range(per_run):
            step, key = divmod(i, 2)
            key = "loss" if key == 0 else "acc"
            v = 1.0 / (1.0 + step + run) if key == "loss" else step / (step + 1.0 + run)
            if i % 10000 == 0:
                seq += 1
                ord_ = 0
            ord_ += 1
            w("org_bench\t%s\t%s\t%d\t%r\t%s\t\\N\t\t%d\t%d\n" % (rid, key, step, v, ts, seq, ord_))
    data = buf.getvalue().encode()
    out["bytes"] = len(data)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    cur.copy_expert("copy copy_limit (org_id, run_id, key, step, value, ts, rank, host, batch_seq, ord) from stdin", io.BytesIO(data))
    out["seconds"] = time.perf_counter() - t0
    out["client_cpu"] = time.process_time() - cpu0
    cur.execute("select count(*) from copy_limit")
    out["rows"] = cur.fetchone()[0]
    cur.execute("drop table copy_limit")
elif command == "history-sql":
    run_id, key, buckets, rounds = args["run_id"], args["key"], args["buckets"], args["rounds"]
    def once():
        t0 = time.perf_counter()
        cur.execute("select count(*)::int8, min(step), max(step) from metric_points where run_id = %s and key = %s", (run_id, key))
        count, lo, hi = cur.fetchone()
        t1 = time.perf_counter()
        width = hi - lo + 1
        cur.execute(
            "select min(point), max(point) from ("
            " select array[value, step::float8, (extract(epoch from ts) * 1000)::float8] as point,"
            "  least(floor((step - %s::int8)::float8 * %s / %s::float8)::int, %s) as bucket"
            " from metric_points where run_id = %s and key = %s) p group by bucket",
            (lo, buckets, width, buckets - 1, run_id, key))
        rows = cur.fetchall()
        t2 = time.perf_counter()
        return count, len(rows), t1 - t0, t2 - t1
    once()
    stats, extremes = [], []
    for _ in range(rounds):
        count, n, a, b = once()
        stats.append(a); extremes.append(b)
    out = {"count": count, "buckets": n, "stats_ms": statistics.median(stats) * 1000, "extremes_ms": statistics.median(extremes) * 1000,
           "total_ms": statistics.median([a + b for a, b in zip(stats, extremes)]) * 1000}
print(json.dumps(out))
'''

# Runs in the MLflow venv: the MLflow workload. argv: tracking uri, runs, points per run. Prints JSON.
MLFLOW_CLIENT = r'''
import json, sys, time
from mlflow.tracking import MlflowClient
from mlflow.entities import Metric
uri, runs, per_run, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
client = MlflowClient(tracking_uri=uri)
exp = client.create_experiment("bench-%d" % time.time_ns())
cpu0 = time.process_time()
t0 = time.perf_counter()
calls = 0
for run in range(runs):
    run_id = client.create_run(exp).info.run_id
    buf = []
    for i in range(per_run):
        step, k = divmod(i, 2)
        key = "loss" if k == 0 else "acc"
        v = 1.0 / (1.0 + step + run) if key == "loss" else step / (step + 1.0 + run)
        buf.append(Metric(key, v, int(time.time() * 1000), step))
        if len(buf) == batch:
            client.log_batch(run_id, metrics=buf)
            calls += 1
            if calls % 100 == 0:
                print("  mlflow: %d log_batch calls, %.0f s" % (calls, time.perf_counter() - t0), file=sys.stderr, flush=True)
            buf = []
    if buf:
        client.log_batch(run_id, metrics=buf)
        calls += 1
    client.set_terminated(run_id)
seconds = time.perf_counter() - t0
cpu = time.process_time() - cpu0
hist = client.get_metric_history(run_id, "loss")
print(json.dumps({"seconds": seconds, "client_cpu": cpu, "calls": calls, "last_run_loss_points": len(hist)}))
'''


def sql(db_url: str, command: str, **args: Any) -> Dict[str, Any]:
    result = subprocess.run(
        [str(mlflow_python()), "-c", SQL_HELPER, db_url, command, json.dumps(args)],
        check=True, capture_output=True, text=True, timeout=1800,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the benchmark -----------------------------------------------------------------------------------


def traintrack_sdk(client: tt.Client, runs: int, per_run: int, project: str) -> None:
    options = tt.LoggerOptions(queue_size=100_000, batch_size=TT_BATCH, flush_timeout=600.0)
    for r in range(runs):
        run = client.start_run(project=project, experiment="sdk", name=f"run-{r}", logger=options)
        log = run.log
        for step in range(per_run // 2):
            log({"loss": 1.0 / (1.0 + step + r), "acc": step / (step + 1.0 + r)}, step=step)
        run.finish()  # flushes first: every point accepted by the server


def traintrack_low_level(client: tt.Client, runs: int, per_run: int, project: str) -> None:
    MetricPoint = tt.MetricPoint
    for r in range(runs):
        run = client.start_run(project=project, experiment="low-level", name=f"run-{r}")
        batch: List[tt.MetricPoint] = []
        for i in range(per_run):
            step, k = divmod(i, 2)
            key = "loss" if k == 0 else "acc"
            batch.append(MetricPoint(key, value_of(r, step, key), step))
            if len(batch) == TT_BATCH:
                client.runs.log_metrics(run.id, batch)
                batch = []
        if batch:
            client.runs.log_metrics(run.id, batch)
        run.finish()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="metric points per side (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=10, help="runs they are spread over (default 10)")
    parser.add_argument("--history-points", type=int, default=HISTORY_POINTS, help="points of the GetMetricHistory series (default 1,000,000)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    per_run = args.points // args.runs
    total = per_run * args.runs

    admin_url = need("TRAINTRACK_TEST_PG_URL", "npm run bench:metrics")
    ensure_mlflow_venv()
    mlflow_version = installed_mlflow_version()

    suffix = secrets.token_hex(4)
    mlflow_db, tt_db = f"mlflow_bench_{suffix}", f"tt_metrics_bench_{suffix}"
    procs = Processes()
    databases: List[str] = []
    results: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="traintrack-metrics-bench-") as tmp:
        work = Path(tmp)
        try:
            create_databases(admin_url, [mlflow_db, tt_db])
            databases = [mlflow_db, tt_db]
            print(f"PostgreSQL {admin_url.split('@')[-1]}: databases {mlflow_db} (MLflow), {tt_db} (Traintrack)", flush=True)
            api_key = f"tt_bench_{secrets.token_urlsafe(24)}"
            tt_server, tt_port = start_traintrack(procs, work, db_url_for(admin_url, tt_db), api_key)
            print(f"Traintrack server on 127.0.0.1:{tt_port}", flush=True)
            t0 = time.monotonic()
            ml_server, ml_url = start_mlflow(procs, work, db_url_for(admin_url, mlflow_db, "postgresql+psycopg2"))
            print(f"MLflow {mlflow_version} server on {ml_url} (started in {time.monotonic() - t0:.0f} s)", flush=True)

            client = tt.Client(url=f"http://127.0.0.1:{tt_port}", api_key=api_key, progress=False)
            me = os.getpid()

            # 1. MLflow: log_batch of 1,000 from its own client process.
            print(f"\nMLflow: {total:,} points, {args.runs} runs, log_batch of {MLFLOW_BATCH} ...", flush=True)
            env = mlflow_env()
            with Meter({"mlflow server": ml_server.pid}) as m:
                out = subprocess.run(
                    [str(mlflow_python()), "-c", MLFLOW_CLIENT, ml_url, str(args.runs), str(per_run), str(MLFLOW_BATCH)],
                    check=True, stdout=subprocess.PIPE, text=True, env=env, cwd=work,
                )
            ml = json.loads(out.stdout.strip().splitlines()[-1])
            if ml["last_run_loss_points"] != per_run // 2:
                raise RuntimeError(f"MLflow stored {ml['last_run_loss_points']} loss points in the last run, not {per_run // 2}")
            results["mlflow"] = total / ml["seconds"]
            print(f"  {ml['seconds']:.1f} s, {results['mlflow']:,.0f} points/s; CPU: {m.describe({'mlflow client': ml['client_cpu']})}", flush=True)

            # 2. Traintrack SDK: run.log + flush.
            print(f"\nTraintrack SDK: {total:,} points, {args.runs} runs, run.log({{loss, acc}}, step=) + finish (flush) ...", flush=True)
            with Meter({"SDK client": me, "traintrack server": tt_server.pid}) as m:
                traintrack_sdk(client, args.runs, per_run, f"bench-{suffix}")
            results["sdk"] = total / m.seconds
            print(f"  {m.seconds:.1f} s, {results['sdk']:,.0f} points/s; CPU: {m.describe()}", flush=True)

            # 3. Traintrack low level: log_metrics batches of 10,000.
            print(f"\nTraintrack low level: {total:,} points, {args.runs} runs, client.runs.log_metrics of {TT_BATCH:,} ...", flush=True)
            with Meter({"SDK client": me, "traintrack server": tt_server.pid}) as m:
                traintrack_low_level(client, args.runs, per_run, f"bench-{suffix}")
            results["low"] = total / m.seconds
            print(f"  {m.seconds:.1f} s, {results['low']:,.0f} points/s; CPU: {m.describe()}", flush=True)

            # 4. The limit: COPY of the same rows into a table like metric_points.
            print(f"\nCOPY limit: {total:,} rows into a table like metric_points (with its index), one COPY ...", flush=True)
            pg0 = postgres_cpu()
            cp = sql(db_url_for(admin_url, tt_db), "copy", runs=args.runs, per_run=per_run)
            pg_copy = postgres_cpu() - pg0
            if cp["rows"] != total:
                raise RuntimeError(f"COPY wrote {cp['rows']} rows, not {total}")
            results["copy"] = total / cp["seconds"]
            print(f"  {cp['seconds']:.1f} s, {results['copy']:,.0f} rows/s ({cp['bytes'] / 2**20:.0f} MiB of text); "
                  f"CPU: postgres {pg_copy:.1f} s (includes the table's setup), psycopg2 client {cp['client_cpu']:.1f} s", flush=True)

            # 5. GetMetricHistory of a 1,000,000-point series downsampled to 1,000.
            print(f"\nGetMetricHistory: one series of {args.history_points:,} points, max_points={HISTORY_MAX_POINTS} ...", flush=True)
            run = client.start_run(project=f"bench-{suffix}", experiment="history", name="long")
            t0 = time.perf_counter()
            for start in range(0, args.history_points, TT_BATCH):
                n = min(TT_BATCH, args.history_points - start)
                client.runs.log_metrics(run.id, [tt.MetricPoint("loss", math.sin(s / 1000.0) + s * 1e-6, s) for s in range(start, start + n)])
            run.finish()
            print(f"  logged in {time.perf_counter() - t0:.1f} s", flush=True)
            subprocess.run([str(mlflow_python()), "-c",
                            "import psycopg2,sys;c=psycopg2.connect(sys.argv[1]);c.autocommit=True;c.cursor().execute('vacuum analyze metric_points')",
                            db_url_for(admin_url, tt_db)], check=True)
            series = client.runs.metric_history([run.id], "loss", max_points=HISTORY_MAX_POINTS)[run.id]  # warm-up
            latencies = []
            for _ in range(10):
                t = time.perf_counter()
                series = client.runs.metric_history([run.id], "loss", max_points=HISTORY_MAX_POINTS)[run.id]
                latencies.append((time.perf_counter() - t) * 1000)
            results["history_ms"] = statistics.median(latencies)
            print(f"  {len(series.points)} points returned (downsampled={series.downsampled}); "
                  f"median {results['history_ms']:.1f} ms, min {min(latencies):.1f} ms, max {max(latencies):.1f} ms", flush=True)
            hs = sql(db_url_for(admin_url, tt_db), "history-sql", run_id=run.id, key="loss", buckets=HISTORY_MAX_POINTS // 2, rounds=10)
            results["history_sql"] = hs
            print(f"  full scan without the rollups, raw SQL (psycopg2, median of 10): count/min/max {hs['stats_ms']:.1f} ms + bucket extremes {hs['extremes_ms']:.1f} ms "
                  f"= {hs['total_ms']:.1f} ms ({hs['count']:,} rows, {hs['buckets']} buckets)", flush=True)
            client.close()
        finally:
            procs.stop_all()
            if databases:
                drop_databases(admin_url, databases)

    ratio_ml_sdk = results["sdk"] / results["mlflow"]
    ratio_ml_low = results["low"] / results["mlflow"]
    ratio_copy_sdk = results["sdk"] / results["copy"]
    ratio_copy_low = results["low"] / results["copy"]
    ok = lambda good: "MET" if good else "MISSED"  # noqa: E731
    print()
    print(f"{total:,} metric points, {args.runs} runs; MLflow {mlflow_version}; one PostgreSQL; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    rows = [
        ("MLflow log_batch (1,000)", f"{results['mlflow']:>10,.0f} pts/s", "", ""),
        ("Traintrack SDK run.log + flush", f"{results['sdk']:>10,.0f} pts/s", "", ""),
        ("Traintrack log_metrics (10,000)", f"{results['low']:>10,.0f} pts/s", "", ""),
        ("PostgreSQL COPY (limit)", f"{results['copy']:>10,.0f} pts/s", "", ""),
        ("SDK / MLflow", f"{ratio_ml_sdk:>10.1f} x", f">= {RATIO_MLFLOW_TARGET:.0f} x", ok(ratio_ml_sdk >= RATIO_MLFLOW_TARGET)),
        ("log_metrics / MLflow", f"{ratio_ml_low:>10.1f} x", f">= {RATIO_MLFLOW_TARGET:.0f} x", ok(ratio_ml_low >= RATIO_MLFLOW_TARGET)),
        ("SDK / COPY", f"{ratio_copy_sdk:>10.2f}", f">= {RATIO_COPY_TARGET}", ok(ratio_copy_sdk >= RATIO_COPY_TARGET)),
        ("log_metrics / COPY", f"{ratio_copy_low:>10.2f}", f">= {RATIO_COPY_TARGET}", ok(ratio_copy_low >= RATIO_COPY_TARGET)),
        ("GetMetricHistory 1M -> 1,000 (median)", f"{results['history_ms']:>10.1f} ms", f"< {HISTORY_TARGET_MS:.0f} ms",
         ok(results["history_ms"] < HISTORY_TARGET_MS)),
        ("  full scan, no rollups (SQL)", f"{results['history_sql']['total_ms']:>10.1f} ms", "", ""),
    ]
    print(f"{'':40} {'figure':>16}  {'target':>9}  result")
    for name, figure, target, result in rows:
        print(f"{name:40} {figure:>16}  {target:>9}  {result}")
    missed = ratio_ml_sdk < RATIO_MLFLOW_TARGET or ratio_copy_sdk < RATIO_COPY_TARGET or results["history_ms"] >= HISTORY_TARGET_MS
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    run_main(main)
