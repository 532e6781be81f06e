"""Stimulus sets of :class:`projects_db.Store`: a grid's items, each pointing at the generation
that made it (items are ordinary generations; the Library shows them)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from projects_db._base import StoreBase
from projects_db.errors import NotFound, StoreError
from projects_db.models import Generation, Project, dump_json, utcnow
from projects_db.stimulus_models import StimulusItem, StimulusSet


@dataclass(frozen=True)
class StimulusSetInfo:
    id: int
    project_id: int
    name: str
    task: str
    backend: str
    spec: dict[str, Any]
    created_at: datetime
    item_count: int


@dataclass(frozen=True)
class StimulusItemInfo:
    id: int
    set_id: int
    position: int
    factors: dict[str, Any]
    request: dict[str, Any]
    seed: int
    included: bool
    attempts: int
    generation_id: int | None
    status: str | None
    """Status of the item's generation (None: not made yet, or its generation was deleted)."""


@dataclass(frozen=True)
class NewItem:
    position: int
    factors: Mapping[str, Any]
    request: Mapping[str, Any]
    seed: int


class StimuliMixin(StoreBase):
    def create_stimulus_set(
        self,
        project_id: int,
        *,
        name: str,
        task: str,
        backend: str,
        spec: Mapping[str, Any],
        items: Iterable[NewItem],
    ) -> StimulusSetInfo:
        """Record a set and all its (not yet made) items in one transaction."""
        with self._writing() as session:
            if session.get(Project, project_id) is None:
                raise NotFound(f"Project {project_id} does not exist (it may have been deleted)")
            row = StimulusSet(
                project_id=project_id, name=" ".join(name.split())[:120] or "Stimulus set",
                task=task, backend=backend, spec_json=dump_json(dict(spec)), created_at=utcnow(),
            )  # fmt: skip
            session.add(row)
            session.flush()
            session.add_all(
                StimulusItem(
                    set_id=row.id,
                    position=i.position,
                    factors_json=dump_json(dict(i.factors)),
                    request_json=dump_json(dict(i.request)),
                    seed=i.seed,
                    included=True,
                    attempts=0,
                )
                for i in items
            )
            session.flush()
            return _set_info(session, row)

    def get_stimulus_set(self, set_id: int) -> StimulusSetInfo:
        with self._reading() as session:
            return _set_info(session, _get(session, set_id))

    def list_stimulus_sets(self, project_id: int | None = None) -> list[StimulusSetInfo]:
        """Sets, newest first."""
        query = select(StimulusSet).order_by(StimulusSet.id.desc())
        if project_id is not None:
            query = query.where(StimulusSet.project_id == project_id)
        with self._reading() as session:
            return [_set_info(session, s) for s in session.scalars(query).all()]

    def stimulus_items(self, set_id: int) -> list[StimulusItemInfo]:
        """A set's items in grid order, with their generations' status."""
        query = (
            select(StimulusItem, Generation.status)
            .outerjoin(Generation, Generation.id == StimulusItem.generation_id)
            .where(StimulusItem.set_id == set_id)
            .order_by(StimulusItem.position)
        )
        with self._reading() as session:
            _get(session, set_id)
            return [_item_info(item, status) for item, status in session.execute(query).all()]

    def attach_item_generation(self, item_id: int, generation_id: int) -> None:
        """Point an item at the generation now making it (counts an attempt)."""
        with self._writing() as session:
            item = session.get(StimulusItem, item_id)
            if item is None:
                raise NotFound(f"Stimulus item {item_id} does not exist")
            item.generation_id = generation_id
            item.attempts += 1

    def reseed_item(self, item_id: int, request: Mapping[str, Any], seed: int) -> None:
        """Give an item a new request (another seed) to be made again; its old generation
        stays in the Library."""
        with self._writing() as session:
            item = session.get(StimulusItem, item_id)
            if item is None:
                raise NotFound(f"Stimulus item {item_id} does not exist")
            item.request_json, item.seed = dump_json(dict(request)), int(seed)
            item.generation_id, item.attempts = None, 0

    def get_stimulus_item(self, item_id: int) -> StimulusItemInfo:
        query = (
            select(StimulusItem, Generation.status)
            .outerjoin(Generation, Generation.id == StimulusItem.generation_id)
            .where(StimulusItem.id == item_id)
        )
        with self._reading() as session:
            row = session.execute(query).first()
        if row is None:
            raise NotFound(f"Stimulus item {item_id} does not exist")
        return _item_info(row[0], row[1])

    def set_item_included(self, item_id: int, included: bool) -> None:
        statement = update(StimulusItem).where(StimulusItem.id == item_id)
        with self._writing() as session:
            if session.execute(statement.values(included=bool(included))).rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"Stimulus item {item_id} does not exist")


def _get(session: Session, set_id: int) -> StimulusSet:
    row = session.get(StimulusSet, set_id)
    if row is None:
        raise NotFound(f"Stimulus set {set_id} does not exist (it may have been deleted)")
    return row


def _set_info(session: Session, row: StimulusSet) -> StimulusSetInfo:
    count = session.scalar(select(func.count()).where(StimulusItem.set_id == row.id)) or 0
    try:
        spec = json.loads(row.spec_json)
    except json.JSONDecodeError as exc:
        raise StoreError(f"Stimulus set {row.id} has a damaged spec") from exc
    return StimulusSetInfo(
        row.id, row.project_id, row.name, row.task, row.backend, spec, row.created_at, int(count)
    )


def _item_info(item: StimulusItem, status: str | None) -> StimulusItemInfo:
    return StimulusItemInfo(
        id=item.id, set_id=item.set_id, position=item.position,
        factors=json.loads(item.factors_json), request=json.loads(item.request_json),
        seed=item.seed, included=item.included, attempts=item.attempts,
        generation_id=item.generation_id, status=status,
    )  # fmt: skip
