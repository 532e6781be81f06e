"""Ids are never reused (migration 0007, SQLite AUTOINCREMENT), upgrades keep every row, and
the artifact writer never mixes two generations' files in one folder."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, make_url, text

from projects_db import Store, StoreError
from projects_db.engine import alembic_config, make_engine
from projects_db.models import Base
from projects_db.stimuli import NewItem
from tests.projects_db.conftest import new_generation

NEVER_REUSED = ("projects", "generations", "stimulus_sets", "studies", "conversations")


def _grid(store: Store, project_id: int, generation_ids: list[int]) -> tuple[int, int]:
    """A stimulus set whose items point at ``generation_ids`` and a study over it."""
    items = [NewItem(i, {"emotion": "sad"}, {"text": "x"}, i) for i in range(len(generation_ids))]
    s = store.create_stimulus_set(
        project_id, name="grid", task="voice", backend="tiny", spec={"a": 1}, items=items
    )
    made = store.stimulus_items(s.id)
    for item, gen in zip(made, generation_ids, strict=True):
        store.attach_item_generation(item.id, gen)
    study = store.create_study(
        s.id, name="st", design="mos", seed=1, config={}, participants=[(f"P{s.id}", [made[0].id])]
    )
    return s.id, study.id


def _next_ids(store: Store, project_id: int) -> dict[str, int]:
    """Make one row of each kind (a project, a generation, a set + study, a conversation)."""
    project = store.create_project(f"next {store.list_projects()[-1].id}").id
    gen = new_generation(store, project_id).id
    set_id, study_id = _grid(store, project_id, [gen])
    conv = store.create_conversation(project_id, title="c", persona={}, backend="tiny").id
    return {
        "projects": project,
        "generations": gen,
        "stimulus_sets": set_id,
        "studies": study_id,
        "conversations": conv,
    }


def _delete_newest(store: Store, ids: dict[str, int]) -> None:
    store.delete_conversation(ids["conversations"])
    store.delete_project(ids["projects"])
    store.delete_generation(ids["generations"])  # its item's generation becomes NULL
    with sqlite3.connect(store.database_file()) as conn:  # sets and studies: no delete API
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("DELETE FROM stimulus_sets WHERE id = ?", (ids["stimulus_sets"],))
        gone = conn.execute("SELECT count(*) FROM studies WHERE id = ?", (ids["studies"],))
        assert gone.fetchone() == (0,)


def test_deleting_the_newest_rows_never_frees_their_ids(store: Store) -> None:
    project = store.create_project("Ids").id
    first = _next_ids(store, project)
    _delete_newest(store, first)
    second = _next_ids(store, project)
    assert all(second[t] > first[t] for t in NEVER_REUSED), (first, second)
    assert store.artifacts.generation_dir(project, second["generations"]).name != (
        f"g{first['generations']}"
    )


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] not in ("sqlite_sequence", "alembic_version")
        ]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


def _schema(db: Path) -> set[tuple[str, str, str]]:
    """Every table and index: columns in order, table constraints in any order (a rebuild may
    list a table's foreign keys in another order)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        return {(t, n, _canonical(sql)) for t, n, sql in rows if n != "sqlite_sequence"}


def _canonical(sql: str) -> str:
    head, _, body = sql.partition("(\n")
    if not body:
        return " ".join(sql.split())
    parts = [" ".join(line.split()).rstrip(",") for line in body.rsplit("\n)", 1)[0].splitlines()]
    columns = [p for p in parts if p and not p.startswith("CONSTRAINT")]
    constraints = sorted(p for p in parts if p.startswith("CONSTRAINT"))
    return " ".join(head.split()) + " | " + " | ".join(columns + constraints)


def test_upgrade_from_0006_keeps_every_row_and_never_reuses_ids(tmp_path: Path) -> None:
    data = tmp_path / "old"
    (data / "artifacts").mkdir(parents=True)
    db = data / "studio.db"
    engine = make_engine(f"sqlite:///{db}")  # foreign keys on, as the studio had them
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
    engine.dispose()
    # rows made by the studio at 0006: links between generations, items, trials, turns, assets
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0006",)
        assert (
            "AUTOINCREMENT"
            not in conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'generations'"
            ).fetchone()[0]
        )
    old = _populate_at_0006(db, data)
    before = _rows(db)

    with Store.open(data) as store:  # migrates to 0007
        assert _rows(db) == before, "every row of every table survives the rebuild"
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            for table in NEVER_REUSED:
                sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,))
                assert "AUTOINCREMENT" in sql.fetchone()[0], table
        # the folder g5 of a generation deleted before the upgrade keeps its id out of use
        gen = new_generation(store, 1)
        assert gen.id == old["generations"] + 1 == 6
        store.delete_generation(gen.id)
        assert new_generation(store, 1).id == 7
        assert store.create_project("After").id == 4  # p3's folder is still there
        # foreign keys still act: deleting a generation clears the item and turn pointing at it
        store.delete_generation(2)
        with sqlite3.connect(db) as conn:
            assert conn.execute(
                "SELECT generation_id FROM stimulus_items ORDER BY id"
            ).fetchall() == [
                (1,),
                (None,),
            ]
            assert conn.execute("SELECT parent_id FROM generations WHERE id = 3").fetchone() == (
                None,
            )
            assert conn.execute("SELECT generation_id FROM turns").fetchone() == (None,)

    fresh = tmp_path / "fresh"
    Store.open(fresh).close()
    assert _schema(db) == _schema(fresh / "studio.db"), "upgraded schema = a new database's"
    with create_engine(f"sqlite:///{db}").connect() as conn:  # and it matches the models
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def _populate_at_0006(db: Path, data: Path) -> dict[str, int]:
    """Rows as the 0006 studio wrote them; generation 5 and project 3 deleted, folders kept."""
    now = "2026-12-01 10:00:00.000000"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for pid in (1, 2, 3):
            conn.execute(
                "INSERT INTO projects VALUES (?, ?, ?, ?, ?)", (pid, f"P{pid}", f"p{pid}", now, now)
            )
        for gid, parent in ((1, None), (2, None), (3, 2), (4, 1), (5, None)):
            conn.execute(
                "INSERT INTO generations (id, project_id, task, backend, backend_version, "
                "request_json, seed, emotion, status, created_at, artifacts_json, timings_json, "
                "metadata_json, parent_id, search_text) VALUES "
                "(?, 1, 'voice', 'tiny', '1', '{}', 1, 'sad', 'done', ?, '{}', '{}', '{}', ?, 'x')",
                (gid, now, parent),
            )
        conn.execute(
            "INSERT INTO assets VALUES (1, ?, 'a.wav', 3, 'assets/aa/a.wav', ?)", ("a" * 64, now)
        )
        conn.execute("INSERT INTO generation_assets VALUES (4, 'audio', 1)")
        conn.execute(
            "INSERT INTO stimulus_sets VALUES (1, 1, 'grid', 'voice', 'tiny', '{}', ?)", (now,)
        )
        for iid, gid in ((1, 1), (2, 2)):
            conn.execute(
                "INSERT INTO stimulus_items VALUES (?, 1, ?, '{}', '{}', 1, 1, 1, ?)",
                (iid, iid - 1, gid),
            )
        conn.execute("INSERT INTO studies VALUES (1, 1, 'st', 'mos', 1, '{}', ?)", (now,))
        conn.execute("INSERT INTO participants VALUES (1, 1, 'P1', 0, ?)", (now,))
        conn.execute(
            "INSERT INTO trials (id, participant_id, position, item_id, items_json) "
            "VALUES (1, 1, 0, 1, '[1, 2]')"
        )
        conn.execute("INSERT INTO conversations VALUES (1, 1, 'c', '{}', 'tiny', ?, ?)", (now, now))
        conn.execute(
            "INSERT INTO turns (id, conversation_id, idx, user_text, detected_json, "
            "cause_words_json, reply, structure_json, rubric_json, patterns_json, backend, "
            "timings_json, generation_id, created_at) VALUES "
            "(1, 1, 0, 'hi', '{}', '[]', 'hello', '{}', '{}', '[]', 'tiny', '{}', 2, ?)",
            (now,),
        )
        conn.execute("DELETE FROM generations WHERE id = 5")  # the newest, deleted at 0006 ...
        conn.execute("DELETE FROM projects WHERE id = 3")
    for folder in ("p1/g1", "p1/g5", "p3"):  # ... with their folders left behind
        (data / "artifacts" / folder).mkdir(parents=True)
    return {"generations": 5, "projects": 3}


def test_writer_refuses_a_folder_of_another_generation(store: Store) -> None:
    project = store.create_project("Folders").id
    gen = new_generation(store, project)
    path = store.artifacts.write_bytes(project, gen.id, "audio", ".wav", b"mine")
    notes = store.artifacts.write_bytes(project, gen.id, "notes", ".json", b"{}")  # same owner
    folder = store.artifacts.generation_dir(project, gen.id)
    marker = folder / ".generation"
    # a folder marked for another row with this id (e.g. a database restored from a backup)
    marker.write_text("generation #1 of project 1, made 2020-01-01T00:00:00.000000Z")
    with pytest.raises(StoreError, match="belongs to another generation"):
        store.artifacts.write_bytes(project, gen.id, "video", ".mp4", b"theirs")
    assert sorted(p.name for p in folder.iterdir()) == [".generation", "audio.wav", "notes.json"]
    # an unmarked folder (made before markers) holding files that are not this row's
    other = new_generation(store, project)
    stale = store.artifacts.generation_dir(project, other.id)
    stale.mkdir(parents=True)
    (stale / "audio.wav").write_bytes(b"old take")
    with pytest.raises(StoreError, match=r"already holds files of another generation \(audio"):
        store.artifacts.write_bytes(project, other.id, "audio", ".wav", b"new take")
    assert (stale / "audio.wav").read_bytes() == b"old take"
    # a row's own recorded files in an unmarked folder are its own: the folder is claimed
    store.mark_finished(gen.id, "done", artifacts={"audio": path, "notes": notes})
    marker.unlink()
    store.artifacts.write_bytes(project, gen.id, "thumb", ".jpg", b"jpg")
    assert marker.read_text().startswith(f"generation #{gen.id} of project {project}, made ")
    # a deleted generation gets no folder at all
    store.delete_generation(other.id)
    with pytest.raises(StoreError, match="does not exist"):
        store.artifacts.write_bytes(project, other.id, "audio", ".wav", b"late")
    assert not stale.exists()


PG_URL = os.environ.get("STUDIO_TEST_POSTGRES_URL", "")


@pytest.mark.skipif(
    not PG_URL or "test" not in (make_url(PG_URL).database or ""),
    reason="set STUDIO_TEST_POSTGRES_URL to a scratch PostgreSQL database named *test*",
)
def test_postgres_never_reuses_ids_either(tmp_path: Path) -> None:
    engine = create_engine(PG_URL)
    with engine.begin() as conn:  # a scratch database: start from nothing
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    with Store.open(tmp_path / "data", PG_URL) as store:
        project = store.create_project("Ids").id
        first = _next_ids(store, project)
        store.delete_conversation(first["conversations"])
        store.delete_project(first["projects"])
        store.delete_generation(first["generations"])
        second = _next_ids(store, project)
        assert all(second[t] > first[t] for t in NEVER_REUSED), (first, second)
        gen = new_generation(store, project)
        store.artifacts.write_bytes(project, gen.id, "audio", ".wav", b"pg")
        marker = store.artifacts.generation_dir(project, gen.id) / ".generation"
        assert marker.read_text().startswith(f"generation #{gen.id} of project {project}")
