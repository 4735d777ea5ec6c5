"""Running the weekly job's per-partition work on Dask: a LocalCluster on this machine, or a remote scheduler.

The library hands over a pandas-in / pandas-out function and the partitions (``insight.weekly.Executor``); this
module only ships them. The job (config, taxonomy, reviewers' labels, themes) is scattered once and each worker
loads its models once, on its first partition. Every worker runs one thread and torch uses one thread in it:
on a machine, more workers use more cores without threads fighting over them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd


def _one_thread() -> None:
    """On each worker: one torch thread, models offline (a worker never downloads from a hub)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # a worker without torch runs the hashing embedder (tests) or fails on its first task
        pass


class DaskExecutor:
    """``insight.weekly.Executor`` on a Dask ``Client``."""

    name = "dask"

    def __init__(self, client: Any) -> None:
        self.client = client
        client.run(_one_thread)

    def __call__(self, work: Callable[[pd.DataFrame, dict[str, Any]], pd.DataFrame], parts: list[pd.DataFrame],
                 job: dict[str, Any]) -> list[pd.DataFrame]:
        shared = self.client.scatter(job, broadcast=True)
        futures = self.client.map(work, parts, job=shared, pure=False)
        return self.client.gather(futures)  # in partition order: results do not depend on which worker ran what


@contextmanager
def dask_executor(scheduler: str | None = None, workers: int | None = None) -> Iterator[DaskExecutor]:
    """A connected executor: to ``scheduler`` (``tcp://host:8786``) when given, else a LocalCluster of ``workers``
    processes (default: one per core) that is shut down afterwards."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        from insight.errors import ComponentError

        raise ComponentError('--executor dask needs Dask: pip install "insight[dist]"', code="E301") from exc

    if scheduler:
        with Client(scheduler) as client:
            yield DaskExecutor(client)
        return
    n = workers or max(1, os.cpu_count() or 1)
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield DaskExecutor(client)
