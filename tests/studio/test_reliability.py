"""Hardening (issue #10, items 4–7): no temp litter (also after kill -9), uploads reference-
counted and collected, clean one-line errors, deleting a project stops its jobs first."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from studio_server import ROOT, cli

from pipelines.music.request import MusicRequest
from studio.settings import Services, Settings

SHORT_TEXT = "We made it home before the storm."
INTERNAL_FILES = {"studio.db", "studio.db-wal", "studio.db-shm", ".studio-open.lock"}
LIBRARY_FILES = {".ses"}
"""Left in $TMPDIR by a library, not by a job: ``import onnxruntime`` writes a 51-byte session
id file there (the same one every time)."""


def _litter(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name not in LIBRARY_FILES)


def _files(folder: Path) -> list[str]:
    """Every file under ``folder`` except the database and its lock."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() not in INTERNAL_FILES
    )


def _status(data: Path) -> list[tuple[int, str, str | None]]:
    db = data / "studio.db"
    if not db.exists():
        return []
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=30) as conn:
        try:
            return list(conn.execute("SELECT id, status, error FROM generations ORDER BY id"))
        except sqlite3.OperationalError:  # not migrated yet
            return []


def _integrity(data: Path) -> list[tuple[str]]:
    with sqlite3.connect(f"{(data / 'studio.db').as_uri()}?mode=ro", uri=True) as conn:
        return list(conn.execute("PRAGMA integrity_check"))


def _compose_cmd(data: Path, out: Path) -> list[str]:
    return [
        sys.executable, str(ROOT / "launch.py"), "compose", "--text", SHORT_TEXT,
        "--emotion", "happy", "--size", "256", "-o", str(out), "--data-dir", str(data),
    ]  # fmt: skip


def _start_compose(data: Path, out: Path, env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    """Start a compose CLI job; returns it once its generation is running, and that moment."""
    before = len(_status(data))
    proc = subprocess.Popen(_compose_cmd(data, out), env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(s == "running" for _, s, _ in _status(data)[before:]):
        assert time.monotonic() < deadline and proc.poll() is None, "the job never started"
        time.sleep(0.05)
    return proc, time.monotonic()


def _wait_for_temp_work(tmp: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not any(p.is_file() for p in tmp.rglob("*")):
        assert time.monotonic() < deadline and proc.poll() is None, "no temp work was ever written"
        time.sleep(0.01)


@pytest.mark.slow
def test_no_temp_files_after_success_or_kill_minus_9(tmp_path: Path) -> None:
    data, tmp = tmp_path / "data", tmp_path / "system-tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc, started = _start_compose(data, tmp_path / "ok.mp4", env)
    assert proc.wait(300) == 0
    run_seconds = time.monotonic() - started
    assert (tmp_path / "ok.mp4").stat().st_size > 10_000
    # a successful compose leaves no copy of anything in the system or the job temp folder
    assert _litter(tmp) == []
    assert list((data / "tmp").iterdir()) == []
    kept = _files(data)
    assert all(f.startswith("artifacts/") for f in kept), kept

    litter: list[str] = []
    # one kill while the job's temp folder surely holds work, two at seeded random moments
    for percent in [None, *random.Random(10).sample(range(5, 90), 2)]:
        proc, started = _start_compose(data, tmp_path / "killed.mp4", env)
        if percent is None:
            _wait_for_temp_work(data / "tmp", proc)
        else:
            time.sleep(max(0.0, started + run_seconds * percent / 100 - time.monotonic()))
        proc.kill()
        proc.wait()
        litter += [f for f in _files(data) if f not in kept]
        # the next command (any) recovers: the row fails, its files and temp folder go
        cli(data, "projects", "list", env={"TMPDIR": str(tmp)})
        rows = _status(data)
        assert all(s in ("done", "failed") for _, s, _ in rows), rows
        assert all("Interrupted" in (e or "") for _, s, e in rows if s == "failed"), rows
        kept = [f for f in _files(data) if f.startswith("artifacts/")]  # a job may have won
        assert _files(data) == kept, f"killed at {percent} %"
        assert list((data / "tmp").iterdir()) == []
        assert _litter(tmp) == []
        assert _integrity(data) == [("ok",)]
    statuses = [s for _, s, _ in _status(data)]
    assert len(statuses) == 4 and statuses.count("failed") >= 1, statuses
    assert any(f.startswith("tmp/") for f in litter), litter  # the kills did leave work behind


def test_cancel_and_failure_leave_no_temp_folder(tmp_path: Path) -> None:
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        pid = services.store.create_project("p").id
        gens = services.generations
        job = gens.submit(pid, "portrait", {"audio": str(_speech(tmp_path / "a.wav", 4.0))})
        while job.stage in ("queued", "loading backend") and not job.finished:
            time.sleep(0.02)
        gens.cancel(job.generation_id)
        assert job.wait(120).status == "cancelled"
        failed = gens.run(pid, "portrait", {"audio": str(_speech(tmp_path / "b.wav", 0.1))})
        assert failed.status == "failed" and "b.wav is only 0.10 s long" in (failed.error or "")
        assert not any(p.is_file() for p in (services.store.data_dir / "tmp").rglob("*"))
        assert not any(p.is_file() for p in (services.store.data_dir / "artifacts").rglob("*"))


def _speech(path: Path, seconds: float, sr: int = 16000) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    tone = 0.3 * np.sin(2 * np.pi * 140 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((tone * 32767).astype("<i2").tobytes())
    return path


def test_uploads_are_reference_counted_and_collected(tmp_path: Path) -> None:
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        store, gens = services.store, services.generations
        first = store.create_project("first").id
        midi = gens.run(first, "music", MusicRequest(bars=2))
        upload = tmp_path / "My reference.mid"
        upload.write_bytes(store.artifact_path(midi, "midi").read_bytes())
        asset = store.add_asset(upload, upload.name)
        assert asset.path.name == "My reference.mid"  # stored under the user's name
        other = store.create_project("other").id
        # the service links the asset it finds in the request, whoever submitted it
        a = gens.run(other, "music", {"bars": 2, "reference_midi": str(asset.path)})
        b = gens.run(other, "music", {"bars": 2, "reference_midi": str(asset.path), "seed": 1})
        assert [r for r, _ in store.generation_assets(a.id)] == ["reference_midi"]
        gens.delete_generation(a.id)
        assert asset.path.exists()  # b still uses it
        gens.delete_project(other, with_generations=True)
        assert not asset.path.exists()
        assert list((store.data_dir / "assets").rglob("*")) == []
        assert b.id not in {g.id for g in store.list_generations(other)}
        kept_midi = store.artifact_path(midi, "midi")
        # orphans (an upload never used, a stray file, a deleted generation's leftovers) go too
        unused = store.add_asset(b"never used", "photo.jpg")
        stray = store.data_dir / "artifacts" / f"p{first}" / "g999" / "old.wav"
        stray.parent.mkdir(parents=True)
        stray.write_bytes(b"x" * 1000)
    dry = cli(tmp_path / "data", "gc", "--dry-run", "--min-age", "0")
    assert "Would free" in dry.stdout and "photo.jpg" in dry.stdout and "g999" in dry.stdout
    assert unused.path.exists() and stray.exists()
    freed = cli(tmp_path / "data", "gc", "--min-age", "0")
    assert "Freed" in freed.stdout and "1 input file(s)" in freed.stdout
    assert not unused.path.exists() and not stray.parent.exists()
    assert kept_midi.exists()  # what is used stays


def test_deleting_a_project_stops_its_running_jobs_first(tmp_path: Path) -> None:
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        store, gens = services.store, services.generations
        pid = store.create_project("busy").id
        audio = str(_speech(tmp_path / "long.wav", 6.0))
        jobs = [gens.submit(pid, "portrait", {"audio": audio, "seed": s}) for s in range(2)]
        while jobs[0].stage in ("queued", "loading backend"):
            time.sleep(0.02)
        gens.delete_project(pid, with_generations=True)
        assert all(j.finished for j in jobs)
        assert [j.wait().status for j in jobs] == ["cancelled", "cancelled"]
        assert store.find_project("busy") is None
        assert not any(p.is_file() for p in (store.data_dir / "artifacts").rglob("*"))
        assert not any(p.is_file() for p in (store.data_dir / "tmp").rglob("*"))


def test_bad_inputs_get_one_line_messages_naming_the_users_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    short = _speech(tmp_path / "short take.wav", 0.15)
    full = _speech(tmp_path / "full.wav", 2.0)
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(full.read_bytes()[:3000])
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "empty.wav").write_bytes(b"")
    out = tmp_path / "o.mp4"
    cases = [
        (["portrait", "--audio", str(short)], "short take.wav is only 0.15 s long", 2),
        (["portrait", "--audio", str(truncated)], "cut.wav is cut short", 2),
        (["portrait", "--image", str(tmp_path / "empty.jpg"), "--audio", str(full)],
         "empty.jpg is empty (0 bytes)", 2),
        (["portrait", "--audio", str(tmp_path / "empty.wav")], "empty.wav is empty (0 bytes)", 2),
    ]  # fmt: skip
    for args, message, code in cases:
        result = cli(data, *args, "-o", str(out), check=False)
        assert result.returncode == code, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()
    bad_url = cli(data, "--db-url", "garbage", "projects", "list", check=False)
    assert bad_url.returncode == 2 and "Traceback" not in bad_url.stderr
    assert bad_url.stderr.startswith("error: Database URL 'garbage' is not a database URL")


def test_read_only_database_gets_a_clear_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cli(data, "projects", "create", "A")
    (data / "studio.db").chmod(0o444)
    # root ignores file modes: drop the capability that lets it, as an ordinary user has none
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    if os.geteuid() != 0:
        prefix = []
    elif not Path("/usr/bin/setpriv").exists():
        pytest.skip("root without setpriv cannot open a file read-only")
    out = subprocess.run(
        [*prefix, sys.executable, str(ROOT / "launch.py"), "projects", "create", "B",
         "--data-dir", str(data)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "is read-only for this user" in out.stderr and "chmod u+rw" in out.stderr
    assert "Traceback" not in out.stderr
    (data / "studio.db").chmod(0o644)
    names = [p["name"] for p in json.loads(cli(data, "projects", "list", "--json").stdout)]
    assert names == ["A"]
