from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

from projects_db import Store

from . import _workers


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def test_threads_share_one_store(store: Store) -> None:
    project = store.create_project("threads")
    runner = store.register_runner()
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(25):
                gen = store.create_generation(
                    project.id,
                    task="voice",
                    backend="tiny",
                    backend_version="1",
                    request={"worker": worker, "i": i},
                    seed=worker * 1000 + i,
                    emotion="happy",
                )
                store.mark_running(gen.id, runner)
                store.mark_finished(gen.id, "done", compute_seconds=0.1, media_seconds=1.0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    generations = store.list_generations(project.id)
    assert len(generations) == 200
    assert {g.status for g in generations} == {"done"}
    assert len({(g.request["worker"], g.request["i"]) for g in generations}) == 200
    assert store.get_project(project.id).generation_count == 200
    assert _integrity(store.data_dir / "studio.db") == "ok"


def test_two_processes_open_and_write_concurrently(data_dir: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    workers = [
        ctx.Process(target=_workers.write_many, args=(str(data_dir), barrier, w, 40))
        for w in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    with Store.open(data_dir) as store:
        projects = store.list_projects()
        assert [p.name for p in projects] == ["shared"]
        generations = store.list_generations(projects[0].id)
    assert len(generations) == 80
    assert {g.status for g in generations} == {"done"}
    assert {(g.request["worker"], g.request["i"]) for g in generations} == {
        (w, i) for w in range(2) for i in range(40)
    }
    assert _integrity(data_dir / "studio.db") == "ok"
