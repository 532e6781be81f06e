from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from projects_db import GENERATION_STATUSES, NotFound, Store, StoreError

from .conftest import new_generation


def test_lifecycle_queued_running_done(store: Store) -> None:
    project = store.create_project("p")
    request = {"text": "Grüße, 世界 😀", "nested": {"list": [1, 2.5, None, True]}}
    gen = new_generation(store, project.id, request=request, seed=2**63 - 1)
    assert gen.status == "queued"
    assert gen.request == request
    assert gen.seed == 2**63 - 1
    assert gen.started_at is None and gen.finished_at is None
    assert gen.artifacts == {} and gen.timings == {} and gen.metadata == {}
    assert gen.rtf is None

    runner = store.register_runner()
    running = store.mark_running(gen.id, runner)
    assert running.status == "running"
    assert running.runner_id == runner
    assert running.started_at is not None and running.started_at.tzinfo is not None

    audio = store.artifacts.write(project.id, gen.id, "audio", ".wav", _writer(b"RIFF...."))
    video = store.artifacts.write_bytes(project.id, gen.id, "video", ".mp4", b"\x00\x00mp4")
    done = store.mark_finished(
        gen.id,
        "done",
        compute_seconds=3.0,
        media_seconds=2.0,
        artifacts={"audio": audio, "video": video},
        timings={"synth": 2.5, "encode": 0.5},
        metadata={"f0_mean": 180.5, "label": "happy"},
    )
    assert done.status == "done"
    assert done.error is None
    assert done.finished_at is not None and done.started_at is not None
    assert done.finished_at >= done.started_at >= done.created_at
    assert done.rtf == pytest.approx(1.5)
    assert done.timings == {"encode": 0.5, "synth": 2.5}
    assert done.metadata == {"f0_mean": 180.5, "label": "happy"}
    assert audio == f"artifacts/p{project.id}/g{gen.id}/audio.wav"
    assert store.artifact_path(done, "audio").read_bytes() == b"RIFF...."
    assert store.artifact_path(done, "video").read_bytes() == b"\x00\x00mp4"
    assert store.get_generation(gen.id) == done
    directory = store.artifacts.generation_dir(project.id, gen.id)
    assert sorted(p.name for p in directory.iterdir()) == [".generation", "audio.wav", "video.mp4"]
    assert (directory / ".generation").read_text().startswith(f"generation #{gen.id} of project")
    with pytest.raises(NotFound, match="no artifact 'midi'"):
        store.artifact_path(done, "midi")
    assert store.get_project(project.id).generation_count == 1


def _writer(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        assert path.suffix == ".wav"
        path.write_bytes(data)

    return write


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_finish_from_queued_with_error(store: Store, status: str) -> None:
    gen = new_generation(store, store.create_project("p").id)
    finished = store.mark_finished(gen.id, status, error="No face found — use a frontal photo")
    assert finished.status == status
    assert finished.error == "No face found — use a frontal photo"


def test_invalid_transitions(store: Store) -> None:
    gen = new_generation(store, store.create_project("p").id)
    with pytest.raises(StoreError, match="Finished status"):
        store.mark_finished(gen.id, "running")
    store.mark_running(gen.id, "r1")
    with pytest.raises(StoreError, match="not queued"):
        store.mark_running(gen.id, "r1")
    store.mark_finished(gen.id, "done")
    with pytest.raises(StoreError, match="already finished"):
        store.mark_finished(gen.id, "failed")
    with pytest.raises(NotFound):
        store.mark_running(99999, "r1")
    assert store.get_generation(gen.id).status == "done"


def test_bad_inputs(store: Store) -> None:
    project = store.create_project("p")
    with pytest.raises(NotFound):
        new_generation(store, 4242)
    with pytest.raises(NotFound, match="Parent generation"):
        new_generation(store, project.id, parent_id=777)
    with pytest.raises(StoreError, match="JSON"):
        new_generation(store, project.id, request={"path": Path("/tmp")})
    with pytest.raises(StoreError, match="64 bits"):
        new_generation(store, project.id, seed=2**64)
    with pytest.raises(StoreError, match="Task"):
        new_generation(store, project.id, task="")
    gen = new_generation(store, project.id)
    with pytest.raises(StoreError, match="outside the data directory"):
        store.mark_finished(gen.id, "done", artifacts={"x": "../../etc/passwd"})
    with pytest.raises(StoreError, match="finite number"):
        store.mark_finished(gen.id, "done", timings={"x": float("nan")})
    assert store.get_generation(gen.id).status == "queued"
    assert len(store.list_generations(project.id)) == 1


def test_list_newest_first_and_filters(store: Store) -> None:
    project = store.create_project("p")
    other = store.create_project("other")
    new_generation(store, other.id)
    made = []
    for i, (task, emotion) in enumerate(
        [("voice", "happy"), ("music", "sad"), ("voice", "sad"), ("portrait", None)]
    ):
        made.append(new_generation(store, project.id, task=task, emotion=emotion, seed=i))
    store.mark_finished(made[1].id, "done")
    ids = [g.id for g in store.list_generations(project.id)]
    assert ids == [g.id for g in reversed(made)]
    assert [g.id for g in store.list_generations(project.id, task="voice")] == [
        made[2].id,
        made[0].id,
    ]
    assert [g.id for g in store.list_generations(project.id, emotion="sad")] == [
        made[2].id,
        made[1].id,
    ]
    assert [g.id for g in store.list_generations(project.id, status="done")] == [made[1].id]
    assert [g.id for g in store.list_generations(project.id, limit=2)] == ids[:2]
    assert [g.id for g in store.list_generations(project.id, task="music", status="queued")] == []
    with pytest.raises(StoreError):
        store.list_generations(project.id, status="exploded")
    assert set(GENERATION_STATUSES) == {"queued", "running", "done", "failed", "cancelled"}


def test_delete_generation_removes_files_and_orphans_children(store: Store) -> None:
    project = store.create_project("p")
    parent = new_generation(store, project.id)
    rel = store.artifacts.write_bytes(project.id, parent.id, "audio", ".wav", b"abc")
    store.mark_finished(parent.id, "done", artifacts={"audio": rel})
    asset = store.add_asset(b"speech", "speech.wav")
    store.link_asset(parent.id, asset.id, "speech")
    child = new_generation(store, project.id, parent_id=parent.id, seed=99)
    assert child.parent_id == parent.id

    store.delete_generation(parent.id)
    assert not (store.data_dir / rel).exists()
    assert not store.artifacts.generation_dir(project.id, parent.id).exists()
    with pytest.raises(NotFound):
        store.get_generation(parent.id)
    assert store.get_generation(child.id).parent_id is None
    assert store.generation_assets(parent.id) == []
    with pytest.raises(NotFound):
        store.delete_generation(parent.id)


def test_generation_assets_links(store: Store) -> None:
    project = store.create_project("p")
    gen = new_generation(store, project.id)
    photo = store.add_asset(b"jpeg bytes", "me.jpg")
    speech = store.add_asset(b"wav bytes", "me.wav")
    store.link_asset(gen.id, speech.id, "speech")
    store.link_asset(gen.id, speech.id, "portrait")
    store.link_asset(gen.id, photo.id, "portrait")  # replaces the role's asset
    assert store.generation_assets(gen.id) == [("portrait", photo), ("speech", speech)]
    with pytest.raises(StoreError, match="role"):
        store.link_asset(gen.id, photo.id, "Bad Role!")
    with pytest.raises(NotFound):
        store.link_asset(gen.id, 999, "x")
    with pytest.raises(NotFound):
        store.link_asset(999, photo.id, "x")
