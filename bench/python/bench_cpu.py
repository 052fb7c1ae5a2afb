"""Who used the CPU during a benchmark phase: the clients, the servers, PostgreSQL and MinIO.

On a 2-core machine every process of a benchmark shares the cores; the CPU
seconds of each tell a slow side from a starved one.
"""

from __future__ import annotations

import os
import time
from typing import Dict, List, Optional
from urllib.parse import urlsplit

import psutil


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live children; of this process alone (its children are the servers, metered apart)."""
    total = 0.0
    if pid == os.getpid():
        own = psutil.Process(pid).cpu_times()
        return float(own.user + own.system)
    try:
        root = psutil.Process(pid)
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        pass
    return total


def postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL cluster of TRAINTRACK_TEST_PG_URL: its postmaster and backends, exited ones included."""
    port = str(urlsplit(os.environ.get("TRAINTRACK_TEST_PG_URL", "")).port or 5432)
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            cmd = p.info["cmdline"] or []
            if p.info["name"] == "postgres" and any(a == port and i > 0 and cmd[i - 1] == "-p" for i, a in enumerate(cmd)):
                t = p.cpu_times()  # the postmaster's children_* count the backends it has reaped
                total = t.user + t.system + t.children_user + t.children_system
                for child in p.children():
                    try:
                        c = child.cpu_times()
                        total += c.user + c.system
                    except psutil.NoSuchProcess:
                        pass
                return total
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return 0.0


def minio_pid() -> Optional[int]:
    """The MinIO server of TRAINTRACK_TEST_S3_ENDPOINT (started with ``--address 127.0.0.1:PORT``), if found."""
    endpoint = os.environ.get("TRAINTRACK_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    address = urlsplit(endpoint).netloc
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            cmd: List[str] = p.info["cmdline"] or []
            if p.info["name"] == "minio" and address in cmd:
                return int(p.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return None


class Meter:
    """Wall time and CPU seconds of the named process trees (and PostgreSQL) across one phase."""

    def __init__(self, pids: Dict[str, int]) -> None:
        self.pids = pids

    def __enter__(self) -> "Meter":
        self.cpu0 = {name: tree_cpu(pid) for name, pid in self.pids.items()}
        self.pg0 = postgres_cpu()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = {name: tree_cpu(pid) - self.cpu0[name] for name, pid in self.pids.items()}
        self.cpu["postgres"] = postgres_cpu() - self.pg0

    def describe(self, extra: Optional[Dict[str, float]] = None) -> str:
        cpu = {**self.cpu, **(extra or {})}
        return ", ".join(f"{name} {seconds:.1f} s ({seconds / self.seconds * 100:.0f}%)" for name, seconds in cpu.items())
