"""Library tab logic: projects and generations, with plain handler methods the UI binds to.

The handlers take and return plain values (ids, strings, row lists), so tests call them directly;
``studio.library_tab`` only lays out the components and wires events to them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines import registry
from pipelines.base import PipelineError
from pipelines.emotion import EMOTIONS
from projects_db import GENERATION_STATUSES, GenerationInfo, ProjectNotEmpty, StoreError
from studio import library_bulk
from studio.settings import Services
from studio.ui import SCRATCH_PROJECT, md_escape

ALL = "All"
COLUMNS = ["id", "peek", "task", "backend", "emotion", "status", "created", "duration"]
DATATYPES = ["number", "markdown", "str", "str", "str", "str", "str", "str"]
PAGE_SIZES = [25, 50, 100, 200]
FILTERS = ["task", "emotion", "status", "backend", "text", "since", "until", "stimulus_set"]
"""The Library's filters, in the order the tab passes their values."""
THUMB_HEIGHT = 40
AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg"}
VIDEO_SUFFIXES = {".mp4", ".webm"}


@dataclass(frozen=True)
class Details:
    """What the details panel shows for one generation."""

    heading: str
    request_json: str
    audio: str | None
    video: str | None
    files: list[str]
    timings: dict[str, Any]


class Library:
    """Handlers for the Library tab. Holds only the shared services, never per-user state."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store

    # -- projects -----------------------------------------------------------------------------
    def project_choices(self) -> list[tuple[str, int]]:
        return project_choices(self.services)

    def create_project(self, name: str) -> tuple[int, str]:
        """Create a project; returns its id and a status line. Raises StoreError with advice."""
        project = self.store.create_project(name or "")
        return project.id, f"Created project **{md_escape(project.name)}**."

    def rename_project(self, project_id: int | None, new_name: str) -> str:
        pid = self._need_project(project_id)
        old = self.store.get_project(pid).name
        project = self.store.rename_project(pid, new_name or "")
        return f"Renamed **{md_escape(old)}** to **{md_escape(project.name)}**."

    def delete_project(self, project_id: int | None, confirmed: bool) -> str:
        pid = self._need_project(project_id)
        name = self.store.get_project(pid).name
        try:
            self.services.generations.delete_project(pid, with_generations=confirmed)
        except ProjectNotEmpty as exc:
            raise StoreError(
                f"{exc} Tick “also delete its generations and files” and press Delete again."
            ) from exc
        return f"Deleted project **{md_escape(name)}**."

    # -- generations --------------------------------------------------------------------------
    @staticmethod
    def task_filter_choices() -> list[str]:
        return [ALL, *(t.name for t in registry.tasks())]

    @staticmethod
    def emotion_filter_choices() -> list[str]:
        return [ALL, *EMOTIONS]

    @staticmethod
    def status_filter_choices() -> list[str]:
        return [ALL, *GENERATION_STATUSES]

    def backend_filter_choices(self, project_id: int | None) -> list[str]:
        found = self.store.backends_in(int(project_id)) if project_id is not None else []
        return [ALL, *found]

    def set_filter_choices(self, project_id: int | None) -> list[tuple[str, int | str]]:
        sets = self.store.list_stimulus_sets(int(project_id)) if project_id is not None else []
        return [(ALL, ALL), *((f"#{s.id} {s.name}", s.id) for s in sets)]

    def query(self, project_id: int, values: Sequence[Any], ids: str | None = None) -> Any:
        """The store filter of the tab's filter values (in :data:`FILTERS` order)."""
        given = dict(zip(FILTERS, values, strict=True))
        chosen_set = given.pop("stimulus_set")
        return library_bulk.make_filter(
            int(project_id), **given, ids=ids,
            stimulus_set=None if chosen_set in (None, "", ALL) else int(chosen_set),
        )  # fmt: skip

    def page(
        self,
        project_id: int | None,
        values: Sequence[Any],
        *,
        size: int = 50,
        cursor: str | None = None,
        first: int = 1,
    ) -> tuple[list[list[Any]], str, str | None]:
        """One page of the table (newest first), a line saying which rows of how many, and
        the cursor of the next page (None on the last)."""
        if project_id is None:
            return [], f"Nothing made yet (work goes to “{SCRATCH_PROJECT}”).", None
        f = self.query(int(project_id), values)
        page = self.store.page_generations(f, limit=int(size), cursor=cursor)
        total = self.store.count_generations(f)
        rows = [self._row(g) for g in page.items]
        last = first + len(rows) - 1
        info = (
            f"{first:,}–{last:,} of {total:,}" if rows else f"No generations match (of {total:,})."
        )
        return rows, info, page.next_cursor

    def rows(self, project_id: int | None, task: str = ALL, emotion: str = ALL) -> list[list[Any]]:
        """The first page of table rows, newest first (task and emotion filters only)."""
        values = [task, emotion, ALL, ALL, "", "", "", ALL]
        return self.page(project_id, values)[0]

    def _row(self, g: GenerationInfo) -> list[Any]:
        duration = f"{g.media_seconds:.1f} s" if g.media_seconds else ""
        created = g.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        return [g.id, self.peek(g), g.task, g.backend, g.emotion or "", g.status, created,
                duration]  # fmt: skip

    def peek(self, g: GenerationInfo) -> str:
        """A small still (portrait, compose) and the first words of what was said or asked."""
        words = ""
        for key in ("text", "message", "prompt", "description"):
            value = g.request.get(key)
            if isinstance(value, str) and value.strip():
                parts = value.split()
                words = " ".join(parts[:8]) + (" …" if len(parts) > 8 else "")
                break
        thumb = self.thumbnail(g)
        image = f"![still](/gradio_api/file={thumb}) " if thumb else ""
        return image + md_escape(words)

    def thumbnail(self, g: GenerationInfo) -> str | None:
        """A small JPEG of the generation's stills (made once, kept beside its artifacts)."""
        if "stills" not in g.artifacts or g.status != "done":
            return None
        folder = self.store.artifacts.generation_dir(g.project_id, g.id)
        thumb = folder / "thumb.jpg"
        if not thumb.is_file():
            try:
                from PIL import Image

                with Image.open(self.store.artifact_path(g, "stills")) as still:
                    still = still.convert("RGB")
                    width = max(1, round(still.width * THUMB_HEIGHT / still.height))
                    small = still.resize((width, THUMB_HEIGHT))
                    buffer = io.BytesIO()
                    small.save(buffer, format="JPEG", quality=80)
                self.store.artifacts.write_bytes(g.project_id, g.id, "thumb", ".jpg",
                                                 buffer.getvalue())  # fmt: skip
            except (OSError, ValueError, StoreError):
                return None
        return str(thumb)

    def details(self, generation_id: int | None) -> Details | None:
        if generation_id is None:
            return None
        g = self.store.get_generation(int(generation_id))
        files = [str(self.store.artifact_path(g, name)) for name in sorted(g.artifacts)]
        audio = next((f for f in files if Path(f).suffix in AUDIO_SUFFIXES), None)
        video = next((f for f in files if Path(f).suffix in VIDEO_SUFFIXES), None)
        heading = (
            f"### Generation #{g.id} · {g.task} · {g.backend} v{g.backend_version} · {g.status}"
        )
        if g.parent_id:
            heading += f"\nRe-run/fork of #{g.parent_id}."
        if g.error:
            heading += f"\n\n**{g.status.capitalize()}:** {md_escape(g.error)}"
        timings: dict[str, Any] = {
            "created": g.created_at.isoformat(timespec="seconds"),
            "started": g.started_at.isoformat(timespec="seconds") if g.started_at else None,
            "finished": g.finished_at.isoformat(timespec="seconds") if g.finished_at else None,
            "compute_seconds": _round(g.compute_seconds),
            "media_seconds": _round(g.media_seconds),
            "real_time_factor": _round(g.rtf),
            "stages": {k: _round(v) for k, v in g.timings.items()},
        }
        return Details(
            heading=heading,
            request_json=json.dumps(g.request, indent=2, ensure_ascii=False),
            audio=audio,
            video=video,
            files=files,
            timings=timings,
        )

    def rerun(self, generation_id: int | None) -> int:
        gid = self._need_generation(generation_id)
        return self.services.generations.rerun(gid).generation_id

    def fork(self, generation_id: int | None, edited_json: str) -> int:
        gid = self._need_generation(generation_id)
        try:
            data = json.loads(edited_json or "")
        except json.JSONDecodeError as exc:
            raise PipelineError(
                f"The edited request is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}). Fix it and run the fork again."
            ) from None
        return self.services.generations.fork(gid, data).generation_id

    def cancel(self, generation_id: int | None) -> str:
        gid = self._need_generation(generation_id)
        if self.services.generations.cancel(gid):
            return f"Cancelling generation #{gid}…"
        return f"Generation #{gid} is not running."

    def delete_generation(self, generation_id: int | None) -> str:
        gid = self._need_generation(generation_id)
        self.services.generations.cancel(gid)
        self.services.generations.delete_generation(gid)
        return f"Deleted generation #{gid} and its files."

    def _need_project(self, project_id: int | None) -> int:
        if project_id is None:
            raise StoreError("Choose a project first.")
        return int(project_id)

    @staticmethod
    def _need_generation(generation_id: int | None) -> int:
        if generation_id is None:
            raise StoreError("Select a generation in the table first.")
        return int(generation_id)


def project_choices(services: Services) -> list[tuple[str, int]]:
    """(label, id) pairs for the app-wide project picker."""
    return [(f"{p.name} ({p.generation_count})", p.id) for p in services.store.list_projects()]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
