"""Where stimulus items run: a local pool of worker processes, or a Ray cluster.

Both take the same picklable call (:func:`pipelines.stimuli.work`) and hand back a
``concurrent.futures.Future`` per item, so the driver's loop is the same for both; the driver
alone writes the store. Ray is optional (``pip install .[cluster]``) and imported only here,
only when asked for.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

from pipelines.base import PipelineError


class Engine(Protocol):
    workers: int
    local_files: bool
    """True when workers share this machine's disk (they may use the data dir's temp folders)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]: ...

    def cancel(self, future: Future[Any]) -> None: ...

    def close(self) -> None: ...


class LocalEngine:
    """``workers`` spawned processes on this machine (spawn: safe beside the UI's threads)."""

    local_files = True

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        return self._pool.submit(fn, *args)

    def cancel(self, future: Future[Any]) -> None:
        future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayEngine:
    """One Ray task per item on any node of a cluster.

    ``address``: ``auto`` (the cluster this machine belongs to, started with ``ray start``, or
    else a private local one), ``local`` (always a private local one), or ``ray://HOST:10001``
    (Ray Client). Nodes need the studio's pipelines installed (the same version).
    """

    local_files = False

    def __init__(self, address: str, *, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise PipelineError(
                "Running on Ray needs the cluster extra: pip install 'affect-studio[cluster]' "
                "(or .venv/bin/pip install ray)."
            ) from None
        self._ray = ray
        target = address.strip()
        if target not in ("auto", "local"):
            _check_reachable(target)
        self._started = not ray.is_initialized()
        if self._started:
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            try:
                if target == "local" or (target == "auto" and not _cluster_on_this_machine()):
                    ray.init(num_cpus=num_cpus, **options)
                else:
                    ray.init(address=target, **options)
            except Exception as exc:  # ConnectionError, TimeoutError, ValueError …
                raise PipelineError(
                    f"Could not reach the Ray cluster at {address!r}: {exc}. Check the address "
                    "(ray://HOST:10001) and that the head node is up, or run without --ray."
                ) from None
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)
        self._refs: dict[int, Any] = {}

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        ref = self._remote(fn).remote(*args)
        future: Future[Any] = ref.future()
        self._refs[id(future)] = ref
        return future

    def cancel(self, future: Future[Any]) -> None:
        ref = self._refs.pop(id(future), None)
        if ref is not None:
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        self._refs.clear()
        if self._started:
            self._ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast, with a clear message, when nothing answers at a cluster address (Ray itself
    retries for a long time)."""
    hostport = address.removeprefix("ray://").rsplit("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise PipelineError(
            f"Ray address {address!r} is not HOST:PORT — use auto, local or ray://HOST:10001."
        )
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise PipelineError(
            f"Could not reach the Ray cluster at {address!r}: nothing answers at {hostport} "
            f"({exc.strerror or exc}). Check the address and that the head node is up, or run "
            "without --ray."
        ) from None


def _cluster_on_this_machine() -> bool:
    if os.environ.get("RAY_ADDRESS"):
        return True
    return os.path.exists("/tmp/ray/ray_current_cluster")


def make_engine(ray: str | None, workers: int) -> Engine:
    """The engine a run asked for: Ray when given an address, else the local pool."""
    if ray:
        return RayEngine(ray)
    return LocalEngine(workers)
