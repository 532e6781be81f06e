"""The Library at scale: a search column filled from each request, and indexes for its pages
(project + created, project + task / emotion / status / backend, parent).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from projects_db.search import search_text

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE_INDEXES = {
    "ix_generations_project_page": ["project_id", "created_at", "id"],
    "ix_generations_project_task": ["project_id", "task", "created_at", "id"],
    "ix_generations_project_emotion": ["project_id", "emotion", "created_at", "id"],
    "ix_generations_project_status": ["project_id", "status", "created_at", "id"],
    "ix_generations_project_backend": ["project_id", "backend", "created_at", "id"],
    "ix_generations_parent_id": ["parent_id"],
}


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    table = sa.table(
        "generations", sa.column("id", sa.Integer()), sa.column("request_json", sa.Text()),
        sa.column("search_text", sa.Text()),
    )  # fmt: skip
    conn = op.get_bind()
    last = 0
    while True:  # fill it in batches (a big library does not need its requests in memory)
        rows = conn.execute(
            sa.select(table.c.id, table.c.request_json)
            .where(table.c.id > last).order_by(table.c.id).limit(2000)
        ).all()  # fmt: skip
        if not rows:
            break
        for row_id, request in rows:
            conn.execute(
                table.update().where(table.c.id == row_id)
                .values(search_text=search_text(json.loads(request)))
            )  # fmt: skip
        last = rows[-1][0]
    for name, columns in PAGE_INDEXES.items():
        op.create_index(name, "generations", columns)


def downgrade() -> None:
    for name in PAGE_INDEXES:
        op.drop_index(name, "generations")
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("search_text")
