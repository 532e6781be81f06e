"""Dialogue conversations and their turns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("persona_json", sa.Text(), nullable=False),
        sa.Column("backend", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_conversations_project_id_projects"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_conversations_project_id"), "conversations", ["project_id"])
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("user_text", sa.Text(), nullable=False),
        sa.Column("detected_json", sa.Text(), nullable=False),
        sa.Column("cause_words_json", sa.Text(), nullable=False),
        sa.Column("planned_emotion", sa.String(64), nullable=True),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("structure_json", sa.Text(), nullable=False),
        sa.Column("rubric_json", sa.Text(), nullable=False),
        sa.Column("patterns_json", sa.Text(), nullable=False),
        sa.Column("backend", sa.String(64), nullable=False),
        sa.Column("timings_json", sa.Text(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turns")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_turns_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_turns_generation_id_generations"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("conversation_id", "idx", name=op.f("uq_turns_conversation_id")),
    )


def downgrade() -> None:
    op.drop_table("turns")
    op.drop_index("ix_conversations_project_id", table_name="conversations")
    op.drop_table("conversations")
