"""The Dask client a build runs its chunk tasks on: the configured scheduler, or a local cluster."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from glyph_core.config import RasterizerConfig
from tqdm import tqdm


class ClusterError(RuntimeError):
    """The configured Dask scheduler cannot run the build (no worker joined in time)."""


@contextmanager
def dask_client(config: RasterizerConfig) -> Iterator[object]:
    """A client on the configured scheduler, or on a local cluster of spawned worker processes."""
    from dask.distributed import Client, LocalCluster

    if config.dask.scheduler_address:
        with Client(config.dask.scheduler_address) as client:
            try:
                client.wait_for_workers(1, timeout=config.dask.worker_wait_s)
            except TimeoutError:
                raise ClusterError(
                    f"the Dask scheduler at {config.dask.scheduler_address} has no worker after "
                    f"{config.dask.worker_wait_s:g} s (dask.worker_wait_s): start `dask worker {config.dask.scheduler_address}`"
                ) from None
            workers = len(client.scheduler_info()["workers"])
            tqdm.write(f"dask: scheduler {config.dask.scheduler_address}, {workers} workers", file=sys.stderr)
            yield client
        return
    with LocalCluster(
        n_workers=config.dask.workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
    ) as cluster, Client(cluster) as client:
        tqdm.write(f"dask: local cluster, {config.dask.workers} worker processes", file=sys.stderr)
        yield client
