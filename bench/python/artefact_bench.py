"""Run artefact benchmark: a 1 GiB file logged to a run through Traintrack and through MLflow, on one MinIO and PostgreSQL.

Run it under test/scripts/with-services.sh, which starts MinIO and PostgreSQL
and exports where they are (``npm run bench:artefacts`` does exactly that):

    test/scripts/with-services.sh sdk/python/.venv/bin/python bench/python/artefact_bench.py [--size-mib N] [--rounds N]

In one run it starts, each on a fresh PostgreSQL database and a bucket of its own
in the same MinIO:

  Traintrack  the TypeScript server (``TRAINTRACK_STORAGE=s3``); timed: the SDK's
              ``run.log_artefact(path)`` (the listing of the run's artefacts, the
              streamed and hashed upload, the LogRunArtefacts commit);
  MLflow      ``mlflow server --serve-artifacts --artifacts-destination s3://...``,
              the setup an MLflow team picks when clients must not hold S3
              credentials: the server proxies the bytes to MinIO (boto3). Timed:
              ``MlflowClient.log_artifact(run_id, path)``, from a client process of
              MLflow's own venv that stays up across rounds (no import in the timing).

Rounds alternate which side goes first; the file gets new bytes every round. It
prints MiB/s of each (best and median), the ratio Traintrack / MLflow (target:
above 1, faster than MLflow) and the CPU seconds of every process involved.
``--mlflow-multipart`` turns on MLflow's proxied multipart upload
(MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD: the client PUTs parts to presigned MinIO
URLs itself, so the bytes no longer pass through the MLflow server).
``--check`` exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Dict, List, cast


import traintrack as tt
from bench_cpu import Meter, minio_pid
from bench_services import (
    Processes,
    create_databases,
    db_url_for,
    drop_databases,
    ensure_mlflow_venv,
    mlflow_env,
    mlflow_python,
    minio_client,
    mlflow_version,
    need,
    s3_settings,
    start_mlflow,
    run_main,
    start_traintrack,
    time_uploads,
    traintrack_s3_storage,
)

MiB = 1024 * 1024
RATIO_TARGET = 1.0
SCRIPT = "npm run bench:artefacts"

# Runs in MLflow's venv, up for the whole benchmark. argv: tracking uri. Reads one JSON
# command per line ({"name", "path"}), answers one JSON line per command.
MLFLOW_WORKER = r'''
import json, os, sys, time
# Replies only on the real stdout: MLflow prints there too (links to each run it ends).
replies = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr
from mlflow.tracking import MlflowClient
client = MlflowClient(tracking_uri=sys.argv[1])
experiment = client.create_experiment("bench-artefacts-%d" % time.time_ns())
print(json.dumps({"ready": True}), file=replies, flush=True)
for line in sys.stdin:
    command = json.loads(line)
    run_id = client.create_run(experiment, run_name=command["name"]).info.run_id
    cpu0, t0 = time.process_time(), time.perf_counter()
    client.log_artifact(run_id, command["path"])
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    client.set_terminated(run_id)
    sizes = {f.path: f.file_size for f in client.list_artifacts(run_id)}
    print(json.dumps({"seconds": seconds, "client_cpu": cpu, "sizes": sizes}), file=replies, flush=True)
'''


class MlflowWorker:
    """The MLflow client process: logs a file to a new run per command."""

    def __init__(self, procs: Processes, url: str, work: Path, env: Dict[str, str]) -> None:
        self.log_path = work / "mlflow-client.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(mlflow_python()), "-c", MLFLOW_WORKER, url], cwd=work, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
            )
        procs.started.append(cast("subprocess.Popen[bytes]", self.process))
        self._reply()

    def _reply(self) -> Dict[str, Any]:
        line = cast(IO[str], self.process.stdout).readline()
        if not line:
            raise RuntimeError(f"the MLflow client exited:\n{self.log_path.read_text(errors='replace')[-3000:]}")
        return cast(Dict[str, Any], json.loads(line))

    def log_artifact(self, name: str, path: Path) -> Dict[str, Any]:
        stdin = cast(IO[str], self.process.stdin)
        stdin.write(json.dumps({"name": name, "path": str(path)}) + "\n")
        stdin.flush()
        return self._reply()


def random_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        for offset in range(0, size, 8 * MiB):
            f.write(os.urandom(min(8 * MiB, size - offset)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each side (default 3)")
    parser.add_argument("--mlflow-multipart", action="store_true",
                        help="MLflow client uploads parts to presigned MinIO URLs (MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    size = args.size_mib * MiB

    admin_url = need("TRAINTRACK_TEST_PG_URL", SCRIPT)
    s3 = s3_settings()
    ensure_mlflow_venv()
    version = mlflow_version()
    minio = minio_client(s3)
    suffix = secrets.token_hex(4)
    mlflow_db, tt_db = f"mlflow_artefacts_{suffix}", f"tt_artefacts_{suffix}"
    tt_bucket, mlflow_bucket = f"bench-tt-{suffix}", f"bench-mlflow-{suffix}"
    minio.make_bucket(mlflow_bucket)  # MLflow's S3 repository expects it; Traintrack creates its own
    s3_env = {  # boto3's settings, for MLflow's server (and its client, for --mlflow-multipart)
        "MLFLOW_S3_ENDPOINT_URL": s3["endpoint"],
        "AWS_ACCESS_KEY_ID": s3["access_key"],
        "AWS_SECRET_ACCESS_KEY": s3["secret_key"],
        "AWS_DEFAULT_REGION": s3["region"],
    }
    client_env = mlflow_env({**s3_env, "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "true" if args.mlflow_multipart else "false"})

    procs = Processes()
    databases: List[str] = []
    tt_mibs: List[float] = []
    ml_mibs: List[float] = []
    streamed: List[float] = []
    cpu: Dict[str, List[str]] = {"traintrack": [], "mlflow": []}
    with tempfile.TemporaryDirectory(prefix="traintrack-artefact-bench-") as tmp:
        work = Path(tmp)
        try:
            create_databases(admin_url, [mlflow_db, tt_db])
            databases = [mlflow_db, tt_db]
            api_key = f"tt_bench_{secrets.token_urlsafe(24)}"
            tt_server, tt_port = start_traintrack(procs, work, db_url_for(admin_url, tt_db), api_key, traintrack_s3_storage(tt_bucket))
            print(f"Traintrack server on 127.0.0.1:{tt_port}, bucket {tt_bucket}", flush=True)
            t0 = time.monotonic()
            ml_server, ml_url = start_mlflow(procs, work, db_url_for(admin_url, mlflow_db, "postgresql+psycopg2"),
                                             artifacts_destination=f"s3://{mlflow_bucket}/artifacts", env=s3_env)
            print(f"MLflow {version} server on {ml_url}, artefacts proxied to s3://{mlflow_bucket}/artifacts "
                  f"(started in {time.monotonic() - t0:.0f} s)", flush=True)
            worker = MlflowWorker(procs, ml_url, work, client_env)
            client = tt.Client(url=f"http://127.0.0.1:{tt_port}", api_key=api_key, progress=False)
            upload_seconds = time_uploads(client)  # the streaming part of each call; the rest is listing and commit

            data = work / "model.bin"
            print(f"writing {args.size_mib} MiB of random bytes ...", flush=True)
            random_file(data, size)
            minio_server = minio_pid()
            services = {"minio": minio_server} if minio_server else {}

            def log_mlflow(round_: int) -> None:
                with Meter({"mlflow client": worker.process.pid, "mlflow server": ml_server.pid, **services}) as m:
                    out = worker.log_artifact(f"round-{round_}", data)
                if out["sizes"].get(data.name) != size:
                    raise RuntimeError(f"MLflow lists {out['sizes']}, not {data.name} of {size} bytes")
                ml_mibs.append(size / MiB / out["seconds"])
                cpu["mlflow"].append(m.describe())

            def log_traintrack(round_: int) -> None:
                run = client.start_run(project=f"bench-{suffix}", experiment="artefacts", name=f"round-{round_}")
                with Meter({"SDK client": os.getpid(), "traintrack server": tt_server.pid, **services}) as m:
                    artefact = run.log_artefact(data)
                run.finish()
                if artefact.size != size:
                    raise RuntimeError(f"Traintrack stored {artefact.size} bytes, not {size}")
                tt_mibs.append(size / MiB / m.seconds)
                streamed.append(size / MiB / upload_seconds[-1])
                cpu["traintrack"].append(m.describe())

            for round_ in range(1, args.rounds + 1):
                with open(data, "r+b") as f:  # new bytes each round: nothing may be deduplicated
                    f.write(os.urandom(64))
                sides = [log_mlflow, log_traintrack] if round_ % 2 else [log_traintrack, log_mlflow]
                for side in sides:
                    side(round_)
                print(f"round {round_}: MLflow log_artifact {ml_mibs[-1]:6.1f} MiB/s   Traintrack run.log_artefact {tt_mibs[-1]:6.1f} MiB/s "
                      f"(upload stream {streamed[-1]:6.1f} MiB/s, listing + commit {size / MiB / tt_mibs[-1] - size / MiB / streamed[-1]:4.2f} s)",
                      flush=True)
                print(f"  CPU, MLflow: {cpu['mlflow'][-1]}\n  CPU, Traintrack: {cpu['traintrack'][-1]}", flush=True)
            client.close()
        finally:
            procs.stop_all()
            if databases:
                drop_databases(admin_url, databases)
            remove_bucket(minio, mlflow_bucket)
            remove_bucket(minio, tt_bucket)

    ratio = max(tt_mibs) / max(ml_mibs)
    median_ratio = statistics.median(tt_mibs) / statistics.median(ml_mibs)
    mode = "multipart to presigned URLs" if args.mlflow_multipart else "proxied through the server"
    print()
    print(f"file: {args.size_mib} MiB, {args.rounds} rounds, MLflow {version} ({mode}); one MinIO, one PostgreSQL; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"MLflow log_artifact (baseline):  best {max(ml_mibs):.1f} MiB/s, median {statistics.median(ml_mibs):.1f} MiB/s")
    print(f"Traintrack run.log_artefact:     best {max(tt_mibs):.1f} MiB/s, median {statistics.median(tt_mibs):.1f} MiB/s")
    print(f"  of which the upload stream:    best {max(streamed):.1f} MiB/s, median {statistics.median(streamed):.1f} MiB/s")
    verdict = "MET" if ratio > RATIO_TARGET else "MISSED"
    print(f"ratio Traintrack / MLflow: {ratio:.2f} (best of each; medians: {median_ratio:.2f}); target > {RATIO_TARGET:.0f}: {verdict}")
    return 1 if args.check and ratio <= RATIO_TARGET else 0


def remove_bucket(minio: Any, bucket: str) -> None:
    """Empties and removes a bucket (the throwaway MinIO would drop it anyway, but a long run should not pile up GiBs)."""
    try:
        if not minio.bucket_exists(bucket):
            return
        for obj in minio.list_objects(bucket, recursive=True):
            minio.remove_object(bucket, cast(str, obj.object_name))
        for upload in minio._list_multipart_uploads(bucket).uploads:  # incomplete ones (the bench was interrupted)
            minio._abort_multipart_upload(bucket, cast(str, upload.object_name), cast(str, upload.upload_id))
        minio.remove_bucket(bucket)
    except Exception as e:
        print(f"(could not remove bucket {bucket}: {e})", file=sys.stderr)


if __name__ == "__main__":
    run_main(main)
