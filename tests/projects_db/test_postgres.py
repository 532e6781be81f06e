"""The same store on PostgreSQL.

Runs only when ``STUDIO_TEST_POSTGRES_URL`` names a scratch database whose name contains
"test" (e.g. ``postgresql+psycopg://postgres@/studio_test?host=/tmp&port=5432``): every table
in it is dropped first.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, make_url, text

from projects_db import INTERRUPTED_MESSAGE, NotFound, ProjectNameError, ProjectNotEmpty, Store
from projects_db.models import Base

from .conftest import new_generation

URL = os.environ.get("STUDIO_TEST_POSTGRES_URL", "")

pytestmark = pytest.mark.skipif(
    not URL or "test" not in (make_url(URL).database or ""),
    reason="set STUDIO_TEST_POSTGRES_URL to a scratch PostgreSQL database named *test*",
)


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[Store]:
    engine = create_engine(URL)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    with Store.open(tmp_path / "data", URL) as store:
        yield store


def test_schema_matches_models(pg_store: Store) -> None:
    engine = create_engine(URL)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
    with Store.open(pg_store.data_dir, URL) as again:
        assert again.list_projects() == []


def test_projects_generations_and_recovery(pg_store: Store) -> None:
    store = pg_store
    project = store.create_project("'; DROP TABLE projects; -- 😀")
    assert store.find_project("'; drop table PROJECTS; -- 😀") == store.get_project(project.id)
    with pytest.raises(ProjectNameError):
        store.create_project("'; DROP TABLE PROJECTS; -- 😀")
    parent = new_generation(store, project.id, seed=-(2**63))
    child = new_generation(store, project.id, parent_id=parent.id)
    runner = store.register_runner()
    store.mark_running(parent.id, runner)
    rel = store.artifacts.write_bytes(project.id, parent.id, "audio", ".wav", b"pcm")
    done = store.mark_finished(parent.id, "done", artifacts={"audio": rel}, compute_seconds=1.0)
    assert done.created_at.tzinfo is not None and done.finished_at is not None
    assert [g.id for g in store.list_generations(project.id)] == [child.id, parent.id]
    store.delete_generation(parent.id)
    assert store.get_generation(child.id).parent_id is None
    with pytest.raises(NotFound):
        store.get_generation(parent.id)
    orphan = new_generation(store, project.id)
    store.mark_running(orphan.id, "f" * 32)
    assert store.recover_stale() == [child.id, orphan.id]  # child: queued without a runner
    assert store.get_generation(orphan.id).error == INTERRUPTED_MESSAGE
    with pytest.raises(ProjectNotEmpty):
        store.delete_project(project.id)
    store.delete_project(project.id, with_generations=True)
    assert store.list_projects() == []


def test_threads_and_name_race(pg_store: Store) -> None:
    store = pg_store
    project = store.create_project("threads")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def work(worker: int) -> None:
        barrier.wait()
        try:
            store.create_project("same")
            outcomes.append("ok")
        except ProjectNameError:
            outcomes.append("dupe")
        for i in range(10):
            gen = new_generation(store, project.id, seed=worker * 100 + i)
            store.mark_running(gen.id, "r")
            store.mark_finished(gen.id, "done")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["dupe", "dupe", "dupe", "ok"]
    assert len(store.list_generations(project.id, status="done")) == 40
