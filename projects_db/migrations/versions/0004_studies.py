"""Studies over stimulus sets: participants and their trials (with answers).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("design", sa.String(32), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        _fk("studies", "set_id", "stimulus_sets"),
    )
    op.create_index(op.f("ix_studies_set_id"), "studies", ["set_id"])
    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        _fk("participants", "study_id", "studies"),
        sa.UniqueConstraint("code", name=op.f("uq_participants_code")),
    )
    op.create_index(op.f("ix_participants_study_id"), "participants", ["study_id"])
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("check_json", sa.Text(), nullable=True),
        sa.Column("response_json", sa.Text(), nullable=True),
        sa.Column("rt_ms", sa.Integer(), nullable=True),
        sa.Column("played_ms", sa.Integer(), nullable=True),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trials")),
        _fk("trials", "participant_id", "participants"),
        _fk("trials", "item_id", "stimulus_items"),
    )
    op.create_index(op.f("ix_trials_participant_id"), "trials", ["participant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_trials_participant_id"), table_name="trials")
    op.drop_table("trials")
    op.drop_index(op.f("ix_participants_study_id"), table_name="participants")
    op.drop_table("participants")
    op.drop_index(op.f("ix_studies_set_id"), table_name="studies")
    op.drop_table("studies")
