"""The Library's queries at scale: filtered pages by keyset (newest first by ``(created_at,
id)``, so page 1000 costs what page 1 does), counts, streaming over every match, and recording
many generations in one transaction."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, or_, select
from sqlalchemy.sql import Select

from projects_db._base import StoreBase
from projects_db.errors import NotFound, StoreError
from projects_db.generations import to_info
from projects_db.info import GENERATION_STATUSES, GenerationInfo
from projects_db.models import Generation, Project, dump_json, utcnow
from projects_db.search import like_pattern, search_text
from projects_db.stimulus_models import StimulusItem

MAX_PAGE = 500


@dataclass(frozen=True)
class GenerationFilter:
    """Which of a project's generations to show; every given field must match."""

    project_id: int
    task: str | None = None
    emotion: str | None = None
    status: str | None = None
    backend: str | None = None
    text: str | None = None
    """Words anywhere in the request (case-insensitive)."""
    since: datetime | None = None
    until: datetime | None = None
    """Created at or after ``since`` and before ``until``."""
    stimulus_set: int | None = None
    ids: Sequence[int] | None = None
    """Only these generations (a selection)."""

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in GENERATION_STATUSES:
            raise StoreError(f"Status must be one of {GENERATION_STATUSES}, got {self.status!r}")
        if self.since and self.until and self.since >= self.until:
            raise StoreError("The date range is empty: 'from' must be before 'to'.")


@dataclass(frozen=True)
class Page:
    items: list[GenerationInfo]
    next_cursor: str | None
    """Pass to :meth:`LibraryMixin.page_generations` for the next (older) page."""
    cursor: str | None = None
    """The cursor this page was read after (None for the first page)."""
    extra: dict[str, Any] = field(default_factory=dict)


def encode_cursor(created_at: datetime, row_id: int) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.rsplit("|", 1)
        return datetime.fromisoformat(stamp), int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise StoreError(
            "That page link is not valid any more — start from the first page."
        ) from None


@dataclass(frozen=True)
class NewGeneration:
    """One generation for :meth:`LibraryMixin.create_generations`."""

    task: str
    backend: str
    backend_version: str
    request: dict[str, Any]
    seed: int
    emotion: str | None = None
    parent_id: int | None = None


class LibraryMixin(StoreBase):
    def _where(self, f: GenerationFilter) -> list[ColumnElement[bool]]:
        where = [Generation.project_id == f.project_id]
        for column, value in (
            (Generation.task, f.task),
            (Generation.emotion, f.emotion),
            (Generation.status, f.status),
            (Generation.backend, f.backend),
        ):
            if value is not None:
                where.append(column == value)
        if f.text and f.text.strip():
            where.append(Generation.search_text.like(like_pattern(f.text.strip()), escape="\\"))
        if f.since is not None:
            where.append(Generation.created_at >= f.since)
        if f.until is not None:
            where.append(Generation.created_at < f.until)
        if f.stimulus_set is not None:
            members = select(StimulusItem.generation_id).where(
                StimulusItem.set_id == f.stimulus_set
            )
            where.append(Generation.id.in_(members))
        if f.ids is not None:
            where.append(Generation.id.in_([int(i) for i in f.ids]))
        return where

    def _ordered(self, f: GenerationFilter, cursor: str | None) -> Select[Any]:
        where = self._where(f)
        if cursor:
            stamp, row_id = decode_cursor(cursor)
            where.append(
                or_(
                    Generation.created_at < stamp,
                    and_(Generation.created_at == stamp, Generation.id < row_id),
                )
            )
        return (
            select(Generation)
            .where(*where)
            .order_by(Generation.created_at.desc(), Generation.id.desc())
        )

    def page_generations(
        self, f: GenerationFilter, *, limit: int = 50, cursor: str | None = None, offset: int = 0
    ) -> Page:
        """One page of matches, newest first, after ``cursor`` (a previous page's
        ``next_cursor``; None for the first page), skipping ``offset`` more (the CLI's
        ``--offset``; the cursor is what keeps deep pages fast)."""
        limit = max(1, min(int(limit), MAX_PAGE))
        query = self._ordered(f, cursor).limit(limit + 1).offset(max(0, int(offset)))
        with self._reading() as session:
            rows = list(session.scalars(query))
            items = [to_info(r) for r in rows[:limit]]
        more = len(rows) > limit
        last = items[-1] if items else None
        following = encode_cursor(last.created_at, last.id) if more and last else None
        return Page(items, following, cursor)

    def count_generations(self, f: GenerationFilter) -> int:
        with self._reading() as session:
            query = select(func.count()).select_from(Generation).where(*self._where(f))
            return int(session.scalar(query) or 0)

    def iter_generations(
        self, f: GenerationFilter, *, batch: int = 200
    ) -> Iterator[GenerationInfo]:
        """Every match, newest first, read a batch at a time (memory stays flat)."""
        cursor: str | None = None
        while True:
            page = self.page_generations(f, limit=batch, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def matching_ids(self, f: GenerationFilter) -> list[int]:
        with self._reading() as session:
            query = select(Generation.id).where(*self._where(f)).order_by(Generation.id)
            return list(session.scalars(query))

    def backends_in(self, project_id: int) -> list[str]:
        """The backends a project's generations used (for the Library's filter)."""
        with self._reading() as session:
            query = (
                select(Generation.backend)
                .where(Generation.project_id == project_id)
                .distinct()
                .order_by(Generation.backend)
            )
            return list(session.scalars(query))

    def create_generations(self, project_id: int, items: Iterable[NewGeneration]) -> int:
        """Record many queued generations in one transaction (a stimulus grid, an import);
        returns how many. Faster than :meth:`create_generation` one by one."""
        now = utcnow()
        rows = [
            {
                "project_id": project_id, "task": g.task, "backend": g.backend,
                "backend_version": g.backend_version, "request_json": dump_json(g.request),
                "seed": int(g.seed), "emotion": g.emotion, "status": "queued",
                "created_at": now, "artifacts_json": "{}", "timings_json": "{}",
                "metadata_json": "{}", "parent_id": g.parent_id, "runner_id": self.runner_id,
                "search_text": search_text(g.request),
            }
            for g in items
        ]  # fmt: skip
        if not rows:
            return 0
        with self._writing() as session:
            project = session.get(Project, project_id)
            if project is None:
                raise NotFound(f"Project {project_id} does not exist (it may have been deleted)")
            project.updated_at = now
            session.execute(insert(Generation), rows)
        return len(rows)
