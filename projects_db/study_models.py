"""ORM models of studies, their participants, trials and responses (migration 0004)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from projects_db.models import Base, UTCDateTime, never_reused


class Study(Base):
    __tablename__ = "studies"
    __table_args__ = (Index("ix_studies_set_id", "set_id"), never_reused())

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(
        ForeignKey("stimulus_sets.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    design: Mapped[str] = mapped_column(String(32), nullable=False)
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    config_json: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (Index("ix_participants_study_id", "study_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(
        ForeignKey("studies.id", ondelete="CASCADE"), nullable=False
    )
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    external: Mapped[bool] = mapped_column(Boolean, nullable=False)
    """Imported (e.g. a Prolific id) rather than made here."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class Trial(Base):
    __tablename__ = "trials"
    __table_args__ = (Index("ix_trials_participant_id", "participant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("stimulus_items.id", ondelete="CASCADE"), nullable=False
    )
    check_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    """What a quality-control trial expects: an attention check's answer (the trial then asks
    for it) or ``{"gold": answer}`` for a gold item; None for an ordinary trial."""
    items_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The item ids a multi-stimulus trial (A/B pair, MUSHRA page) shows, in the order shown;
    None for a one-stimulus trial (``item_id`` alone)."""
    response_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    rt_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    played_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    served_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the participant's page first fetched the stimulus (answers before it has had time
    to play through are refused)."""
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
