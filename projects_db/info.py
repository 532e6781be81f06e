"""Plain, immutable records returned by :class:`projects_db.Store`.

They carry no database state, so callers can keep and pass them around freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

GENERATION_STATUSES = ("queued", "running", "done", "failed", "cancelled")
"""Every status a generation can have, in lifecycle order."""

ACTIVE_STATUSES = ("queued", "running")
"""Statuses of generations that have not finished yet."""

FINISHED_STATUSES = ("done", "failed", "cancelled")
"""Statuses accepted by :meth:`projects_db.Store.mark_finished`."""


@dataclass(frozen=True)
class ProjectInfo:
    """A project: a named folder of generations."""

    id: int
    name: str
    """Display name, exactly as typed (stripped and NFC-normalised)."""
    created_at: datetime
    updated_at: datetime
    """Last rename or last generation created in the project (UTC)."""
    generation_count: int


@dataclass(frozen=True)
class AssetInfo:
    """An input file (photo, speech, ...) stored once by content hash."""

    id: int
    sha256: str
    original_name: str
    """The uploaded file's name, for display only; never used as a path."""
    size: int
    """Size in bytes."""
    path: Path
    """Absolute path of the stored copy under ``data_dir/assets``."""
    created_at: datetime


@dataclass(frozen=True)
class GenerationInfo:
    """One run of a pipeline: its exact settings, status, outputs and measurements."""

    id: int
    project_id: int
    task: str
    backend: str
    backend_version: str
    request: dict[str, Any]
    """The pipeline request as a plain JSON object."""
    seed: int
    emotion: str | None
    status: str
    """One of :data:`GENERATION_STATUSES`."""
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    compute_seconds: float | None
    media_seconds: float | None
    artifacts: dict[str, str]
    """Artifact name -> path relative to the data directory (posix)."""
    timings: dict[str, float]
    """Stage name -> seconds."""
    metadata: dict[str, Any]
    """Result metadata and measurements (free-form JSON)."""
    parent_id: int | None
    """The generation this one re-runs or forks, if any (``None`` once that one is deleted)."""
    runner_id: str | None
    """The studio process that queued or runs it."""

    @property
    def rtf(self) -> float | None:
        """Real-time factor: compute seconds per second of produced media."""
        if self.compute_seconds is None or not self.media_seconds:
            return None
        return self.compute_seconds / self.media_seconds
