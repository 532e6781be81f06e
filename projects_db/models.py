"""SQLAlchemy ORM models.  The Alembic migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from projects_db.info import GENERATION_STATUSES

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def dump_json(value: Any) -> str:
    """Serialise ``value`` the way every JSON column is stored."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite has no time zones: values are stored as naive UTC and tagged UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def never_reused() -> dict[str, bool]:
    """Table options for tables whose ids name folders or are cited outside the database
    (artifact folders ``p<id>``/``g<id>``, exports, manifests, CLI ids): projects, generations,
    stimulus sets, studies and conversations.  SQLite's AUTOINCREMENT: a deleted row's id is
    never handed out again.  (PostgreSQL's sequences never reuse ids anyway.)"""
    return {"sqlite_autoincrement": True}


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = never_reused()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    name_key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rel_path: Mapped[str] = mapped_column(String(512), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


_STATUS_SQL = ", ".join(f"'{status}'" for status in GENERATION_STATUSES)


class Generation(Base):
    __tablename__ = "generations"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_SQL})", name="status"),
        Index("ix_generations_project_id_created_at", "project_id", "created_at"),
        Index("ix_generations_status", "status"),
        Index("ix_generations_task", "task"),
        Index("ix_generations_emotion", "emotion"),
        # the Library's pages: newest first within a project, alone or with one filter
        Index("ix_generations_project_page", "project_id", "created_at", "id"),
        Index("ix_generations_project_task", "project_id", "task", "created_at", "id"),
        Index("ix_generations_project_emotion", "project_id", "emotion", "created_at", "id"),
        Index("ix_generations_project_status", "project_id", "status", "created_at", "id"),
        Index("ix_generations_project_backend", "project_id", "backend", "created_at", "id"),
        Index("ix_generations_parent_id", "parent_id"),
        never_reused(),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    task: Mapped[str] = mapped_column(String(32), nullable=False)
    backend: Mapped[str] = mapped_column(String(64), nullable=False)
    backend_version: Mapped[str] = mapped_column(String(64), nullable=False)
    request_json: Mapped[str] = mapped_column(Text, nullable=False)
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    emotion: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    compute_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    media_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    artifacts_json: Mapped[str] = mapped_column(Text, nullable=False)
    timings_json: Mapped[str] = mapped_column(Text, nullable=False)
    metadata_json: Mapped[str] = mapped_column(Text, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("generations.id", ondelete="SET NULL"), nullable=True
    )
    runner_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    search_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The request's words (text, prompts, file names), lower case, for the Library's search."""


class GenerationAsset(Base):
    __tablename__ = "generation_assets"

    generation_id: Mapped[int] = mapped_column(
        ForeignKey("generations.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="RESTRICT"), nullable=False
    )
