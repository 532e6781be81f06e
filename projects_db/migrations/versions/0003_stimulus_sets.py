"""Stimulus sets (grids of generations) and their items.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stimulus_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("backend", sa.String(64), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stimulus_sets")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_stimulus_sets_project_id_projects"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_stimulus_sets_project_id"), "stimulus_sets", ["project_id"])
    op.create_table(
        "stimulus_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("factors_json", sa.Text(), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("included", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stimulus_items")),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["stimulus_sets.id"],
            name=op.f("fk_stimulus_items_set_id_stimulus_sets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_stimulus_items_generation_id_generations"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("set_id", "position", name=op.f("uq_stimulus_items_set_id")),
    )
    op.create_index(op.f("ix_stimulus_items_generation_id"), "stimulus_items", ["generation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_stimulus_items_generation_id"), table_name="stimulus_items")
    op.drop_table("stimulus_items")
    op.drop_index(op.f("ix_stimulus_sets_project_id"), table_name="stimulus_sets")
    op.drop_table("stimulus_sets")
