"""The Library's filters as people type them, and its bulk actions on a filter or a selection:
export as a ZIP (streamed: every artifact plus a manifest CSV of requests and metadata), delete
(files and unreferenced uploads go too), re-run with another seed."""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines.base import PipelineError
from projects_db import GenerationFilter
from studio.settings import Services

MAX_RERUN = 200
"""Re-running is real work: at most this many in one bulk action."""
MANIFEST_COLUMNS = [
    "id", "task", "backend", "backend_version", "emotion", "status", "seed", "created_at",
    "media_seconds", "compute_seconds", "parent_id", "files", "request", "metadata",
]  # fmt: skip


def parse_day(text: str | None, what: str) -> datetime | None:
    """``YYYY-MM-DD`` (or a full ISO time) as a UTC moment; empty → None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PipelineError(f"{what} must be a date like 2026-12-02, got {text!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_ids(text: str | None) -> list[int] | None:
    """A selection typed as ``12, 15-20``; empty → None (everything the filter matches)."""
    text = (text or "").strip()
    if not text:
        return None
    out: list[int] = []
    for part in re.split(r"[,\s]+", text):
        if not part:
            continue
        m = re.fullmatch(r"#?(\d+)(?:-#?(\d+))?", part)
        if m is None:
            raise PipelineError(f"Select generations by number, like 12, 15-20 (not {part!r}).")
        lo, hi = int(m[1]), int(m[2] or m[1])
        if hi < lo or hi - lo > 100_000:
            raise PipelineError(f"The range {part} is backwards or too long.")
        out += range(lo, hi + 1)
    return out


def make_filter(
    project_id: int,
    *,
    task: str | None = None,
    emotion: str | None = None,
    status: str | None = None,
    backend: str | None = None,
    text: str | None = None,
    since: str | None = None,
    until: str | None = None,
    stimulus_set: int | None = None,
    ids: str | None = None,
) -> GenerationFilter:
    """A store filter from typed values ("All" or empty = any). ``until`` is a day included
    whole (``2026-12-02`` means up to the end of that day)."""
    end = parse_day(until, "'To'")
    if end is not None and len((until or "").strip()) <= 10:
        end += timedelta(days=1)

    def given(value: str | None) -> str | None:
        return None if value in (None, "", "All") else value

    return GenerationFilter(
        project_id, task=given(task), emotion=given(emotion), status=given(status),
        backend=given(backend), text=(text or "").strip() or None,
        since=parse_day(since, "'From'"), until=end, stimulus_set=stimulus_set,
        ids=parse_ids(ids),
    )  # fmt: skip


def export_zip(
    services: Services,
    f: GenerationFilter,
    target: Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Every match's artifacts (``g<id>/<name><suffix>``) and ``manifest.csv`` into ``target``,
    written as it goes (the generations are read a batch at a time, files copied in chunks);
    returns how many generations."""
    store = services.store
    tmp = target.with_name(f".{target.name}.partial")
    count = 0
    with tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as manifest:
        writer = csv.writer(manifest)
        writer.writerow(MANIFEST_COLUMNS)
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for g in store.iter_generations(f):
                files = []
                for name, _rel in sorted(g.artifacts.items()):
                    path = store.artifact_path(g, name)
                    if path.is_file():
                        arcname = f"g{g.id}/{name}{path.suffix}"
                        zf.write(path, arcname)
                        files.append(arcname)
                writer.writerow([
                    g.id, g.task, g.backend, g.backend_version, g.emotion or "", g.status,
                    g.seed, g.created_at.isoformat(), g.media_seconds or "",
                    g.compute_seconds or "", g.parent_id or "", ";".join(files),
                    json.dumps(g.request, ensure_ascii=False, sort_keys=True),
                    json.dumps(g.metadata, ensure_ascii=False, sort_keys=True),
                ])  # fmt: skip
                count += 1
                if progress is not None and count % 100 == 0:
                    progress(count)
            manifest.flush()
            manifest.seek(0)
            info = zipfile.ZipInfo("manifest.csv", time.localtime()[:6])  # not 1980-01-01
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as out:
                while chunk := manifest.read(1 << 16):
                    out.write(chunk.encode("utf-8"))
    os.replace(tmp, target)
    return count


def delete_matching(services: Services, f: GenerationFilter) -> int:
    """Delete every match (running ones are cancelled first) with its files; returns how many."""
    ids = services.store.matching_ids(f)
    for gid in ids:
        services.generations.delete_generation(gid)
    return len(ids)


def rerun_matching(services: Services, f: GenerationFilter, seed_offset: int = 1) -> list[int]:
    """Queue every match again as its child with its seed moved by ``seed_offset``; returns
    the new generations' ids."""
    ids = services.store.matching_ids(f)
    if len(ids) > MAX_RERUN:
        raise PipelineError(
            f"That re-runs {len(ids)} generations; narrow the filter or select at most "
            f"{MAX_RERUN} (a stimulus set re-seeds many items at once)."
        )
    made = []
    for gid in ids:
        gen = services.store.get_generation(gid)
        request = {**gen.request, "seed": (int(gen.seed) + int(seed_offset)) % 2**32}
        made.append(services.generations.fork(gid, request).generation_id)
    return made
