"""Ids that are never reused: SQLite AUTOINCREMENT on projects, generations, stimulus sets,
studies and conversations.

Their ids name artifact folders (``artifacts/p<project>/g<generation>``) or are cited outside
the database (exports, manifests, study reports, the CLI's ``#18``, ``--conversation 3``).
Without AUTOINCREMENT, SQLite hands the largest id out again once its row is deleted.  Each
table is rebuilt (batch mode: new table, rows copied, old one dropped, new one renamed) with
every row, index, constraint and foreign key; :func:`projects_db.engine.migrate` turns
SQLite's foreign keys off around the migration and runs ``PRAGMA foreign_key_check`` before
it commits.

``sqlite_sequence`` then starts at the largest id still present, or higher when a folder under
``artifacts/`` shows that a larger id was already used (e.g. the newest generation was deleted
before this migration and its folder is still there).  PostgreSQL's sequences never reuse ids:
nothing to do there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("projects", "generations", "stimulus_sets", "studies", "conversations")
_PROJECT_DIR = re.compile(r"p([1-9][0-9]{0,17})")
_GENERATION_DIR = re.compile(r"g([1-9][0-9]{0,17})")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    if autoincrement:
        used = _ids_used_by_folders(conn)
        for table in TABLES:
            _seed_sequence(conn, table, used.get(table, 0))


def _seed_sequence(conn: sa.Connection, table: str, floor: int) -> None:
    """Make ``sqlite_sequence`` for ``table`` at least the largest id in it and ``floor``."""
    largest = conn.execute(sa.text(f'SELECT coalesce(max(id), 0) FROM "{table}"')).scalar_one()
    seq = max(int(largest), floor)
    if seq <= 0:
        return
    known = conn.execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}
    ).scalar()
    if known is None:
        conn.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :s)"),
            {"t": table, "s": seq},
        )
    elif int(known) < seq:
        conn.execute(
            sa.text("UPDATE sqlite_sequence SET seq = :s WHERE name = :t"), {"t": table, "s": seq}
        )


def _ids_used_by_folders(conn: sa.Connection) -> dict[str, int]:
    """The largest project and generation ids that name a folder under ``artifacts/`` beside
    the database file (the data directory's layout); nothing for a database elsewhere."""
    rows = conn.execute(sa.text("PRAGMA database_list")).all()
    database = next((row[2] for row in rows if row[1] == "main"), "")
    if not database:
        return {}
    root = Path(database).parent / "artifacts"
    projects = generations = 0
    try:
        for project_dir in root.iterdir() if root.is_dir() else ():
            match = _PROJECT_DIR.fullmatch(project_dir.name)
            if match is None or not project_dir.is_dir():
                continue
            projects = max(projects, int(match[1]))
            for gen_dir in project_dir.iterdir():
                found = _GENERATION_DIR.fullmatch(gen_dir.name)
                if found is not None and gen_dir.is_dir():
                    generations = max(generations, int(found[1]))
    except OSError:
        pass  # an unreadable folder: max(id) still holds
    return {"projects": projects, "generations": generations}
