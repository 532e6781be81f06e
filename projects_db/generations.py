"""Generation operations of :class:`projects_db.Store`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from projects_db.assets import AssetRefsMixin
from projects_db.errors import NotFound, StoreError
from projects_db.info import ACTIVE_STATUSES, FINISHED_STATUSES, GENERATION_STATUSES, GenerationInfo
from projects_db.models import Generation, Project, dump_json, utcnow
from projects_db.search import search_text

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def to_info(row: Generation) -> GenerationInfo:
    return GenerationInfo(
        id=row.id,
        project_id=row.project_id,
        task=row.task,
        backend=row.backend,
        backend_version=row.backend_version,
        request=json.loads(row.request_json),
        seed=row.seed,
        emotion=row.emotion,
        status=row.status,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        compute_seconds=row.compute_seconds,
        media_seconds=row.media_seconds,
        artifacts=json.loads(row.artifacts_json),
        timings=json.loads(row.timings_json),
        metadata=json.loads(row.metadata_json),
        parent_id=row.parent_id,
        runner_id=row.runner_id,
    )


def _text(value: object, what: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise StoreError(f"{what} must be non-empty text of at most {max_length} characters")
    return value


def _json(value: object, what: str) -> str:
    if not isinstance(value, dict):
        raise StoreError(f"{what} must be a JSON object (dict), got {type(value).__name__}")
    try:
        return dump_json(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what} cannot be stored as JSON: {exc}") from exc


def _seconds(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StoreError(f"{what} must be a finite number of seconds, got {value!r}")
    return float(value)


def _get(session: Session, generation_id: int, *, for_update: bool = False) -> Generation:
    query = select(Generation).where(Generation.id == generation_id)
    row = session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(f"Generation {generation_id} does not exist (it may have been deleted)")
    return row


class GenerationsMixin(AssetRefsMixin):
    def create_generation(
        self,
        project_id: int,
        *,
        task: str,
        backend: str,
        backend_version: str,
        request: dict[str, Any],
        seed: int,
        emotion: str | None,
        parent_id: int | None = None,
    ) -> GenerationInfo:
        """Record a new generation in status ``queued`` (owned by this store's runner, if any)."""
        if (
            isinstance(seed, bool)
            or not isinstance(seed, int)
            or not _INT64_MIN <= seed <= _INT64_MAX
        ):
            raise StoreError(f"Seed must be a whole number that fits in 64 bits, got {seed!r}")
        if emotion is not None:
            emotion = _text(emotion, "Emotion", 32)
        now = utcnow()
        row = Generation(
            project_id=project_id,
            task=_text(task, "Task", 32),
            backend=_text(backend, "Backend name", 64),
            backend_version=_text(backend_version, "Backend version", 64),
            request_json=_json(request, "Request"),
            seed=seed,
            emotion=emotion,
            status="queued",
            created_at=now,
            artifacts_json="{}",
            timings_json="{}",
            metadata_json="{}",
            parent_id=parent_id,
            runner_id=self.runner_id,
            search_text=search_text(request),
        )
        gone = NotFound(f"Project {project_id} does not exist (it may have been deleted)")
        try:
            with self._writing() as session:
                project = session.get(Project, project_id)
                if project is None:
                    raise gone
                if parent_id is not None and session.get(Generation, parent_id) is None:
                    raise NotFound(f"Parent generation {parent_id} does not exist")
                project.updated_at = now
                session.add(row)
                session.flush()
                return to_info(row)
        except (IntegrityError, StaleDataError) as exc:  # deleted concurrently (PostgreSQL)
            raise gone from exc

    def mark_running(self, generation_id: int, runner_id: str) -> GenerationInfo:
        """Move a queued generation to ``running`` under ``runner_id``."""
        runner_id = _text(runner_id, "Runner id", 32)
        with self._writing() as session:
            row = _get(session, generation_id, for_update=True)
            if row.status != "queued":
                raise StoreError(
                    f"Generation {generation_id} is {row.status}, not queued — it cannot start"
                )
            row.status, row.runner_id, row.started_at = "running", runner_id, utcnow()
            session.flush()
            return to_info(row)

    def mark_finished(
        self,
        generation_id: int,
        status: str,
        *,
        error: str | None = None,
        compute_seconds: float | None = None,
        media_seconds: float | None = None,
        artifacts: dict[str, str] | None = None,
        timings: dict[str, float] | None = None,
        metadata: dict[str, Any] | None = None,
        emotion: str | None = None,
    ) -> GenerationInfo:
        """Finish a queued or running generation as ``done``, ``failed`` or ``cancelled``.

        ``emotion``, when given, replaces the label recorded at creation (the emotion the run
        actually used, e.g. the one voice "auto" read from the text); the request is kept."""
        if status not in FINISHED_STATUSES:
            raise StoreError(f"Finished status must be one of {FINISHED_STATUSES}, got {status!r}")
        updates: dict[str, Any] = {
            "compute_seconds": _seconds(compute_seconds, "Compute time"),
            "media_seconds": _seconds(media_seconds, "Media duration"),
        }
        if artifacts is not None:
            for name, rel in _json_dict(artifacts, "Artifacts").items():
                if not isinstance(rel, str):
                    raise StoreError(f"Artifact {name!r} must be a relative path string")
                self.artifacts.resolve(rel)
            updates["artifacts_json"] = _json(artifacts, "Artifacts")
        if timings is not None:
            clean = {
                str(k): _seconds(v, f"Timing {k!r}")
                for k, v in _json_dict(timings, "Timings").items()
            }
            updates["timings_json"] = _json(clean, "Timings")
        if metadata is not None:
            updates["metadata_json"] = _json(metadata, "Metadata")
        if emotion is not None:
            updates["emotion"] = _text(emotion, "Emotion", 32)
        with self._writing() as session:
            row = _get(session, generation_id, for_update=True)
            if row.status not in ACTIVE_STATUSES:
                raise StoreError(f"Generation {generation_id} already finished ({row.status})")
            row.status, row.error, row.finished_at = status, error, utcnow()
            for key, value in updates.items():
                setattr(row, key, value)
            session.flush()
            return to_info(row)

    def get_generation(self, generation_id: int) -> GenerationInfo:
        """One generation; :class:`NotFound` when it does not exist."""
        with self._reading() as session:
            return to_info(_get(session, generation_id))

    def list_generations(
        self,
        project_id: int,
        *,
        task: str | None = None,
        emotion: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[GenerationInfo]:
        """A project's generations, newest first, optionally filtered."""
        if status is not None and status not in GENERATION_STATUSES:
            raise StoreError(f"Status must be one of {GENERATION_STATUSES}, got {status!r}")
        query = select(Generation).where(Generation.project_id == project_id)
        if task is not None:
            query = query.where(Generation.task == task)
        if emotion is not None:
            query = query.where(Generation.emotion == emotion)
        if status is not None:
            query = query.where(Generation.status == status)
        query = query.order_by(Generation.created_at.desc(), Generation.id.desc())
        if limit is not None:
            query = query.limit(max(0, limit))
        with self._reading() as session:
            return [to_info(row) for row in session.scalars(query)]

    def active_generations(
        self, *, project_id: int | None = None, generation_id: int | None = None
    ) -> list[int]:
        """Ids of queued or running generations, of one project or just one generation."""
        query = select(Generation.id).where(Generation.status.in_(ACTIVE_STATUSES))
        if project_id is not None:
            query = query.where(Generation.project_id == project_id)
        if generation_id is not None:
            query = query.where(Generation.id == generation_id)
        with self._reading() as session:
            return list(session.scalars(query.order_by(Generation.id)).all())

    def delete_generation(self, generation_id: int) -> None:
        """Delete a generation and its files; generations forked from it keep existing."""
        assets = self.assets_of_generations([generation_id])
        with self._writing() as session:
            row = _get(session, generation_id)
            project_id = row.project_id
            session.execute(delete(Generation).where(Generation.id == generation_id))
        self.artifacts.remove_generation(project_id, generation_id)
        self.release_assets(assets)

    def artifact_path(self, generation: GenerationInfo, name: str) -> Path:
        """Absolute path of one of a generation's artifacts, verified inside the data dir."""
        relative = generation.artifacts.get(name)
        if relative is None:
            known = ", ".join(sorted(generation.artifacts)) or "none"
            raise NotFound(f"Generation {generation.id} has no artifact {name!r} (it has: {known})")
        return self.artifacts.resolve(relative)


def _json_dict(value: object, what: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise StoreError(f"{what} must be a dict, got {type(value).__name__}")
    return value
