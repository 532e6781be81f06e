"""Functions run in child processes (multiprocessing, spawn) by the multi-process tests."""

from __future__ import annotations

import os
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from pathlib import Path

from projects_db import ProjectNameError, Store


def write_many(data_dir: str, barrier: Barrier, worker: int, count: int) -> None:
    """Open the store at the same moment as the other workers, then write ``count`` rows."""
    barrier.wait(timeout=60)
    with Store.open(data_dir) as store:
        try:
            project = store.create_project("shared")
        except ProjectNameError:
            found = store.find_project("shared")
            assert found is not None
            project = found
        runner = store.register_runner()
        for i in range(count):
            gen = store.create_generation(
                project.id,
                task="music",
                backend="tiny",
                backend_version="1",
                request={"worker": worker, "i": i},
                seed=i,
                emotion="sad",
            )
            store.mark_running(gen.id, runner)
            store.mark_finished(gen.id, "done", compute_seconds=0.01)


def die_while_running(data_dir: str, generation_id: int, conn: Connection) -> None:
    """Start a generation, leave a partial file behind and die without any cleanup."""
    store = Store.open(data_dir)
    runner = store.register_runner()
    gen = store.mark_running(generation_id, runner)
    directory = store.artifacts.generation_dir(gen.project_id, gen.id)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ".video.tmp-0123abcd.mp4").write_bytes(b"partial")
    (directory / "audio.wav").write_bytes(b"RIFF-partial")
    conn.send(runner)
    conn.close()
    os._exit(0)


def run_and_wait(data_dir: str, generation_id: int, conn: Connection) -> None:
    """Start a generation and keep the store open until told to stop."""
    with Store.open(data_dir) as store:
        runner = store.register_runner()
        gen = store.mark_running(generation_id, runner)
        directory = store.artifacts.generation_dir(gen.project_id, gen.id)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "partial.wav").write_bytes(b"still being written")
        conn.send(runner)
        conn.recv()  # wait for the parent
    conn.send("closed")


def lock_exists(data_dir: str, runner_id: str) -> bool:
    return (Path(data_dir) / "runners" / f"{runner_id}.lock").exists()
