"""The generation service on the real store: done, failed, cancelled, re-run, fork, stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import soundfile

from pipelines.base import PipelineError
from pipelines.tiny import TinyRequest
from projects_db import Store
from studio.service import GenerationService

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def service(tmp_path: Path):
    store = Store.open(tmp_path / "data")
    svc = GenerationService(store)
    yield svc
    svc.close()
    store.close()


@pytest.fixture()
def project(service: GenerationService) -> int:
    return service.store.create_project("Service tests").id


def test_done_records_everything(service: GenerationService, project: int) -> None:
    info = service.run(project, "tiny", TinyRequest(text="one two three", emotion="sad", seed=3))
    assert info.status == "done", info.error
    assert info.emotion == "sad" and info.seed == 3 and info.backend == "tiny"
    assert info.started_at and info.finished_at and info.finished_at >= info.started_at
    assert info.compute_seconds is not None and info.compute_seconds > 0
    assert info.media_seconds == pytest.approx(3 * 0.30 - 3 * 0.12 * info_arousal("sad"), abs=0.01)
    wav = service.store.artifact_path(info, "audio")
    assert wav.suffix == ".wav" and wav.is_file()
    data, sr = soundfile.read(wav)
    assert sr == 16000 and len(data) / sr == pytest.approx(info.media_seconds, abs=1e-3)
    assert wav.resolve().is_relative_to(service.store.data_dir.resolve())
    assert json.loads(service.store.artifact_path(info, "notes").read_text())["notes"]
    assert "load" in info.timings and "synthesis" in info.timings
    assert not list(wav.parent.glob(".*tmp*")), "no temp files left behind"


def info_arousal(label: str) -> float:
    from pipelines.emotion import EmotionSpec

    return EmotionSpec.of(label).vad()[1]


def test_happy_is_higher_than_sad(service: GenerationService, project: int) -> None:
    happy = service.run(project, "tiny", {"text": "la la", "emotion": "happy", "seed": 1})
    sad = service.run(project, "tiny", {"text": "la la", "emotion": "sad", "seed": 1})
    assert happy.metadata["base_hz"] > sad.metadata["base_hz"]


def test_rerun_same_seed_same_bytes_and_fork_changes(
    service: GenerationService, project: int
) -> None:
    first = service.run(project, "tiny", {"text": "a b c d", "emotion": "angry", "seed": 11})
    again = service.rerun(first.id).wait()
    assert again.parent_id == first.id and again.request == first.request
    read = lambda g: service.store.artifact_path(g, "audio").read_bytes()  # noqa: E731
    assert read(again) == read(first)
    forked = service.fork(first.id, {**first.request, "seed": 12, "emotion": "happy"}).wait()
    assert forked.parent_id == first.id and forked.emotion == "happy"
    assert read(forked) != read(first)
    listed = [g.id for g in service.store.list_generations(project)]
    assert listed == [forked.id, again.id, first.id], "newest first"


def test_bad_request_is_refused_before_recording(service: GenerationService, project: int) -> None:
    with pytest.raises(PipelineError, match="did you mean 'happy'"):
        service.submit(project, "tiny", {"text": "x", "emotion": "hapy"})
    with pytest.raises(PipelineError, match="Valid tasks"):
        service.submit(project, "nope", {})
    assert service.store.list_generations(project) == []


def test_failure_is_recorded_and_partial_files_removed(
    service: GenerationService, project: int
) -> None:
    info = service.run(project, "tiny", {"text": "a b c d", "fail": "Synth broke — try again"})
    assert info.status == "failed" and info.error == "Synth broke — try again"
    assert info.artifacts == {}
    gen_dir = service.store.artifacts.generation_dir(project, info.id)
    assert not gen_dir.exists() or not any(gen_dir.iterdir())


def test_cancel_while_running(service: GenerationService, project: int) -> None:
    job = service.submit(project, "tiny", {"text": "a b c d e f g h", "step_delay": 0.2})
    deadline = time.monotonic() + 10
    while service.store.get_generation(job.generation_id).status != "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert service.cancel(job.generation_id)
    info = job.wait(10)
    assert info.status == "cancelled"
    assert job.fraction < 1.0
    assert not service.cancel(job.generation_id), "nothing left to cancel"


def test_cancel_while_queued(service: GenerationService, project: int) -> None:
    blocker = service.submit(project, "tiny", {"text": "a b c d e", "step_delay": 0.1})
    queued = service.submit(project, "tiny", {"text": "never runs"})
    assert service.cancel(queued.generation_id)
    assert queued.wait(10).status == "cancelled"
    assert blocker.wait(10).status == "done"


STALE_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from projects_db import Store
    store = Store.open(sys.argv[1])
    pid = store.create_project("crashy").id
    gen = store.create_generation(pid, task="tiny", backend="tiny", backend_version="1",
                                  request={"text": "x"}, seed=0, emotion=None)
    store.mark_running(gen.id, store.register_runner())
    store.artifacts.generation_dir(pid, gen.id).mkdir(parents=True, exist_ok=True)
    (store.artifacts.generation_dir(pid, gen.id) / ".audio.tmp-1.wav").write_bytes(b"partial")
    print(gen.id, pid, flush=True)
    os._exit(0)  # killed mid-run: no clean-up
    """
)


def test_stale_running_rows_fail_on_startup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = subprocess.run(
        [sys.executable, "-c", STALE_SCRIPT, str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    gid, pid = map(int, out.stdout.split())
    store = Store.open(data)
    try:
        assert store.get_generation(gid).status == "running"
        svc = GenerationService(store)
        assert svc.recovered == [gid]
        info = store.get_generation(gid)
        assert info.status == "failed" and "Interrupted" in (info.error or "")
        assert not store.artifacts.generation_dir(pid, gid).exists()
        svc.close()
    finally:
        store.close()
