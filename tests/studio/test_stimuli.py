"""Stimulus sets on real generations: a voice grid, loudness matching, resume after a kill,
byte-identical items from any worker, export, and bad specs refused before any work."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile
from studio_server import ROOT, cli

from pipelines.base import LoadSettings, PipelineError
from pipelines.stimuli import parse_spec, run_item
from studio.settings import Services, Settings
from studio.stimuli import Stimuli

GRID = {
    "name": "Accent x emotion",
    "task": "voice",
    "base": {"text": "Please take a seat by the window."},
    "factors": {"emotion": ["happy", "sad", "angry"], "accent": ["us", "rp"]},
    "seed": 7,
    "loudness": -23,
}


def _lufs(path: Path) -> float:
    samples, sr = soundfile.read(str(path))
    return float(pyloudnorm.Meter(sr).integrated_loudness(samples))


def test_voice_grid_makes_every_item_with_matched_loudness(tmp_path: Path) -> None:
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        stimuli = Stimuli(services)
        pid = services.store.create_project("Study").id
        made = stimuli.create(GRID, pid)
        seen: list[tuple[int, int]] = []
        report = stimuli.run(made.id, workers=1, progress=lambda d, t, _eta: seen.append((d, t)))
        assert len(report.done) == 6 and not report.failed and seen[-1] == (6, 6)
        items = services.store.stimulus_items(made.id)
        assert [i.status for i in items] == ["done"] * 6
        cells = {(i.factors["emotion"], i.factors["accent"]) for i in items}
        assert cells == {(e, a) for e in ("happy", "sad", "angry") for a in ("us", "rp")}
        levels = []
        for item in items:
            gen = services.store.get_generation(item.generation_id or 0)
            # the factors are in the request each item was made from, the rest is the base
            assert gen.request["accent"] == item.factors["accent"]
            assert gen.request["emotion"].split("@")[0] == item.factors["emotion"]
            assert gen.request["text"] == GRID["base"]["text"] and gen.seed == 7
            original = services.store.artifact_path(gen, "audio")
            matched = services.store.artifact_path(gen, "audio_matched")
            levels.append(_lufs(original))
            assert abs(_lufs(matched) - (-23.0)) <= 0.5, item.factors
            assert gen.metadata["loudness"]["original_lufs"] == pytest.approx(levels[-1], abs=0.1)
        assert max(levels) - min(levels) > 2.0  # the originals (kept) did differ
        # the Library shows the items as ordinary generations
        assert len(services.store.list_generations(pid, task="voice")) == 6
        # running it again makes nothing new
        again = stimuli.run(made.id, workers=1)
        assert again.done == [] and again.skipped == 6

        zpath = tmp_path / "set.zip"
        assert stimuli.export_zip(made.id, zpath) == 6
        with zipfile.ZipFile(zpath) as zf:
            rows = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode())))
            assert len(rows) == 6 and all(r["file"] in zf.namelist() for r in rows)
            assert {float(r["lufs"]) for r in rows} <= {x / 100 for x in range(-2350, -2249)}
            assert json.loads(zf.read("spec.json"))["factors"]["accent"] == ["us", "rp"]


def test_worker_process_gives_the_same_bytes_as_in_process(tmp_path: Path) -> None:
    spec = {**GRID, "factors": {"emotion": ["sad"]}, "loudness": None}
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        stimuli = Stimuli(services)
        made = stimuli.create(spec, services.store.create_project("p").id)
        stimuli.run(made.id, workers=1)
        item = services.store.stimulus_items(made.id)[0]
        gen = services.store.get_generation(item.generation_id or 0)
        pooled = services.store.artifact_path(gen, "audio").read_bytes()
    local = run_item("voice", gen.backend, item.request, LoadSettings(), None)
    assert local.artifacts["audio"][1] == pooled


def _item_statuses(data: Path) -> list[tuple[int, int | None, str | None]]:
    with sqlite3.connect(f"{(data / 'studio.db').as_uri()}?mode=ro", uri=True) as conn:
        return list(
            conn.execute(
                "SELECT i.position, i.generation_id, g.status FROM stimulus_items i "
                "LEFT JOIN generations g ON g.id = i.generation_id ORDER BY i.position"
            )
        )


@pytest.mark.slow
def test_killed_mid_set_then_resumed_gives_exactly_the_grid(tmp_path: Path) -> None:
    data = tmp_path / "data"
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**GRID, "loudness": None}))
    cmd = [sys.executable, str(ROOT / "launch.py"), "stimuli", "make", "--spec", str(spec),
           "--workers", "1", "--data-dir", str(data)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 180
    while True:
        assert time.monotonic() < deadline and proc.poll() is None, "the set never got going"
        try:
            done = [s for _, _, s in _item_statuses(data) if s == "done"]
        except sqlite3.OperationalError:
            done = []
        if len(done) >= 2:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker, as a crash would
    proc.wait()
    before = _item_statuses(data)
    assert len(before) == 6 and any(s != "done" for _, _, s in before)
    out = cli(data, "stimuli", "resume", "1", "--workers", "1", "--json")
    summary = json.loads(out.stdout)
    assert [i["status"] for i in summary["items"]] == ["done"] * 6
    after = _item_statuses(data)
    assert [p for p, _, _ in after] == list(range(6))
    assert len({g for _, g, _ in after}) == 6  # one generation per item, no duplicates
    kept = {p: g for p, g, s in before if s == "done"}
    assert all(dict((p, g) for p, g, _ in after)[p] == g for p, g in kept.items())
    assert not any(p.is_file() for p in (data / "tmp").rglob("*"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"task": "painting"}, "Spec task must be one of"),
        ({"factors": {"colour": ["red"]}}, "'colour' is not a voice request field"),
        ({"factors": {"emotion": []}}, "needs a non-empty list"),
        ({"factors": {"emotion": ["sad", "sad"]}}, "lists \"sad\" more than once"),
        ({"factors": {"emotion": ["happy", "glumpy"]}}, "Item 2 (emotion=\"glumpy\")"),
        ({"factors": {"seed": list(range(80)), "rate": [0.6 + i / 100 for i in range(80)]}},
         "6,400 items"),
        ({"base": {"text": ""}}, "Item 1"),
        ({"loudness": 3}, "'loudness' must be"),
        ({"extra": 1}, "Unknown spec key"),
    ],
)  # fmt: skip
def test_bad_specs_are_refused_before_any_work(change: dict, message: str, tmp_path: Path) -> None:
    spec = {**GRID, **change}
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        pid = services.store.create_project("p").id
        with pytest.raises(PipelineError, match=message.replace("(", r"\(").replace(")", r"\)")):
            Stimuli(services).create(spec, pid)
        assert services.store.list_stimulus_sets() == []
        assert services.store.list_generations(pid) == []


def test_missing_photo_and_big_grid_confirmation(tmp_path: Path) -> None:
    spec = {"task": "portrait", "base": {"audio": str(tmp_path / "nope.wav")},
            "factors": {"emotion": ["happy", "sad"]}}  # fmt: skip
    with (
        Services.open(Settings(data_dir=tmp_path / "data")) as services,
        pytest.raises(PipelineError, match=r"nope\.wav does not exist"),
    ):
        Stimuli(services).create(spec, services.store.create_project("p").id)
    big = {**GRID, "factors": {"seed": list(range(6000))}}
    with pytest.raises(PipelineError, match="confirm with --yes"):
        parse_spec(big)
    assert parse_spec(big, confirm_large=True).size == 6000
    dry = tmp_path / "big.json"
    dry.write_text(json.dumps(big))
    out = cli(tmp_path / "d", "stimuli", "make", "--spec", str(dry), "--dry-run", "--yes")
    assert "6000 voice item(s), all valid" in out.stdout


@pytest.mark.slow
def test_ray_engine_gives_the_same_bytes_as_the_local_one(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    spec = {**GRID, "factors": {"emotion": ["happy", "sad"]}, "loudness": -23}
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        stimuli = Stimuli(services)
        pid = services.store.create_project("p").id
        local, on_ray = stimuli.create(spec, pid), stimuli.create(spec, pid)
        assert stimuli.run(local.id, workers=1).done
        report = stimuli.run(on_ray.id, ray="local")  # a real local Ray (this machine's CPUs)
        assert len(report.done) == 2 and not report.failed

        def audio(set_id: int, name: str) -> list[bytes]:
            out = []
            for item in services.store.stimulus_items(set_id):
                gen = services.store.get_generation(item.generation_id or 0)
                out.append(services.store.artifact_path(gen, name).read_bytes())
            return out

        for name in ("audio", "audio_matched", "timings"):
            assert audio(local.id, name) == audio(on_ray.id, name), name
    # a Ray address that does not answer: a clear error, and nothing half-written
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    out = cli(tmp_path / "d2", "stimuli", "make", "--spec", str(spec_file),
              "--ray", "ray://127.0.0.1:9", check=False)  # fmt: skip
    assert out.returncode == 2 and "Could not reach the Ray cluster" in out.stderr
    assert "Traceback" not in out.stderr
    assert json.loads(cli(tmp_path / "d2", "projects", "list", "--json").stdout) == []


def test_portrait_grid_with_a_file_and_a_compose_grid_validate(tmp_path: Path) -> None:
    speech = tmp_path / "line one.wav"
    sr = 16000
    t = np.arange(int(1.2 * sr)) / sr
    soundfile.write(str(speech), 0.3 * np.sin(2 * np.pi * 150 * t) * np.sin(2 * np.pi * 2 * t), sr)
    portrait = {"task": "portrait", "base": {"audio": str(speech), "size": 256},
                "factors": {"emotion": ["happy", "sad"]}}  # fmt: skip
    compose = {
        "task": "compose",
        "base": {"size": 256, "music": False},
        "factors": {"text": ["Hello there.", "Goodbye now."], "emotion": ["happy"]},
    }
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        stimuli = Stimuli(services)
        pid = services.store.create_project("p").id
        made = stimuli.create(portrait, pid)
        assert len(stimuli.run(made.id, workers=1).done) == 2
        items = services.store.stimulus_items(made.id)
        stored = {i.request["audio"] for i in items}
        assert len(stored) == 1 and Path(stored.pop()).name == "line one.wav"  # an asset now
        for item in items:
            roles = services.store.generation_assets(item.generation_id or 0)
            assert [r for r, _ in roles] == ["audio"]
        assert stimuli.plan(compose)[1] == 2


def test_a_yaml_spec_dry_run(tmp_path: Path) -> None:
    spec = tmp_path / "grid.yaml"
    spec.write_text(
        "name: Accent grid\ntask: voice\nbase: {text: Hello there.}\n"
        "factors:\n  accent: [us, rp, scottish]\n  emotion: [happy, sad]\nrepeats: 2\n"
    )
    out = cli(tmp_path / "d", "stimuli", "make", "--spec", str(spec), "--dry-run")
    assert "Accent grid: 12 voice item(s), all valid." in out.stdout
    spec.write_text("task: [unclosed\n")
    bad = cli(tmp_path / "d", "stimuli", "make", "--spec", str(spec), check=False)
    assert bad.returncode == 2 and "is not valid YAML" in bad.stderr
