"""What the Python benchmarks share: the services of with-services.sh, the servers they start, MLflow's venv.

Every benchmark that compares Traintrack with MLflow starts both servers itself
on the PostgreSQL (and MinIO) of ``test/scripts/with-services.sh``, each on a
fresh database, and stops them however it ends: the subprocesses run in their
own process groups (uvicorn and gunicorn fork workers) and ``Processes.stop_all``
ends each group.

MLflow is never a dependency of the SDK: it is installed at run time into a venv
of its own, cached in ``$TRAINTRACK_MLFLOW_VENV`` (default
``~/.cache/traintrack/mlflow-venv``), which also runs the benchmarks' psycopg2
chores. Delete it to reinstall.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
MLFLOW_VENV = Path(os.environ.get("TRAINTRACK_MLFLOW_VENV", Path.home() / ".cache" / "traintrack" / "mlflow-venv"))
# boto3: MLflow's S3 artefact repository (--artifacts-destination s3://...) imports it, and does not depend on it.
MLFLOW_PACKAGES = ["mlflow", "psycopg2-binary", "boto3"]


def need(name: str, script: str = "npm run bench:python") -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: run this under test/scripts/with-services.sh ({script})")
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def db_url_for(admin_url: str, database: str, scheme: Optional[str] = None) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((scheme or parts.scheme, parts.netloc, f"/{database}", "", ""))


def s3_settings() -> Dict[str, str]:
    """Where with-services.sh's MinIO is, and its root credentials."""
    return {
        "endpoint": need("TRAINTRACK_TEST_S3_ENDPOINT"),
        "access_key": need("TRAINTRACK_TEST_S3_ACCESS_KEY"),
        "secret_key": need("TRAINTRACK_TEST_S3_SECRET_KEY"),
        "region": os.environ.get("TRAINTRACK_TEST_S3_REGION", "us-east-1"),
    }


def minio_client(s3: Optional[Dict[str, str]] = None) -> Any:
    """A minio-py client of with-services.sh's MinIO (or of `s3`, from s3_settings())."""
    from minio import Minio  # only the benches that read or write MinIO directly need the package

    s3 = s3 or s3_settings()
    endpoint = urlsplit(s3["endpoint"])
    return Minio(endpoint.netloc, access_key=s3["access_key"], secret_key=s3["secret_key"],
                 secure=endpoint.scheme == "https", region=s3["region"])


# --- MLflow's venv -----------------------------------------------------------------------------------


def mlflow_python() -> Path:
    return MLFLOW_VENV / "bin" / "python"


def ensure_mlflow_venv() -> None:
    """Creates the venv on first use; installs what a venv cached by an older benchmark lacks (e.g. boto3)."""
    marker = MLFLOW_VENV / ".traintrack-ok"
    wanted = " ".join(sorted(MLFLOW_PACKAGES)) + "\n"
    if marker.exists() and marker.read_text() == wanted and (MLFLOW_VENV / "bin" / "mlflow").exists():
        return
    print(f"installing {' '.join(MLFLOW_PACKAGES)} into {MLFLOW_VENV} (cached for the next runs) ...", flush=True)
    start = time.monotonic()
    if not mlflow_python().exists():
        subprocess.run(["python3", "-m", "venv", str(MLFLOW_VENV)], check=True)
        subprocess.run([str(mlflow_python()), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(mlflow_python()), "-m", "pip", "install", "-q", *MLFLOW_PACKAGES], check=True)
    marker.write_text(wanted)
    print(f"  done in {time.monotonic() - start:.0f} s", flush=True)


def mlflow_version() -> str:
    return subprocess.run([str(mlflow_python()), "-c", "import mlflow; print(mlflow.__version__)"],
                          check=True, capture_output=True, text=True).stdout.strip()


def mlflow_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Our environment for a process of MLflow's venv: its bin first, the SDK venv's variables dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    env["PATH"] = f"{MLFLOW_VENV / 'bin'}:{env.get('PATH', '')}"
    env["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    return {**env, **(extra or {})}


# psycopg2 in MLflow's venv (the SDK's venv has no PostgreSQL driver). argv: admin url, create|drop, names...
_DATABASES = r'''
import sys, psycopg2
url, command, names = sys.argv[1], sys.argv[2], sys.argv[3:]
conn = psycopg2.connect(url)
conn.autocommit = True
for name in names:
    conn.cursor().execute(("create database " if command == "create" else "drop database if exists ") + name
                          + ("" if command == "create" else " with (force)"))
'''


def create_databases(admin_url: str, names: List[str]) -> None:
    subprocess.run([str(mlflow_python()), "-c", _DATABASES, admin_url, "create", *names], check=True, timeout=120)


def drop_databases(admin_url: str, names: List[str]) -> None:
    """Drops them; only says so when it cannot (the cluster may be gone already, on an interrupt)."""
    try:
        subprocess.run([str(mlflow_python()), "-c", _DATABASES, admin_url, "drop", *names], check=True, timeout=120)
    except Exception as e:
        print(f"(could not drop the databases: {e})", file=sys.stderr)


# --- processes ---------------------------------------------------------------------------------------


class Processes:
    """The subprocesses a benchmark started (each in its own process group), stopped on exit."""

    def __init__(self) -> None:
        self.started: List["subprocess.Popen[bytes]"] = []

    def start(self, argv: List[str], *, env: Dict[str, str], cwd: Path, log_path: Path) -> "subprocess.Popen[bytes]":
        with open(log_path, "wb") as log:
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(p)
        return p

    def stop_all(self) -> None:
        for p in reversed(self.started):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in reversed(self.started):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=10)
            # Workers left behind in the group (gunicorn/uvicorn children).
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def wait_for(what: str, check: Callable[[], Any], process: "subprocess.Popen[bytes]", log_path: Path, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


def start_traintrack(procs: Processes, work: Path, db_url: str, api_key: str,
                     storage: Optional[Dict[str, str]] = None) -> Tuple["subprocess.Popen[bytes]", int]:
    """The TypeScript server on ``db_url``; ``storage``: TRAINTRACK_STORAGE and friends (default: local files in ``work``)."""
    env = {
        **os.environ,
        "TRAINTRACK_HOST": "127.0.0.1",
        "TRAINTRACK_PORT": "0",
        "TRAINTRACK_DATA_DIR": str(work / "tt-data"),
        "TRAINTRACK_API_KEY": api_key,
        "TRAINTRACK_JANITOR_INTERVAL_SECONDS": "0",
        "TRAINTRACK_STORAGE": "local",
        "TRAINTRACK_DB_URL": db_url,
        **(storage or {}),
    }
    log_path = work / "traintrack.log"
    process = procs.start(["node", "--import", "tsx", "src/main.ts"], env=env, cwd=REPO_ROOT, log_path=log_path)

    def port() -> Optional[int]:
        match = re.search(r"traintrack listening on [^\s]+:(\d+) ", log_path.read_text(errors="replace"))
        return int(match.group(1)) if match else None

    return process, wait_for("the Traintrack server", port, process, log_path)


def traintrack_s3_storage(bucket: str) -> Dict[str, str]:
    """The server's settings for with-services.sh's MinIO, objects in ``bucket``."""
    s3 = s3_settings()
    return {
        "TRAINTRACK_STORAGE": "s3",
        "TRAINTRACK_S3_ENDPOINT": s3["endpoint"],
        "TRAINTRACK_S3_ACCESS_KEY": s3["access_key"],
        "TRAINTRACK_S3_SECRET_KEY": s3["secret_key"],
        "TRAINTRACK_S3_REGION": s3["region"],
        "TRAINTRACK_S3_BUCKET": bucket,
    }


def start_mlflow(procs: Processes, work: Path, db_url: str, *, artifacts_destination: Optional[str] = None,
                 workers: int = 1, env: Optional[Dict[str, str]] = None) -> Tuple["subprocess.Popen[bytes]", str]:
    """``mlflow server`` on ``db_url``, serving (proxying) artefacts from ``artifacts_destination`` (default: a local directory)."""
    port = free_port()
    destination = artifacts_destination
    if destination is None:
        artifacts = work / "mlflow-artifacts"
        artifacts.mkdir()
        destination = str(artifacts)
    log_path = work / "mlflow.log"
    argv = [
        str(MLFLOW_VENV / "bin" / "mlflow"), "server",
        "--backend-store-uri", db_url,
        "--serve-artifacts",
        # Runs' artefact URIs are mlflow-artifacts:/..., so clients send the bytes to this server, which stores them.
        "--default-artifact-root", "mlflow-artifacts:/",
        "--artifacts-destination", destination,
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
    ]
    # The server spools a proxied upload to a temporary file first: keep it in our directory, removed on exit.
    tmp = work / "mlflow-tmp"
    tmp.mkdir(exist_ok=True)
    process = procs.start(argv, env=mlflow_env({"TMPDIR": str(tmp), **(env or {})}), cwd=work, log_path=log_path)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_for("the MLflow server", healthy, process, log_path, timeout=300)
    return process, url


def time_uploads(client: Any) -> List[float]:
    """Times the streaming part of each save or log_artefact of the SDK `client` (the rest is listing and commit);
    returns the list the seconds are appended to."""
    seconds: List[float] = []
    upload_file = client._uploader.upload_file

    def timed_upload_file(*a: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return upload_file(*a, **kw)
        finally:
            seconds.append(time.perf_counter() - start)

    client._uploader.upload_file = timed_upload_file
    return seconds


def run_main(main: Callable[[], int]) -> None:
    """Runs a bench's main so that SIGTERM and SIGHUP unwind through every finally (servers stopped, databases
    dropped, temp dirs removed), and exits with its status."""

    def terminate(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    sys.exit(main())
