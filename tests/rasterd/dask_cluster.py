"""A real Dask cluster on 127.0.0.1 for tests: `dask scheduler` and `dask worker` processes, each in
its own process group so a test can kill a worker (and its nanny) outright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]

    def kill_worker(self, index: int) -> None:
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait(30)

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        from dask.distributed import Client

        with Client(self.address, timeout=timeout) as client:
            client.wait_for_workers(count, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dask_cluster(log_path: Path, workers: int) -> Iterator[Cluster]:
    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = log_path.open("wb")
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 stdout=log, stderr=log, start_new_session=True)  # fmt: skip
    started = [
        subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard"],
                         stdout=log, stderr=log, start_new_session=True)  # fmt: skip
        for _ in range(workers)
    ]
    cluster = Cluster(address, scheduler, started)
    try:
        if workers:
            cluster.wait_for_workers(workers)
        else:  # a scheduler alone: wait until it answers
            from dask.distributed import Client

            Client(address, timeout=60).close()
        yield cluster
    finally:
        for process in (*started, scheduler):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.time() + 30
        for process in (*started, scheduler):
            try:
                process.wait(max(deadline - time.time(), 1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()
