"""The real Traintrack server (TypeScript) as a child process, on one backend.

``embedded``: PGlite and local files in a temporary data directory.
``postgres+minio``: a fresh database on TRAINTRACK_TEST_PG_URL's cluster and a
fresh bucket on TRAINTRACK_TEST_S3_ENDPOINT (both exported by
test/scripts/with-services.sh).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[4]
BACKENDS = ("embedded", "postgres+minio")
_LISTENING = re.compile(r"traintrack listening on [^\s]+:(\d+) ")
START_TIMEOUT_S = 120.0


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def services_available() -> bool:
    """Whether PostgreSQL and MinIO were exported by with-services.sh."""
    return all(
        os.environ.get(name)
        for name in ("TRAINTRACK_TEST_PG_URL", "TRAINTRACK_TEST_S3_ENDPOINT", "TRAINTRACK_TEST_S3_ACCESS_KEY", "TRAINTRACK_TEST_S3_SECRET_KEY")
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _create_database(admin_url: str, name: str) -> str:
    """Creates database ``name`` on the cluster (with node and the repo's pg client) and returns its URL."""
    script = "const pg=require('pg');const c=new pg.Client({connectionString:process.argv[1]});" \
             "c.connect().then(()=>c.query('create database '+process.argv[2])).then(()=>c.end())" \
             ".catch(e=>{console.error(e.message);process.exit(1)})"
    subprocess.run(["node", "-e", script, admin_url, name], cwd=REPO_ROOT, check=True, capture_output=True, timeout=60)
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def backend_env(backend: str, data_dir: Path) -> Dict[str, str]:
    """Server environment for ``backend`` with a fresh data directory, or database and bucket."""
    env = {
        "TRAINTRACK_HOST": "127.0.0.1",
        "TRAINTRACK_DATA_DIR": str(data_dir),
        # No janitor passes behind the tests' backs.
        "TRAINTRACK_JANITOR_INTERVAL_SECONDS": "0",
        # The smallest segment: a broken upload has durable bytes to resume from sooner.
        "TRAINTRACK_SEGMENT_BYTES": str(5 * 1024 * 1024),
    }
    if backend == "embedded":
        return env
    suffix = secrets.token_hex(6)
    env.update(
        TRAINTRACK_DB_URL=_create_database(os.environ["TRAINTRACK_TEST_PG_URL"], f"tt_py_{suffix}"),
        TRAINTRACK_STORAGE="s3",
        TRAINTRACK_S3_ENDPOINT=os.environ["TRAINTRACK_TEST_S3_ENDPOINT"],
        TRAINTRACK_S3_ACCESS_KEY=os.environ["TRAINTRACK_TEST_S3_ACCESS_KEY"],
        TRAINTRACK_S3_SECRET_KEY=os.environ["TRAINTRACK_TEST_S3_SECRET_KEY"],
        TRAINTRACK_S3_REGION=os.environ.get("TRAINTRACK_TEST_S3_REGION", "us-east-1"),
        TRAINTRACK_S3_BUCKET=f"tt-py-{suffix}",
    )
    return env


class ServerProcess:
    """``node --import tsx src/main.ts`` with a given environment; restartable on the same port and state."""

    def __init__(self, backend: str, work_dir: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.backend = backend
        self.work_dir = work_dir
        self.api_key = f"tt_test_{secrets.token_urlsafe(24)}"
        self.env = env if env is not None else backend_env(backend, work_dir / "data")
        self.port = 0
        self.log_path = work_dir / "server.log"
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts the server (on the previous port after a stop) and waits until it listens."""
        env = {**os.environ, **self.env, "TRAINTRACK_API_KEY": self.api_key, "TRAINTRACK_PORT": str(self.port)}
        self._starts += 1
        log = open(self.log_path, "ab")
        log.write(f"--- start {self._starts} ---\n".encode())
        log.flush()
        offset = log.tell()
        self._process = subprocess.Popen(
            ["node", "--import", "tsx", "src/main.ts"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                match = _LISTENING.search(f.read().decode(errors="replace"))
            if match:
                self.port = int(match.group(1))
                return
            if self._process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self._process.returncode}:\n{self.log_tail()}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not listen within {START_TIMEOUT_S} s:\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stops the server with ``sig`` (SIGKILL for a crash) and waits for it to exit."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text: List[str] = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(text[-lines:])
