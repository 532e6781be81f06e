"""Initial schema: projects, assets, generations, generation_assets.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the statuses at this revision; later changes need their own migration.
_STATUSES = ("queued", "running", "done", "failed", "cancelled")


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(255), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name_key", name=op.f("uq_projects_name_key")),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("rel_path", sa.String(512), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("sha256", name=op.f("uq_assets_sha256")),
    )
    statuses = ", ".join(f"'{status}'" for status in _STATUSES)
    op.create_table(
        "generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("backend", sa.String(64), nullable=False),
        sa.Column("backend_version", sa.String(64), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("emotion", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        sa.Column("compute_seconds", sa.Float(), nullable=True),
        sa.Column("media_seconds", sa.Float(), nullable=True),
        sa.Column("artifacts_json", sa.Text(), nullable=False),
        sa.Column("timings_json", sa.Text(), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("runner_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_generations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["generations.id"],
            name=op.f("fk_generations_parent_id_generations"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(f"status IN ({statuses})", name=op.f("ck_generations_status")),
    )
    op.create_index(
        op.f("ix_generations_project_id_created_at"), "generations", ["project_id", "created_at"]
    )
    op.create_index(op.f("ix_generations_status"), "generations", ["status"])
    op.create_index(op.f("ix_generations_task"), "generations", ["task"])
    op.create_index(op.f("ix_generations_emotion"), "generations", ["emotion"])
    op.create_table(
        "generation_assets",
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("generation_id", "role", name=op.f("pk_generation_assets")),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_generation_assets_generation_id_generations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_generation_assets_asset_id_assets"),
            ondelete="RESTRICT",
        ),
    )


def downgrade() -> None:
    op.drop_table("generation_assets")
    op.drop_index("ix_generations_emotion", table_name="generations")
    op.drop_index("ix_generations_task", table_name="generations")
    op.drop_index("ix_generations_status", table_name="generations")
    op.drop_index("ix_generations_project_id_created_at", table_name="generations")
    op.drop_table("generations")
    op.drop_table("assets")
    op.drop_table("projects")
