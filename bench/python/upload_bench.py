"""Python upload benchmark: 1 GiB through the Traintrack SDK vs. the same bytes straight into MinIO.

Run it under test/scripts/with-services.sh, which starts MinIO and PostgreSQL
and exports where they are (``npm run bench:python`` does exactly that):

    test/scripts/with-services.sh sdk/python/.venv/bin/python bench/python/upload_bench.py [--size-mib N] [--rounds N]

It starts the TypeScript server (``node --import tsx src/main.ts``) against that
MinIO (and PostgreSQL), writes a file of random bytes, then alternates, in the
same run and against the same MinIO:

  baseline  the ``minio`` Python client's ``fput_object`` of the file into a bucket;
  SDK       ``client.datasets.save`` of a dataset holding the file: the streamed
            upload (hashed on both sides, durable in segments) and the
            CreateDataset that commits it.

It prints MiB/s for both (the best of the rounds), the ratio SDK / baseline
(target: at least 0.7), and the peak RSS of this process while the SDK uploads
(target: under 100 MiB). ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple
from urllib.parse import urlsplit, urlunsplit

import psutil

import traintrack as tt
from bench_services import minio_client, need, time_uploads

MiB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parents[2]
RATIO_TARGET = 0.7
RSS_TARGET_MIB = 100


def server_env(data_dir: Path, bucket: str, api_key: str) -> Dict[str, str]:
    env = {
        **os.environ,
        "TRAINTRACK_HOST": "127.0.0.1",
        "TRAINTRACK_PORT": "0",
        "TRAINTRACK_DATA_DIR": str(data_dir),
        "TRAINTRACK_API_KEY": api_key,
        "TRAINTRACK_JANITOR_INTERVAL_SECONDS": "0",
        "TRAINTRACK_STORAGE": "s3",
        "TRAINTRACK_S3_ENDPOINT": need("TRAINTRACK_TEST_S3_ENDPOINT"),
        "TRAINTRACK_S3_ACCESS_KEY": need("TRAINTRACK_TEST_S3_ACCESS_KEY"),
        "TRAINTRACK_S3_SECRET_KEY": need("TRAINTRACK_TEST_S3_SECRET_KEY"),
        "TRAINTRACK_S3_REGION": os.environ.get("TRAINTRACK_TEST_S3_REGION", "us-east-1"),
        "TRAINTRACK_S3_BUCKET": bucket,
    }
    admin_url = os.environ.get("TRAINTRACK_TEST_PG_URL")
    if admin_url:  # PostgreSQL as in production; PGlite otherwise
        database = f"tt_bench_{secrets.token_hex(4)}"
        script = (
            "const pg=require('pg');const c=new pg.Client({connectionString:process.argv[1]});"
            "c.connect().then(()=>c.query('create database '+process.argv[2])).then(()=>c.end())"
            ".catch(e=>{console.error(e.message);process.exit(1)})"
        )
        subprocess.run(["node", "-e", script, admin_url, database], cwd=REPO_ROOT, check=True, timeout=60)
        parts = urlsplit(admin_url)
        env["TRAINTRACK_DB_URL"] = urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))
    return env


def start_server(env: Dict[str, str], log_path: Path) -> Tuple["subprocess.Popen[bytes]", int]:
    with open(log_path, "wb") as log:
        process = subprocess.Popen(["node", "--import", "tsx", "src/main.ts"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        match = re.search(r"traintrack listening on [^\s]+:(\d+) ", log_path.read_text(errors="replace"))
        if match:
            return process, int(match.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    sys.exit(f"the server did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


def random_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        for offset in range(0, size, 8 * MiB):
            f.write(os.urandom(min(8 * MiB, size - offset)))


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def timed_with_peak_rss(work: Callable[[], object]) -> Tuple[float, int]:
    """Seconds ``work`` took and the peak RSS of this process meanwhile (sampled every 10 ms)."""
    process = psutil.Process()
    peak = process.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.01):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        work()
    finally:
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
    return elapsed, max(peak, process.memory_info().rss)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each upload (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    size = args.size_mib * MiB

    minio = minio_client()
    suffix = secrets.token_hex(4)
    baseline_bucket = f"bench-minio-{suffix}"
    minio.make_bucket(baseline_bucket)

    with tempfile.TemporaryDirectory(prefix="traintrack-bench-") as tmp:
        work = Path(tmp)
        api_key = f"tt_bench_{secrets.token_urlsafe(24)}"
        server, port = start_server(server_env(work / "data", f"bench-tt-{suffix}", api_key), work / "server.log")
        try:
            data = work / "bench.bin"
            print(f"writing {args.size_mib} MiB of random bytes ...", flush=True)
            random_file(data, size)
            client = tt.Client(url=f"http://127.0.0.1:{port}", api_key=api_key, progress=False)
            upload_seconds = time_uploads(client)  # the streaming part of each call; the rest is listing and commit
            baseline: List[float] = []
            sdk: List[float] = []
            streamed: List[float] = []
            peaks: List[int] = []
            me, server_process = psutil.Process(), psutil.Process(server.pid)
            cpu: Dict[str, List[float]] = {"minio-py client": [], "SDK client": [], "server": []}
            for round_ in range(1, args.rounds + 1):
                # New bytes each round: the server stores content once, and a repeat would be deduplicated.
                with open(data, "r+b") as f:
                    f.write(os.urandom(64))
                key = f"round-{round_}.bin"
                before = cpu_seconds(me)
                seconds, _ = timed_with_peak_rss(lambda: minio.fput_object(baseline_bucket, key, str(data)))
                cpu["minio-py client"].append(cpu_seconds(me) - before)
                baseline.append(size / MiB / seconds)
                ds = tt.Dataset(name="bench", version=f"{suffix}-{round_}").add_file(data)
                before, server_before = cpu_seconds(me), cpu_seconds(server_process)
                seconds, peak = timed_with_peak_rss(lambda: client.datasets.save(ds))
                cpu["SDK client"].append(cpu_seconds(me) - before)
                cpu["server"].append(cpu_seconds(server_process) - server_before)
                sdk.append(size / MiB / seconds)
                streamed.append(size / MiB / upload_seconds[-1])
                peaks.append(peak)
                print(
                    f"round {round_}: minio-py {baseline[-1]:6.1f} MiB/s   traintrack SDK save {sdk[-1]:6.1f} MiB/s "
                    f"(upload stream {streamed[-1]:6.1f} MiB/s, commit {seconds - upload_seconds[-1]:4.1f} s)",
                    flush=True,
                )
            client.close()
        finally:
            server.terminate()
            server.wait(timeout=30)

    best_baseline, best_sdk = max(baseline), max(sdk)
    ratio = best_sdk / best_baseline
    peak_mib = max(peaks) / MiB
    print()
    print(f"file: {args.size_mib} MiB, {args.rounds} rounds, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"minio-py fput_object (baseline): best {best_baseline:.1f} MiB/s, median {statistics.median(baseline):.1f} MiB/s")
    print(f"traintrack SDK datasets.save:    best {best_sdk:.1f} MiB/s, median {statistics.median(sdk):.1f} MiB/s")
    print(f"  of which the upload stream:    best {max(streamed):.1f} MiB/s, median {statistics.median(streamed):.1f} MiB/s")
    verdict = "MET" if ratio >= RATIO_TARGET else "MISSED"
    print(f"ratio SDK datasets.save (upload + commit) / minio-py fput_object: {ratio:.2f} (best of each); target >= {RATIO_TARGET}: {verdict}")
    gib = size / (1024 * MiB)
    print("CPU seconds per GiB (median): " + ", ".join(f"{who} {statistics.median(v) / gib:.1f}" for who, v in cpu.items()))
    print(f"client peak RSS during the SDK upload: {peak_mib:.0f} MiB; target < {RSS_TARGET_MIB} MiB: {'MET' if peak_mib < RSS_TARGET_MIB else 'MISSED'}")
    missed = ratio < RATIO_TARGET or peak_mib >= RSS_TARGET_MIB
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
