from __future__ import annotations

import multiprocessing
from pathlib import Path

from projects_db import INTERRUPTED_MESSAGE, Store

from . import _workers
from .conftest import new_generation


def test_register_runner_holds_a_lock_until_close(data_dir: Path) -> None:
    store = Store.open(data_dir)
    runner = store.register_runner()
    assert store.register_runner() == runner  # idempotent
    assert len(runner) == 32
    lock = data_dir / "runners" / f"{runner}.lock"
    assert lock.exists()
    with Store.open(data_dir) as other:
        assert other.register_runner() != runner
        assert other.recover_stale() == []
        assert lock.exists()  # a live runner's lock is never swept
    store.close()
    assert not lock.exists()


def test_own_rows_are_kept_and_orphans_recovered(store: Store) -> None:
    project = store.create_project("p")
    orphan = new_generation(store, project.id)  # queued with no runner
    store.artifacts.write_bytes(project.id, orphan.id, "half", ".wav", b"x")
    runner = store.register_runner()
    mine_queued = new_generation(store, project.id)
    mine_running = new_generation(store, project.id)
    store.mark_running(mine_running.id, runner)
    ghost = new_generation(store, project.id)
    store.mark_running(ghost.id, "0" * 32)  # a runner without a lock file: gone
    done = new_generation(store, project.id)
    store.mark_finished(done.id, "done")

    assert mine_queued.runner_id == runner
    assert sorted(store.recover_stale()) == sorted([orphan.id, ghost.id])
    for gen_id in (orphan.id, ghost.id):
        recovered = store.get_generation(gen_id)
        assert recovered.status == "failed"
        assert recovered.error == INTERRUPTED_MESSAGE
        assert recovered.finished_at is not None
    assert not store.artifacts.generation_dir(project.id, orphan.id).exists()
    assert store.get_generation(mine_queued.id).status == "queued"
    assert store.get_generation(mine_running.id).status == "running"
    assert store.get_generation(done.id).status == "done"
    assert store.recover_stale() == []


def test_dead_process_is_recovered_live_process_is_not(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        project = store.create_project("crash")
        doomed = new_generation(store, project.id)
        alive = new_generation(store, project.id, seed=2)

    ctx = multiprocessing.get_context("spawn")
    dead_parent, dead_child = ctx.Pipe()
    live_parent, live_child = ctx.Pipe()
    dying = ctx.Process(
        target=_workers.die_while_running, args=(str(data_dir), doomed.id, dead_child)
    )
    living = ctx.Process(target=_workers.run_and_wait, args=(str(data_dir), alive.id, live_child))
    dying.start()
    living.start()
    try:
        assert dead_parent.poll(60)
        dead_runner = dead_parent.recv()
        assert live_parent.poll(60)
        live_runner = live_parent.recv()
        dying.join(60)
        assert dying.exitcode == 0
        assert _workers.lock_exists(str(data_dir), dead_runner)  # it died without cleanup

        with Store.open(data_dir) as store:
            store.register_runner()
            doomed_dir = store.artifacts.generation_dir(project.id, doomed.id)
            alive_dir = store.artifacts.generation_dir(project.id, alive.id)
            assert (doomed_dir / "audio.wav").exists()

            assert store.recover_stale() == [doomed.id]

            crashed = store.get_generation(doomed.id)
            assert crashed.status == "failed"
            assert crashed.error == INTERRUPTED_MESSAGE
            assert not doomed_dir.exists()
            assert not _workers.lock_exists(str(data_dir), dead_runner)

            running = store.get_generation(alive.id)
            assert running.status == "running"
            assert running.runner_id == live_runner
            assert (alive_dir / "partial.wav").exists()
            assert _workers.lock_exists(str(data_dir), live_runner)

            live_parent.send("stop")  # the live studio shuts down cleanly...
            assert live_parent.poll(60)
            assert live_parent.recv() == "closed"
            living.join(60)
            # ...leaving its unfinished row behind, which is now recoverable
            assert store.recover_stale() == [alive.id]
            assert not alive_dir.exists()
    finally:
        for process in (dying, living):
            if process.is_alive():
                process.kill()
                process.join()
