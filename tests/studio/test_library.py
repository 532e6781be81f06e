"""Library tab handlers on the real store and the real tiny backend (no browser needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.base import PipelineError
from projects_db import StoreError
from studio.app import build_app
from studio.library import ALL, Library
from studio.settings import Services


def _generate(services: Services, pid: int, emotion: str, seed: int = 1) -> int:
    info = services.generations.run(
        pid, "tiny", {"text": "la la la", "emotion": emotion, "seed": seed}
    )
    assert info.status == "done", info.error
    return info.id


def test_projects_create_rename_delete(services: Services) -> None:
    lib = Library(services)
    pid, msg = lib.create_project("  Demo **reel**  ")
    assert "Demo \\*\\*reel\\*\\*" in msg  # Markdown-escaped for display
    assert lib.project_choices() == [("Demo **reel** (0)", pid)]
    with pytest.raises(StoreError, match="already exists"):
        lib.create_project("demo **REEL**")
    with pytest.raises(StoreError, match="empty"):
        lib.create_project("   ")
    assert "Renamed" in lib.rename_project(pid, "Final cut")
    _generate(services, pid, "happy")
    with pytest.raises(StoreError, match=r"confirm|Tick"):
        lib.delete_project(pid, confirmed=False)
    assert lib.project_choices() == [("Final cut (1)", pid)], "nothing lost on refusal"
    lib.delete_project(pid, confirmed=True)
    assert lib.project_choices() == []
    assert not services.store.artifacts.root.joinpath(f"p{pid}").exists()
    with pytest.raises(StoreError, match="Choose a project"):
        lib.rename_project(None, "x")


def test_rows_filters_details_rerun_fork_delete(services: Services) -> None:
    lib = Library(services)
    pid, _ = lib.create_project("Filters")
    sad = _generate(services, pid, "sad")
    happy = _generate(services, pid, "happy")
    rows = lib.rows(pid)
    assert [r[0] for r in rows] == [happy, sad]
    assert rows[0][2:6] == ["tiny", "tiny", "happy", "done"] and rows[0][7].endswith(" s")
    assert rows[0][1] == "la la la"  # the peek: the first words of the request
    assert [r[0] for r in lib.rows(pid, ALL, "sad")] == [sad]
    assert lib.rows(pid, "voice", ALL) == []

    d = lib.details(sad)
    assert d is not None and d.audio and Path(d.audio).is_file()
    assert json.loads(d.request_json)["emotion"] == "sad"
    assert d.timings["compute_seconds"] > 0 and d.timings["real_time_factor"] > 0

    child = lib.rerun(sad)
    services.generations.job(child) and services.generations.job(child).wait(30)  # type: ignore[union-attr]
    child_d = lib.details(child)
    assert child_d is not None and child_d.audio
    assert Path(child_d.audio).read_bytes() == Path(d.audio).read_bytes(), "same seed, same audio"
    assert "of #" in child_d.heading

    edited = json.loads(d.request_json) | {"emotion": "angry"}
    fork = lib.fork(sad, json.dumps(edited))
    job = services.generations.job(fork)
    if job:
        job.wait(30)
    assert services.store.get_generation(fork).emotion == "angry"
    with pytest.raises(PipelineError, match="not valid JSON"):
        lib.fork(sad, "{oops")
    with pytest.raises(PipelineError, match="Unknown field"):
        lib.fork(sad, json.dumps(edited | {"colour": "blue"}))

    assert "Deleted" in lib.delete_generation(sad)
    assert not Path(d.audio).exists()
    assert sad not in [r[0] for r in lib.rows(pid)]


def test_build_app_loads_nothing_heavy(services: Services) -> None:
    app = build_app(services)
    assert app.title == "Affect Studio"


def test_peek_has_a_small_still_for_videos(services: Services) -> None:
    import io

    from PIL import Image

    lib = Library(services)
    pid, _ = lib.create_project("Stills")
    store = services.store
    g = store.create_generation(pid, task="portrait", backend="warp", backend_version="1",
                                request={"audio": "talk.wav"}, seed=1, emotion="sad")  # fmt: skip
    png = io.BytesIO()
    Image.new("RGB", (400, 200), (200, 50, 50)).save(png, format="PNG")
    rel = store.artifacts.write_bytes(pid, g.id, "stills", ".png", png.getvalue())
    done = store.mark_finished(g.id, "done", artifacts={"stills": rel})
    peek = lib.peek(done)
    thumb = Path(peek.split("file=", 1)[1].split(")", 1)[0])
    assert peek.startswith("![still](/gradio_api/file=") and thumb.name == "thumb.jpg"
    with Image.open(thumb) as small:
        assert small.size == (80, 40)  # the still at 40 px high, aspect kept
    assert lib.peek(done) == peek  # made once, then reused
