"""Stimulus sets in the studio: make a set from a spec, run its items on worker processes, resume,
include/exclude, export. The driver (this process) alone writes the store and the artifacts;
workers run only pipeline code (:func:`pipelines.stimuli.run_item`) and return bytes.

Every item is an ordinary generation (recorded queued → running → done/failed before and after
its worker runs it), so the Library shows items, a killed driver's rows are failed by the next
start, and running the set again (resume) makes only what is missing. An item that fails is
retried once per run.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import time
import zipfile
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines import registry
from pipelines.base import CancelToken, PipelineError
from pipelines.stimuli import ItemOutput, StimulusSpec, expand, parse_spec, work
from projects_db import GenerationInfo, StoreError
from projects_db.stimuli import NewItem, StimulusItemInfo, StimulusSetInfo
from studio.engines import Engine, make_engine
from studio.generation_emotion import requested_label, used_label
from studio.settings import Services

ProgressFn = Callable[[int, int, float | None], None]
"""Called with (items done, items to do, seconds left or None)."""


def default_workers() -> int:
    """Cores − 1, at least 1 (the driver and the UI keep a core)."""
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass
class RunReport:
    """What a run did."""

    done: list[int] = field(default_factory=list)
    """Item ids made in this run."""
    failed: dict[int, str] = field(default_factory=dict)
    """Item id → error, for items that failed twice in this run."""
    skipped: int = 0
    """Items already done (or excluded) before the run."""
    cancelled: bool = False
    seconds: float = 0.0


class Stimuli:
    """Stimulus sets of one studio (no per-user state)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store

    # -- making a set ---------------------------------------------------------------------------
    def plan(self, data: object, *, confirm_large: bool = False) -> tuple[StimulusSpec, int]:
        """Validate a spec and its whole grid without storing anything: (spec, item count)."""
        spec = parse_spec(data, confirm_large=confirm_large)
        return spec, len(expand(spec))

    def create(
        self, data: object, project_id: int, *, confirm_large: bool = False
    ) -> StimulusSetInfo:
        """Validate the whole grid, store input files as assets, and record the set's items."""
        spec = parse_spec(data, confirm_large=confirm_large)
        spec = self._files_as_assets(spec)
        items = expand(spec)
        backend = registry.backend_spec(spec.task, spec.backend).name
        new = [NewItem(i.position, i.factors, i.request, int(i.request["seed"])) for i in items]
        return self.store.create_stimulus_set(
            project_id, name=spec.name, task=spec.task, backend=backend, spec=spec.to_dict(),
            items=new,
        )  # fmt: skip

    def create_and_run(
        self,
        data: object,
        project_id: int | Callable[[], int],
        *,
        confirm_large: bool = False,
        workers: int | None = None,
        ray: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> tuple[StimulusSetInfo, RunReport]:
        """Validate, reach the engine (a Ray address that does not answer fails here, before
        anything is written), then record and make the set. ``project_id`` may be a function
        that finds or creates the project (called only once the engine answers)."""
        _spec, count = self.plan(data, confirm_large=confirm_large)
        engine = make_engine(ray, max(1, min(workers or default_workers(), count)))
        try:
            pid = project_id() if callable(project_id) else project_id
            made = self.create(data, pid, confirm_large=confirm_large)
            return made, self.run(made.id, progress=progress, cancel=cancel, engine=engine)
        finally:
            engine.close()

    def _files_as_assets(self, spec: StimulusSpec) -> StimulusSpec:
        """Photo/audio/MIDI paths in base and factors become stored assets (checked to exist)."""
        req_type = registry.request_type(spec.task)
        path_fields = {f.name for f in dataclasses.fields(req_type) if "Path" in str(f.type)}

        def stored(name: str, value: Any) -> Any:
            if name not in path_fields or value in (None, ""):
                return value
            path = Path(str(value)).expanduser()
            if not path.is_file():
                raise PipelineError(f"{name}: {path} does not exist or is not a file.")
            return str(self.store.add_asset(path, path.name).path)

        base = {k: stored(k, v) for k, v in spec.base.items()}
        factors = {k: tuple(stored(k, v) for v in vs) for k, vs in spec.factors.items()}
        return dataclasses.replace(spec, base=base, factors=factors)

    # -- running --------------------------------------------------------------------------------
    def run(
        self,
        set_id: int,
        *,
        workers: int | None = None,
        ray: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        engine: Engine | None = None,
    ) -> RunReport:
        """Make every included item that is not done yet (resume = run again), on ``workers``
        local processes, or on the Ray cluster at ``ray`` (``auto``, ``local``, ``ray://…``)."""
        t0 = time.perf_counter()
        info = self.store.get_stimulus_set(set_id)
        items = self.store.stimulus_items(set_id)
        todo = [i for i in items if i.included and i.status != "done"]
        report = RunReport(skipped=len(items) - len(todo))
        loudness = info.spec.get("loudness")
        cancel = cancel or CancelToken()
        settings = self.services.generations.load_settings
        total = len(todo)
        tries = {i.id: 0 for i in todo}
        if not todo:
            return report
        own_engine = engine is None
        if engine is None:
            engine = make_engine(ray, max(1, min(workers or default_workers(), total)))
        try:
            running: dict[Future[ItemOutput], tuple[StimulusItemInfo, GenerationInfo]] = {}
            queue = list(todo)
            while queue or running:
                while queue and len(running) < 2 * engine.workers and not cancel.cancelled:
                    item = queue.pop(0)
                    tries[item.id] += 1
                    gen = self._start(info, item)
                    folder = str(self.store.job_temp_dir(gen.id)) if engine.local_files else None
                    try:
                        future = engine.submit(
                            work, info.task, info.backend, item.request, settings, loudness, folder
                        )
                    except BrokenExecutor:
                        message = (
                            "A worker process died (out of memory, or killed); the set stopped. "
                            "Resume it to make what is missing."
                        )
                        self._finish(gen, None, "failed", message)
                        report.failed[item.id] = message
                        cancel.cancel()
                        break
                    running[future] = (item, gen)
                if cancel.cancelled:
                    for future, (_item, gen) in running.items():
                        engine.cancel(future)
                        self._finish(gen, None, "cancelled", "Cancelled with its stimulus set.")
                    report.cancelled = True
                    break
                finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    item, gen = running.pop(future)
                    error = self._collect(gen, future)
                    if error is None:
                        report.done.append(item.id)
                    elif tries[item.id] < 2:
                        queue.append(item)  # retry once
                    else:
                        report.failed[item.id] = error
                left = len(queue) + len(running)
                if progress is not None and finished:
                    done = total - left
                    elapsed = time.perf_counter() - t0
                    progress(done, total, elapsed / done * left if done else None)
        finally:
            if own_engine:
                engine.close()
        report.seconds = time.perf_counter() - t0
        return report

    def _start(self, info: StimulusSetInfo, item: StimulusItemInfo) -> GenerationInfo:
        req = registry.request_type(info.task).from_dict(item.request)
        store = self.store
        gen = store.create_generation(
            info.project_id, task=info.task, backend=info.backend,
            backend_version=str(registry.backend_class(info.task, info.backend).version),
            request=req.to_dict(), seed=req.seed, emotion=requested_label(req),
        )  # fmt: skip
        self.services.generations.link_assets(gen.id, req)
        store.attach_item_generation(item.id, gen.id)
        return store.mark_running(gen.id, self.services.generations.runner_id)

    def _collect(self, gen: GenerationInfo, future: Future[ItemOutput]) -> str | None:
        """Store a finished item's bytes; the error message if it failed."""
        self.store.remove_job_temp(gen.id)  # the worker's, had it died before removing it
        try:
            out = future.result()
        except PipelineError as exc:
            self._finish(gen, None, "failed", str(exc))
            return str(exc)
        except Exception as exc:  # a worker crash or a bug: keep going with the other items
            message = f"Internal error ({type(exc).__name__}: {exc})."
            self._finish(gen, None, "failed", message)
            return message
        try:
            paths = {
                name: self.store.artifacts.write_bytes(gen.project_id, gen.id, name, suf, data)
                for name, (suf, data) in out.artifacts.items()
            }
        except StoreError as exc:
            self._finish(gen, None, "failed", str(exc))
            return str(exc)
        self._finish(gen, out, "done", None, paths)
        return None

    def _finish(
        self,
        gen: GenerationInfo,
        out: ItemOutput | None,
        status: str,
        error: str | None,
        paths: Mapping[str, str] | None = None,
    ) -> None:
        if out is None:
            self.store.artifacts.remove_generation(gen.project_id, gen.id)
            self.store.mark_finished(gen.id, status, error=error)
            return
        req = registry.request_type(gen.task).from_dict(gen.request)
        self.store.mark_finished(
            gen.id, "done", compute_seconds=out.compute_seconds, media_seconds=out.media_seconds,
            artifacts=dict(paths or {}), timings=out.timings, metadata=out.metadata,
            emotion=used_label(req, out.metadata),
        )  # fmt: skip

    def reseed(self, item_id: int, seed: int) -> StimulusItemInfo:
        """Make one cell again with another seed on the next run (the old one stays in the
        Library)."""
        item = self.store.get_stimulus_item(item_id)
        info = self.store.get_stimulus_set(item.set_id)
        req = registry.request_type(info.task).from_dict({**item.request, "seed": int(seed)})
        self.store.reseed_item(item_id, req.to_dict(), req.seed)
        return self.store.get_stimulus_item(item_id)

    def estimate_seconds(self, task: str, items: int, workers: int | None = None) -> float | None:
        """Rough wall time for ``items`` of ``task``: the median compute time of this studio's
        recent finished generations of that task, shared by the workers; None without any."""
        times = sorted(
            g.compute_seconds
            for p in self.store.list_projects()
            for g in self.store.list_generations(p.id, task=task, status="done", limit=50)
            if g.compute_seconds
        )
        if not times:
            return None
        return times[len(times) // 2] * items / max(1, workers or default_workers())

    # -- looking and exporting ------------------------------------------------------------------
    def summary(self, set_id: int) -> dict[str, Any]:
        """The set and its items as JSON-able data (what ``stimuli show --json`` prints)."""
        info = self.store.get_stimulus_set(set_id)
        items = self.store.stimulus_items(set_id)
        return {
            "set": {"id": info.id, "name": info.name, "task": info.task,
                    "backend": info.backend, "project_id": info.project_id,
                    "size": info.item_count, "spec": info.spec},
            "items": [
                {"id": i.id, "position": i.position, "generation": i.generation_id,
                 "factors": i.factors, "seed": i.seed, "status": i.status or "pending",
                 "included": i.included, "attempts": i.attempts}
                for i in items
            ],
        }  # fmt: skip

    def export_zip(self, set_id: int, target: Path) -> int:
        """Write the included, finished items' media and a ``manifest.csv`` to a ZIP, one file
        at a time (memory stays flat). Returns the number of items exported."""
        info = self.store.get_stimulus_set(set_id)
        items = [i for i in self.store.stimulus_items(set_id) if i.included and i.status == "done"]
        factor_names = list(info.spec.get("factors", {}))
        manifest = io.StringIO()
        writer = csv.writer(manifest)
        writer.writerow(["item", "position", *factor_names, "generation", "seed", "file",
                         "duration_s", "lufs", "original_lufs"])  # fmt: skip
        tmp = target.with_name(f".{target.name}.partial")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for item in items:
                assert item.generation_id is not None
                gen = self.store.get_generation(item.generation_id)
                names = [n for n in gen.artifacts if not n.endswith(("_plot", "stills"))]
                main = "audio_matched" if "audio_matched" in names else _main_artifact(names)
                for name in names:
                    src = self.store.artifact_path(gen, name)
                    zf.write(src, f"items/{item.position + 1:04d}/{name}{src.suffix}")
                loud = gen.metadata.get("loudness", {})
                main_path = self.store.artifact_path(gen, main)
                writer.writerow([
                    item.id, item.position + 1,
                    *(manifest_cell(item.factors.get(f)) for f in factor_names),
                    gen.id, item.seed, f"items/{item.position + 1:04d}/{main}{main_path.suffix}",
                    round(gen.media_seconds or 0.0, 3), loud.get("lufs", ""),
                    loud.get("original_lufs", ""),
                ])  # fmt: skip
            zf.writestr("manifest.csv", manifest.getvalue())
            zf.writestr("spec.json", json.dumps(info.spec, indent=2, ensure_ascii=False))
        os.replace(tmp, target)
        return len(items)


def manifest_cell(value: Any) -> str:
    """A factor value as a manifest.csv cell: text and numbers as they are (``us``, ``0.7``),
    nothing for a missing value, JSON for a list or mapping (``["happy", 0.5]``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _main_artifact(names: list[str]) -> str:
    for preferred in ("video", "audio", "midi", "reply"):
        if preferred in names:
            return preferred
    return sorted(names)[0]
