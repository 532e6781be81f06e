"""Studies of :class:`projects_db.Store`: participants, their ordered trials, and answers saved
the moment they are given (a reload or a killed server resumes at the first unanswered trial)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from projects_db._base import StoreBase
from projects_db.errors import NotFound, StoreError
from projects_db.models import dump_json, utcnow
from projects_db.stimulus_models import StimulusItem, StimulusSet
from projects_db.study_models import Participant, Study, Trial

TrialItems = int | Sequence[int]
"""A trial's stimulus: one item id, or the ids a multi-stimulus trial shows in order."""


@dataclass(frozen=True)
class StudyInfo:
    id: int
    set_id: int
    name: str
    design: str
    seed: int
    config: dict[str, Any]
    created_at: datetime
    participant_codes: list[str]


@dataclass(frozen=True)
class TrialRow:
    """One trial with what the analysis needs (never shown to a participant as such)."""

    trial_id: int
    participant: str
    external: bool
    position: int
    item_id: int
    item_position: int
    factors: dict[str, Any]
    generation_id: int | None
    response: Any
    rt_ms: int | None
    played_ms: int | None = None
    served_at: datetime | None = None
    check: Any = None
    """What a quality-control trial expects: an attention check's answer, or ``{"gold": …}``
    for a gold item (None for an ordinary trial)."""
    shown: tuple[int, ...] | None = None
    """The item ids of a multi-stimulus trial (A/B, MUSHRA) in the order shown (else None)."""


class StudiesMixin(StoreBase):
    def create_study(
        self,
        set_id: int,
        *,
        name: str,
        design: str,
        seed: int,
        config: Mapping[str, Any],
        participants: Iterable[tuple[str, Sequence[TrialItems]]],
        checks: Mapping[str, Mapping[int, Any]] | None = None,
    ) -> StudyInfo:
        """A study over a stimulus set, with each participant's ordered trials (an item id, or
        the item ids a multi-stimulus trial shows); ``checks`` maps a participant's trial
        positions to what their quality-control trials expect."""
        with self._writing() as session:
            if session.get(StimulusSet, set_id) is None:
                raise NotFound(f"Stimulus set {set_id} does not exist")
            study = Study(set_id=set_id, name=" ".join(name.split())[:120] or "Study",
                          design=design, seed=int(seed), config_json=dump_json(dict(config)),
                          created_at=utcnow())  # fmt: skip
            session.add(study)
            session.flush()
            for code, items in participants:
                _add_participant(session, study.id, code, False, items, (checks or {}).get(code))
            return _info(session, study)

    def add_participant(
        self, study_id: int, code: str, items: Sequence[TrialItems], *, external: bool = False
    ) -> None:
        try:
            with self._writing() as session:
                if session.get(Study, study_id) is None:
                    raise NotFound(f"Study {study_id} does not exist")
                _add_participant(session, study_id, code, external, items)
        except IntegrityError as exc:
            raise StoreError(f"Participant code {code!r} is already in use") from exc

    def get_study(self, study_id: int) -> StudyInfo:
        with self._reading() as session:
            study = session.get(Study, study_id)
            if study is None:
                raise NotFound(f"Study {study_id} does not exist (it may have been deleted)")
            return _info(session, study)

    def list_studies(self, set_id: int | None = None) -> list[StudyInfo]:
        query = select(Study).order_by(Study.id.desc())
        if set_id is not None:
            query = query.where(Study.set_id == set_id)
        with self._reading() as session:
            return [_info(session, s) for s in session.scalars(query).all()]

    def study_of_participant(self, code: str) -> int | None:
        with self._reading() as session:
            return session.scalar(select(Participant.study_id).where(Participant.code == code))

    def study_rows(self, study_id: int, participant: str | None = None) -> list[TrialRow]:
        """Every trial of a study (or of one participant), in participant and trial order."""
        query = (
            select(Trial, Participant, StimulusItem)
            .join(Participant, Participant.id == Trial.participant_id)
            .join(StimulusItem, StimulusItem.id == Trial.item_id)
            .where(Participant.study_id == study_id)
            .order_by(Participant.id, Trial.position)
        )
        if participant is not None:
            query = query.where(Participant.code == participant)
        with self._reading() as session:
            return [
                TrialRow(
                    trial_id=t.id,
                    participant=p.code,
                    external=p.external,
                    position=t.position,
                    item_id=i.id,
                    item_position=i.position,
                    factors=json.loads(i.factors_json),
                    generation_id=i.generation_id,
                    response=None if t.response_json is None else json.loads(t.response_json),
                    rt_ms=t.rt_ms,
                    played_ms=t.played_ms,
                    served_at=t.served_at,
                    check=None if t.check_json is None else json.loads(t.check_json),
                    shown=None if t.items_json is None else tuple(json.loads(t.items_json)),
                )
                for t, p, i in session.execute(query).all()
            ]

    def answer_trial(
        self,
        trial_id: int,
        response: Any,
        rt_ms: int | None = None,
        played_ms: int | None = None,
    ) -> bool:
        """Save an answer at once; False (nothing changed) when the trial was answered before."""
        statement = (
            update(Trial)
            .where(Trial.id == trial_id, Trial.response_json.is_(None))
            .values(
                response_json=dump_json(response),
                rt_ms=rt_ms,
                played_ms=played_ms,
                answered_at=utcnow(),
            )
        )
        with self._writing() as session:
            if session.get(Trial, trial_id) is None:
                raise NotFound(f"Trial {trial_id} does not exist")
            return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def mark_served(self, trial_id: int) -> datetime:
        """Record (once) when a trial's stimulus was first sent; returns that moment."""
        with self._writing() as session:
            trial = session.get(Trial, trial_id)
            if trial is None:
                raise NotFound(f"Trial {trial_id} does not exist")
            if trial.served_at is None:
                trial.served_at = utcnow()
            return trial.served_at


def _add_participant(
    session: Session,
    study_id: int,
    code: str,
    external: bool,
    items: Sequence[TrialItems],
    checks: Mapping[int, Any] | None = None,
) -> None:
    person = Participant(study_id=study_id, code=code, external=external, created_at=utcnow())
    session.add(person)
    session.flush()
    checks = checks or {}
    session.add_all(
        Trial(
            participant_id=person.id,
            position=i,
            item_id=item if isinstance(item, int) else item[0],
            check_json=dump_json(checks[i]) if i in checks else None,
            items_json=None if isinstance(item, int) else dump_json(list(item)),
        )
        for i, item in enumerate(items)
    )


def _info(session: Session, study: Study) -> StudyInfo:
    codes = session.scalars(
        select(Participant.code).where(Participant.study_id == study.id).order_by(Participant.id)
    ).all()
    return StudyInfo(
        study.id, study.set_id, study.name, study.design, study.seed,
        json.loads(study.config_json), study.created_at, list(codes),
    )  # fmt: skip
