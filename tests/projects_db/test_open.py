from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from projects_db import Store, StoreError
from projects_db.engine import alembic_config, newest_revision
from projects_db.models import Base

from .conftest import new_generation


def _pragma(store: Store, name: str) -> object:
    assert store._engine is not None
    with store._engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_open_creates_layout(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "studio_data"
    with Store.open(data_dir) as store:
        assert store.data_dir == data_dir.resolve()
        assert store.url == f"sqlite:///{data_dir.resolve() / 'studio.db'}"
        assert store.artifacts.root == store.data_dir / "artifacts"
        for sub in ("assets", "artifacts", "runners"):
            assert (data_dir / sub).is_dir()
        assert not list(data_dir.glob(".write-probe-*"))
    assert (data_dir / "studio.db").is_file()


def test_sqlite_pragmas_on_every_connection(store: Store) -> None:
    assert _pragma(store, "journal_mode") == "wal"
    assert _pragma(store, "foreign_keys") == 1
    assert _pragma(store, "busy_timeout") == 30_000
    assert _pragma(store, "synchronous") == 1  # NORMAL


def test_foreign_keys_are_enforced(store: Store) -> None:
    assert store._engine is not None
    with pytest.raises(Exception, match="FOREIGN KEY"), store._engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO generation_assets (generation_id, role, asset_id) "
                "VALUES (999, 'x', 999)"
            )
        )


def test_alembic_at_head_and_schema_matches_models(data_dir: Path) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == "0007" == newest_revision()  # the quick check at open agrees with Alembic
    with Store.open(data_dir) as store:
        project = store.create_project("kept")
        new_generation(store, project.id)
    engine = create_engine(f"sqlite:///{data_dir / 'studio.db'}")
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            assert versions == [(head,)]
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            checks = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'generations'")
            ).scalar()
            assert "ck_generations_status" in str(checks)
    finally:
        engine.dispose()
    with Store.open(data_dir) as again:  # second open: no-op, data intact
        assert [p.name for p in again.list_projects()] == ["kept"]
        assert again.list_projects()[0].generation_count == 1


def test_status_check_constraint(store: Store) -> None:
    gen = new_generation(store, store.create_project("p").id)
    assert store._engine is not None
    with pytest.raises(Exception, match="CHECK"), store._engine.begin() as conn:
        conn.execute(
            text("UPDATE generations SET status = 'exploded' WHERE id = :i"), {"i": gen.id}
        )


def _assert_refused_untouched(data_dir: Path, content: bytes, match: str = "corrupt") -> None:
    db = data_dir / "studio.db"
    with pytest.raises(StoreError, match=match) as info:
        Store.open(data_dir)
    assert str(db) in str(info.value)
    assert "left untouched" in str(info.value)
    assert "--data-dir" in str(info.value)
    assert db.read_bytes() == content
    assert not (data_dir / "studio.db-wal").exists()


def test_random_bytes_database_is_refused_untouched(data_dir: Path) -> None:
    data_dir.mkdir()
    content = random.Random(7).randbytes(8192)
    (data_dir / "studio.db").write_bytes(content)
    _assert_refused_untouched(data_dir, content)


def test_sqlite_header_then_garbage_is_refused(data_dir: Path) -> None:
    data_dir.mkdir()
    content = b"SQLite format 3\x00" + random.Random(3).randbytes(4080)
    (data_dir / "studio.db").write_bytes(content)
    _assert_refused_untouched(data_dir, content)


def test_truncated_database_is_refused(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        project = store.create_project("p")
        for i in range(200):
            new_generation(store, project.id, seed=i, request={"text": "x" * 500})
    db = data_dir / "studio.db"
    content = db.read_bytes()[: len(db.read_bytes()) // 2]
    db.write_bytes(content)
    _assert_refused_untouched(data_dir, content)


def test_short_file_is_refused(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "studio.db").write_bytes(b"SQLite format 3\x00")
    _assert_refused_untouched(data_dir, b"SQLite format 3\x00")


def test_foreign_sqlite_database_is_refused(data_dir: Path) -> None:
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "studio.db")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('mine')")
    conn.commit()
    conn.close()
    content = (data_dir / "studio.db").read_bytes()
    _assert_refused_untouched(data_dir, content, match="not a studio database")


def test_empty_file_becomes_a_database(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "studio.db").write_bytes(b"")
    with Store.open(data_dir) as store:
        assert store.create_project("ok").name == "ok"


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "studio_data"
    target.write_text("not a directory")
    with pytest.raises(StoreError, match="is a file, not a directory") as info:
        Store.open(target)
    assert str(target) in str(info.value)
    assert "--data-dir" in str(info.value)
    with pytest.raises(StoreError, match="--data-dir") as info:
        Store.open(target / "inside")
    assert str(target) in str(info.value)
    assert target.read_text() == "not a directory"


def test_closed_store_refuses_work(data_dir: Path) -> None:
    store = Store.open(data_dir)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.list_projects()


def test_explicit_sqlite_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    with Store.open(tmp_path / "data", url) as store:
        assert store.url == url
        store.create_project("x")
    assert (tmp_path / "elsewhere.db").is_file()
    assert not (tmp_path / "data" / "studio.db").exists()
