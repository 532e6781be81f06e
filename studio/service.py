"""The one path every generation takes, from the CLI or any tab.

``GenerationService.submit`` records a queued generation, runs it on a worker thread (one shared
queue for heavy jobs), reports progress, honours cancel, stores the artifacts atomically and
marks the row done / failed / cancelled. Rows left "running" by a crashed studio are failed on
start-up (``Store.recover_stale``), with their partial files removed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines import registry
from pipelines.base import Backend, Cancelled, CancelToken, LoadSettings, PipelineError, Request
from pipelines.scratch import job_work_dir
from projects_db import GenerationInfo, Store, StoreError
from studio.generation_emotion import requested_label, used_label

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 60.0
"""How long a delete waits for the jobs it cancelled to stop."""


@dataclass
class Job:
    """A submitted generation: its id, its cancel flag, its latest progress and its outcome."""

    generation_id: int
    project_id: int = 0
    token: CancelToken = field(default_factory=CancelToken)
    future: Future[GenerationInfo] = field(default_factory=Future)
    fraction: float = 0.0
    stage: str = "queued"

    def progress(self, fraction: float, stage: str) -> None:
        self.fraction, self.stage = fraction, stage

    def wait(self, timeout: float | None = None) -> GenerationInfo:
        """Block until the generation is finished (done, failed or cancelled)."""
        return self.future.result(timeout)

    @property
    def finished(self) -> bool:
        return self.future.done()


class GenerationService:
    """Runs requests through backends and records everything in the store."""

    def __init__(self, store: Store, *, load_settings: LoadSettings | None = None) -> None:
        self.store = store
        self.load_settings = load_settings or LoadSettings()
        self.runner_id = store.register_runner()
        self.recovered = store.recover_stale()
        if self.recovered:
            log.warning("Marked %d interrupted generation(s) as failed", len(self.recovered))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generation")
        self._lock = threading.Lock()
        self._backends: dict[tuple[str, str], Backend] = {}
        self._warming: set[tuple[str, str]] = set()
        self._jobs: dict[int, Job] = {}

    # -- submitting -------------------------------------------------------------------------
    def parse_request(self, task: str, data: Request | Mapping[str, Any]) -> Request:
        """A validated request of ``task`` from a request object or a JSON-like dict."""
        req_type = registry.request_type(task)
        if isinstance(data, req_type):
            return data
        if isinstance(data, Request):
            raise PipelineError(f"A {type(data).__name__} is not a {task} request.")
        return req_type.from_dict(data)

    def submit(
        self,
        project_id: int,
        task: str,
        request: Request | Mapping[str, Any],
        *,
        backend: str | None = None,
        parent_id: int | None = None,
        assets: Mapping[str, int] | None = None,
    ) -> Job:
        """Record a queued generation and start it on the worker. Bad input raises at once."""
        req = self.parse_request(task, request)
        spec = registry.backend_spec(task, backend)
        backend_cls = registry.backend_class(task, spec.name)
        gen = self.store.create_generation(
            project_id,
            task=task,
            backend=spec.name,
            backend_version=str(backend_cls.version),
            request=req.to_dict(),
            seed=req.seed,
            emotion=requested_label(req),
            parent_id=parent_id,
        )
        try:
            self.link_assets(gen.id, req, assets or {})
        except StoreError as exc:
            self.store.mark_finished(gen.id, "failed", error=str(exc))
            raise
        job = Job(gen.id, project_id)
        with self._lock:
            self._jobs[gen.id] = job
        self._executor.submit(self._execute, job, gen, req)
        return job

    def link_assets(
        self, generation_id: int, req: Request, roles: Mapping[str, int] | None = None
    ) -> None:
        """Record every stored input file the request uses, so deleting the last generation
        that uses one removes it: the roles the caller names, plus any request field that
        points at a stored asset (the field's name is its role)."""
        roles = roles or {}
        for role, asset_id in roles.items():
            self.store.link_asset(generation_id, asset_id, role)
        named = set(roles.values())
        prefix = str(self.store.data_dir / "assets")
        fields = {
            k: v for k, v in req.to_dict().items()
            if isinstance(v, str) and v.startswith(prefix) and "\x00" not in v
        }  # fmt: skip
        by_path = {str(a.path): a for a in self.store.assets_at(fields.values())}
        for name, value in sorted(fields.items()):
            found = by_path.get(str(Path(value).resolve()))
            if found is not None and found.id not in named:
                role = re.sub(r"[^a-z0-9_-]", "_", name.lower())[:32] or "input"
                self.store.link_asset(generation_id, found.id, role)
                named.add(found.id)

    def run(
        self, project_id: int, task: str, request: Request | Mapping[str, Any], **kw: Any
    ) -> GenerationInfo:
        """Submit and wait — what the CLI does."""
        return self.submit(project_id, task, request, **kw).wait()

    def rerun(self, generation_id: int) -> Job:
        """Run a generation's exact request again (same seed → same output) as its child."""
        gen = self.store.get_generation(generation_id)
        return self.submit(
            gen.project_id, gen.task, gen.request, backend=gen.backend, parent_id=gen.id
        )

    def fork(
        self, generation_id: int, request: Mapping[str, Any], *, backend: str | None = None
    ) -> Job:
        """Run an edited copy of a generation's request as its child."""
        gen = self.store.get_generation(generation_id)
        return self.submit(
            gen.project_id, gen.task, request, backend=backend or gen.backend, parent_id=gen.id
        )

    def job(self, generation_id: int) -> Job | None:
        """The live job for a generation submitted by this studio, if any."""
        with self._lock:
            return self._jobs.get(generation_id)

    def cancel(self, generation_id: int) -> bool:
        """Ask a queued or running generation to stop; False if it is not running here."""
        job = self.job(generation_id)
        if job is None or job.finished:
            return False
        job.token.cancel()
        return True

    # -- deleting ---------------------------------------------------------------------------
    def delete_project(self, project_id: int, *, with_generations: bool = False) -> None:
        """Delete a project, first cancelling (and waiting for) its jobs running here.

        Refused, with nothing deleted, while another studio process still runs one of its
        generations or when it has generations and ``with_generations`` is false.
        """
        if not with_generations:  # the store refuses a project that has generations
            self.store.delete_project(project_id)
            return
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.project_id == project_id]
        self._stop(jobs)
        self._refuse_if_running_elsewhere(project_id=project_id)
        self.store.delete_project(project_id, with_generations=with_generations)

    def delete_generation(self, generation_id: int) -> None:
        """Delete a generation and its files, cancelling it first if it runs here."""
        job = self.job(generation_id)
        if job is not None:
            self._stop([job])
        self._refuse_if_running_elsewhere(generation_id=generation_id)
        self.store.delete_generation(generation_id)

    def _stop(self, jobs: list[Job], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        for job in jobs:
            job.token.cancel()
        deadline = time.monotonic() + timeout
        for job in jobs:
            try:
                job.future.exception(max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                raise StoreError(
                    f"Generation #{job.generation_id} did not stop within {timeout:.0f} s — "
                    "try deleting again in a moment"
                ) from None

    def _refuse_if_running_elsewhere(
        self, *, project_id: int | None = None, generation_id: int | None = None
    ) -> None:
        active = self.store.active_generations(project_id=project_id, generation_id=generation_id)
        if active:
            ids = ", ".join(f"#{g}" for g in active[:5])
            raise StoreError(
                f"Generation {ids} is still running in another studio window or command — "
                "cancel it there (or wait until it ends), then delete"
            )

    def warm(self, task: str, name: str | None = None) -> Future[None] | None:
        """Load a backend and let it prepare its first run (its ``warm()``, when it has one)
        on the generation worker, before anyone asks: a tab calls this when it is opened.
        Once per backend; a request sent meanwhile simply runs after it. Failures are only
        logged: the real request reports them."""
        spec = registry.backend_spec(task, name)
        key = (task, spec.name)
        with self._lock:
            if key in self._warming:
                return None
            self._warming.add(key)

        def work() -> None:
            try:
                backend, _ = self._backend(*key)
                warm = getattr(backend, "warm", None)
                if callable(warm):
                    warm()
            except Exception:
                log.warning("Preparing the %s backend %s failed", task, spec.name, exc_info=True)

        return self._executor.submit(work)

    # -- running ----------------------------------------------------------------------------
    def _backend(self, task: str, name: str) -> tuple[Backend, float]:
        with self._lock:
            cached = self._backends.get((task, name))
        if cached is not None:
            return cached, 0.0
        t0 = time.perf_counter()
        loaded = registry.backend_class(task, name).load(self.load_settings)
        with self._lock:
            self._backends.setdefault((task, name), loaded)
            return self._backends[(task, name)], time.perf_counter() - t0

    def _execute(self, job: Job, gen: GenerationInfo, req: Request) -> None:
        try:
            info = self._execute_inner(job, gen, req)
        except BaseException as exc:  # the future must always resolve
            log.exception("Generation %d crashed the worker", gen.id)
            self.store.remove_job_temp(gen.id)
            job.future.set_exception(exc)
        else:
            self.store.remove_job_temp(gen.id)
            job.future.set_result(info)
        finally:
            with self._lock:
                self._jobs.pop(gen.id, None)

    def _execute_inner(self, job: Job, gen: GenerationInfo, req: Request) -> GenerationInfo:
        store = self.store
        if job.token.cancelled:
            return store.mark_finished(gen.id, "cancelled", error="Cancelled before it started.")
        store.mark_running(gen.id, self.runner_id)
        job.progress(0.0, "loading backend")
        t0 = time.perf_counter()
        try:
            backend, load_s = self._backend(gen.task, gen.backend)
            with job_work_dir(store.job_temp_dir(gen.id)):
                result = backend.run(req, progress=job.progress, cancel=job.token)
                job.token.raise_if_cancelled()
                job.progress(1.0, "saving")
                paths = {
                    name: store.artifacts.write(gen.project_id, gen.id, name, art.suffix, art.write)
                    for name, art in result.artifacts.items()
                }
        except Cancelled as exc:
            return self._fail(gen, "cancelled", str(exc), t0)
        except (PipelineError, StoreError) as exc:
            return self._fail(gen, "failed", str(exc), t0)
        except Exception as exc:
            log.exception("Generation %d failed unexpectedly", gen.id)
            message = (
                f"Internal error ({type(exc).__name__}: {exc}). "
                "Please report this with the request."
            )
            return self._fail(gen, "failed", message, t0)
        timings = {"load": round(load_s, 4), **result.timings}
        return store.mark_finished(
            gen.id,
            "done",
            compute_seconds=time.perf_counter() - t0 - load_s,
            media_seconds=result.media_seconds,
            artifacts=paths,
            timings=timings,
            metadata=result.metadata,
            emotion=used_label(req, result.metadata),
        )

    def _fail(self, gen: GenerationInfo, status: str, message: str, t0: float) -> GenerationInfo:
        self.store.artifacts.remove_generation(gen.project_id, gen.id)
        return self.store.mark_finished(
            gen.id, status, error=message, compute_seconds=time.perf_counter() - t0
        )

    def close(self) -> None:
        """Cancel what is running and stop the worker (the store is closed by its owner)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.token.cancel()
        self._executor.shutdown(wait=True, cancel_futures=False)
