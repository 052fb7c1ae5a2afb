"""Python download benchmark: 1 GiB read back through the Traintrack SDK vs. the same object straight from MinIO.

Run it under test/scripts/with-services.sh (``npm run bench:python`` runs it after upload_bench.py):

    test/scripts/with-services.sh sdk/python/.venv/bin/python bench/python/download_bench.py [--size-mib N] [--rounds N]

It starts the TypeScript server against that MinIO (and PostgreSQL), saves a
dataset holding one file of random bytes, then alternates, in the same run:

  baseline  the ``minio`` Python client's ``fget_object`` of the artefact's
            stored object (the same bytes, the same MinIO) into a file;
  SDK       ``DatasetVersion.download`` of the artefact into a directory: the
            DownloadArtefact stream, its sha256 check and the file write.

It prints MiB/s for both (the best of the rounds) and the ratio SDK / baseline
(target: at least 0.5). ``--check`` exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import psutil
from bench_services import minio_client, need
from upload_bench import cpu_seconds, random_file, server_env, start_server

import traintrack as tt

MiB = 1024 * 1024
RATIO_TARGET = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="artefact size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each download (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    size = args.size_mib * MiB

    minio = minio_client()
    bucket = f"bench-tt-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="traintrack-bench-") as tmp:
        work = Path(tmp)
        api_key = f"tt_bench_{secrets.token_urlsafe(24)}"
        server, port = start_server(server_env(work / "data", bucket, api_key), work / "server.log")
        try:
            data = work / "bench.bin"
            print(f"writing {args.size_mib} MiB of random bytes and saving them as a dataset ...", flush=True)
            random_file(data, size)
            client = tt.Client(url=f"http://127.0.0.1:{port}", api_key=api_key, progress=False)
            version = client.datasets.save(tt.Dataset(name="bench", version="1").add_file(data))
            data.unlink()
            # The stored object of the artefact: the only one of its size, under whatever prefix the
            # store keeps it (blobs/… before issue 10, objects/<org>/<upload> after).
            key = next(o.object_name for o in minio.list_objects(bucket, recursive=True) if o.size == size)
            baseline: List[float] = []
            sdk: List[float] = []
            me, server_process = psutil.Process(), psutil.Process(server.pid)
            cpu: Dict[str, List[float]] = {"minio-py client": [], "SDK client": [], "server": []}
            for round_ in range(1, args.rounds + 1):
                target = work / f"minio-{round_}.bin"
                before, start = cpu_seconds(me), time.perf_counter()
                minio.fget_object(bucket, key, str(target))
                baseline.append(size / MiB / (time.perf_counter() - start))
                cpu["minio-py client"].append(cpu_seconds(me) - before)
                target.unlink()
                out = work / f"sdk-{round_}"
                before, server_before, start = cpu_seconds(me), cpu_seconds(server_process), time.perf_counter()
                (written,) = version.download(out)
                sdk.append(size / MiB / (time.perf_counter() - start))
                cpu["SDK client"].append(cpu_seconds(me) - before)
                cpu["server"].append(cpu_seconds(server_process) - server_before)
                if written.stat().st_size != size:
                    sys.exit(f"the SDK wrote {written.stat().st_size} bytes, not {size}")
                written.unlink()
                print(f"round {round_}: minio-py fget_object {baseline[-1]:6.1f} MiB/s   traintrack SDK download {sdk[-1]:6.1f} MiB/s", flush=True)
            client.close()
        finally:
            server.terminate()
            server.wait(timeout=30)

    ratio = max(sdk) / max(baseline)
    print()
    print(f"artefact: {args.size_mib} MiB, {args.rounds} rounds, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"minio-py fget_object (baseline): best {max(baseline):.1f} MiB/s, median {statistics.median(baseline):.1f} MiB/s")
    print(f"traintrack SDK download:         best {max(sdk):.1f} MiB/s, median {statistics.median(sdk):.1f} MiB/s")
    print(f"ratio SDK / baseline: {ratio:.2f} (target >= {RATIO_TARGET})")
    gib = size / (1024 * MiB)
    print("CPU seconds per GiB (median): " + ", ".join(f"{who} {statistics.median(v) / gib:.1f}" for who, v in cpu.items()))
    return 1 if args.check and ratio < RATIO_TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
