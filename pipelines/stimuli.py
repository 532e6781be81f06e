"""Stimulus sets: a grid of requests (every combination of a few factors, everything else fixed),
validated as a whole before any work, and the worker side of running them.

A spec is plain JSON::

    {"name": "Accent x emotion", "task": "voice",
     "base": {"text": "Please take a seat."},
     "factors": {"emotion": ["happy", "sad", "angry"], "accent": ["us", "rp"]},
     "seed": 7, "repeats": 1, "loudness": -23}

Any request field can be a factor (text, files and seeds included). Items are numbered in grid
order (the first factor varies slowest, repeats fastest). Unless ``seed`` is itself a factor,
item seeds are ``seed + repeat``: the same cell of two sets made from one spec gets the same
seed, so the same output. Workers (:func:`run_item`) run only pipeline code and hand back bytes
and metadata; the caller alone writes the store.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines import registry
from pipelines.base import LoadSettings, PipelineError, validate_seed
from pipelines.scratch import job_work_dir

MAX_ITEMS_WITHOUT_CONFIRM = 5000
"""Grids larger than this need an explicit confirmation (``--yes``)."""
DEFAULT_LUFS = -23.0
"""EBU R128 programme loudness; P.808 asks for matched levels across stimuli."""
TRUE_PEAK_DBFS = -1.0
_SPEC_KEYS = {"name", "task", "backend", "base", "factors", "seed", "repeats", "loudness"}


@dataclass(frozen=True)
class StimulusSpec:
    """A validated grid description."""

    name: str
    task: str
    base: Mapping[str, Any]
    """Request fields every item shares."""
    factors: Mapping[str, tuple[Any, ...]]
    """Request field → its levels (JSON values), in the order given."""
    seed: int = 0
    repeats: int = 1
    backend: str | None = None
    loudness: float | None = None
    """Target integrated loudness (LUFS) for audio items, or None to leave levels alone."""

    @property
    def size(self) -> int:
        n = self.repeats
        for levels in self.factors.values():
            n *= len(levels)
        return n

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "task": self.task, "backend": self.backend,
            "base": dict(self.base), "factors": {k: list(v) for k, v in self.factors.items()},
            "seed": self.seed, "repeats": self.repeats, "loudness": self.loudness,
        }  # fmt: skip


@dataclass(frozen=True)
class PlannedItem:
    """One cell of the grid: its position, factor values and validated request (as a dict)."""

    position: int
    factors: Mapping[str, Any]
    repeat: int
    request: Mapping[str, Any]


def parse_spec(data: object, *, confirm_large: bool = False) -> StimulusSpec:
    """A :class:`StimulusSpec` from JSON-like data; ``PipelineError`` says what is wrong."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise PipelineError(f"The stimulus spec is not valid JSON: {exc}.") from None
    if not isinstance(data, Mapping):
        raise PipelineError("A stimulus spec must be a JSON object with task, base and factors.")
    unknown = sorted(set(data) - _SPEC_KEYS)
    if unknown:
        raise PipelineError(
            f"Unknown spec key(s): {', '.join(unknown)}. Valid: {', '.join(sorted(_SPEC_KEYS))}."
        )
    task = data.get("task")
    names = [t.name for t in registry.tasks()]
    if task not in names:
        raise PipelineError(f"Spec task must be one of {', '.join(names)}, got {task!r}.")
    backend = data.get("backend") or None
    if backend is not None:
        registry.backend_spec(str(task), str(backend))  # names the valid ones if unknown
    name = str(data.get("name") or "").strip() or f"{task} grid"
    base = data.get("base", {})
    if not isinstance(base, Mapping):
        raise PipelineError("Spec 'base' must be an object of request fields.")
    raw = data.get("factors", {})
    if not isinstance(raw, Mapping) or not raw:
        raise PipelineError("Spec 'factors' must map at least one request field to its levels.")
    fields = {f.name for f in dataclasses.fields(registry.request_type(str(task))) if f.init}
    factors: dict[str, tuple[Any, ...]] = {}
    for key, levels in raw.items():
        if key not in fields:
            raise PipelineError(
                f"Factor {key!r} is not a {task} request field. "
                f"Fields: {', '.join(sorted(fields))}."
            )
        if key in base:
            raise PipelineError(f"{key!r} is both in base and a factor — keep it in one place.")
        if not isinstance(levels, Sequence) or isinstance(levels, str) or not levels:
            raise PipelineError(f"Factor {key!r} needs a non-empty list of levels.")
        seen = [json.dumps(v, sort_keys=True) for v in levels]
        dupes = sorted({s for s in seen if seen.count(s) > 1})
        if dupes:
            raise PipelineError(f"Factor {key!r} lists {', '.join(dupes)} more than once.")
        factors[str(key)] = tuple(levels)
    seed = validate_seed(data.get("seed", 0))
    repeats = data.get("repeats", 1)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or not 1 <= repeats <= 100:
        raise PipelineError(
            f"Spec 'repeats' must be a whole number from 1 to 100, got {repeats!r}."
        )
    loudness = data.get("loudness")
    if loudness is not None and (
        isinstance(loudness, bool) or not isinstance(loudness, int | float)
        or not -70.0 <= float(loudness) <= -5.0
    ):  # fmt: skip
        raise PipelineError(
            f"Spec 'loudness' must be a LUFS value from -70 to -5, got {loudness!r}."
        )
    spec = StimulusSpec(
        name=name[:120], task=str(task), base=dict(base), factors=factors, seed=seed,
        repeats=repeats, backend=backend, loudness=None if loudness is None else float(loudness),
    )  # fmt: skip
    if spec.size > MAX_ITEMS_WITHOUT_CONFIRM and not confirm_large:
        raise PipelineError(
            f"This grid has {spec.size:,} items (over {MAX_ITEMS_WITHOUT_CONFIRM:,}); confirm with "
            "--yes if you mean it."
        )
    return spec


def expand(spec: StimulusSpec) -> list[PlannedItem]:
    """Every item of the grid with its request validated; the first bad level is named."""
    req_type = registry.request_type(spec.task)
    keys = list(spec.factors)
    items: list[PlannedItem] = []
    for combo in itertools.product(*(spec.factors[k] for k in keys)):
        levels = dict(zip(keys, combo, strict=True))
        for repeat in range(spec.repeats):
            data = {**spec.base, **levels}
            if "seed" not in spec.factors:
                data["seed"] = (spec.seed + repeat) % (2**32)
            try:
                request = req_type.from_dict(data)
            except PipelineError as exc:
                where = ", ".join(
                    f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in levels.items()
                )
                raise PipelineError(f"Item {len(items) + 1} ({where}): {exc}") from None
            items.append(PlannedItem(len(items), levels, repeat, request.to_dict()))
    return items


# -- the worker side ----------------------------------------------------------------------------
@dataclass
class ItemOutput:
    """What a worker hands back: artifact bytes by name (with suffixes) and the facts."""

    artifacts: dict[str, tuple[str, bytes]]
    metadata: dict[str, Any]
    media_seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    compute_seconds: float = 0.0


def run_item(
    task: str,
    backend: str,
    request: Mapping[str, Any],
    settings: LoadSettings,
    loudness: float | None,
    work: str | None = None,
    cache: dict[tuple[str, str], Any] | None = None,
) -> ItemOutput:
    """Run one item with the pipeline code only (no store): its temp files go to ``work`` (a
    private folder, removed here afterwards), ``cache`` keeps the calling worker's loaded
    backends. Audio artifacts also get a loudness-matched copy when asked."""
    key = (task, backend)
    loaded = cache.get(key) if cache is not None else None
    if loaded is None:
        loaded = registry.backend_class(task, backend).load(settings)
        if cache is not None:
            cache[key] = loaded
    req = registry.request_type(task).from_dict(dict(request))
    folder = Path(work) if work else Path(tempfile.mkdtemp(prefix="stimulus-"))
    try:
        with job_work_dir(folder):
            t0 = time.perf_counter()
            result = loaded.run(req)
            compute = time.perf_counter() - t0
            artifacts: dict[str, tuple[str, bytes]] = {}
            for name, art in result.artifacts.items():
                path = folder / f"out-{name}{art.suffix}"
                art.write(path)
                artifacts[name] = (art.suffix, path.read_bytes())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    metadata = dict(result.metadata)
    if loudness is not None and "audio" in artifacts and artifacts["audio"][0] == ".wav":
        data, facts = match_loudness(artifacts["audio"][1], loudness)
        artifacts["audio_matched"] = (".wav", data)
        metadata["loudness"] = facts
    return ItemOutput(artifacts, metadata, result.media_seconds, dict(result.timings), compute)


_WORKER_BACKENDS: dict[tuple[str, str], Any] = {}
"""Backends loaded by this worker process. Worker processes belong to one stimulus-set run
(never to the studio's own process), so nothing here is shared between users."""


def work(
    task: str,
    backend: str,
    request: Mapping[str, Any],
    settings: LoadSettings,
    loudness: float | None,
    folder: str | None,
) -> ItemOutput:
    """The function a worker process runs for one item (picklable; keeps its backends)."""
    return run_item(task, backend, request, settings, loudness, folder, cache=_WORKER_BACKENDS)


def match_loudness(wav: bytes, target_lufs: float = DEFAULT_LUFS) -> tuple[bytes, dict[str, float]]:
    """A copy of a WAV at ``target_lufs`` integrated loudness (ITU-R BS.1770 via pyloudnorm),
    with its peak limited to :data:`TRUE_PEAK_DBFS` by lowering the gain if needed."""
    import pyloudnorm
    import soundfile

    samples, sr = soundfile.read(io.BytesIO(wav), dtype="float64", always_2d=False)
    meter = pyloudnorm.Meter(sr)
    before = float(meter.integrated_loudness(samples))
    if not np.isfinite(before):
        raise PipelineError("The audio is silent; its loudness cannot be matched.")
    gain_db = target_lufs - before
    peak = float(np.max(np.abs(samples))) or 1e-9
    ceiling = 10 ** (TRUE_PEAK_DBFS / 20)
    limited = False
    if peak * 10 ** (gain_db / 20) > ceiling:
        gain_db = 20 * np.log10(ceiling / peak)
        limited = True
    out = samples * 10 ** (gain_db / 20)
    after = float(meter.integrated_loudness(out))
    buf = io.BytesIO()
    soundfile.write(buf, out, sr, subtype="PCM_16", format="WAV")
    facts = {
        "original_lufs": round(before, 2), "lufs": round(after, 2), "target_lufs": target_lufs,
        "gain_db": round(float(gain_db), 2), "peak_limited": float(limited),
    }  # fmt: skip
    return buf.getvalue(), facts
