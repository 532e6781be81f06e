"""A study as participants meet it, in headless Chromium against a real studio (with a login on,
which participant links do not need): blind pages, their own seeded order, playback enforced by
the server, answers saved at once (a reload and even kill -9 of the server lose none)."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from studio_server import CHROMIUM, CHROMIUM_ARGS, cli, require_chromium, running_studio

from studio.settings import Services, Settings
from studio.stimuli import Stimuli
from studio.study import Studies

ARGS = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required", "--mute-audio"]
GRID = {"task": "voice", "base": {"text": "Good morning."}, "seed": 2,
        "factors": {"emotion": ["happy", "sad", "angry", "neutral"]}}  # fmt: skip
AUTH = {"AFFECT_STUDIO_AUTH": "lab:secret"}

pytestmark = pytest.mark.browser


def _json(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _answered(data: Path, study: int) -> int:
    report = json.loads(cli(data, "study", "report", str(study), "--json").stdout)
    return int(report["answers"])


def test_participants_answer_blind_and_nothing_is_lost(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    data = tmp_path / "data"
    with Services.open(Settings(data_dir=data)) as services:
        stimuli = Stimuli(services)
        made = stimuli.create(GRID, services.store.create_project("study").id)
        assert len(stimuli.run(made.id, workers=1).done) == 4
        study = Studies(services).create(made.id, "emotion-id", 4, seed=9)
        orders = [tuple(r.item_id for r in services.store.study_rows(study.id, c))
                  for c in study.participant_codes]  # fmt: skip
    # the same items, in orders of their own (codes are random: 4 all alike has p ≈ 7e-5)
    assert len({tuple(sorted(o)) for o in orders}) == 1 and len(set(orders)) > 1
    first, second = study.participant_codes[:2]

    with running_studio(data, env=AUTH) as studio:
        base = studio.url.rstrip("/")
        assert _json(f"{base}/gradio_api/info")[0] == 401  # the studio needs its login …
        status, trial = _json(f"{base}/study/{first}/next")  # … a participant only the code
        assert status == 200 and trial["index"] == 1 and trial["total"] == 4
        shown = json.dumps(trial)
        for secret in ("wav", "artifacts", "generation", '"factors"', "Good morning"):
            assert secret not in shown  # blind
        assert _json(f"{base}/study/ffffff-ffffff-ffffff/next")[0] == 404
        # the server refuses an answer before the clip had time to play
        with urllib.request.urlopen(f"{base}{trial['media']}", timeout=30) as r:
            assert r.headers["Content-Type"].startswith("audio/") and len(r.read()) > 1000
        status, out = _json(
            f"{base}/study/{first}/answer",
            {"token": trial["token"], "response": "happy", "played_ms": 0},
        )
        assert status == 409 and "play the whole clip" in out["detail"], out
        other = _json(f"{base}/study/{second}/answer", {"token": trial["token"], "response": "sad"})
        assert other[0] == 404  # another participant's trial is out of reach

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page()
            page.goto(f"{base}/study/{first}")
            progress = page.locator("#progress")
            expect(progress).to_have_text("Trial 1 of 4", timeout=30_000)
            for n in (1, 2):
                expect(progress).to_have_text(f"Trial {n} of 4", timeout=30_000)
                button = page.get_by_role("button", name="sad")
                expect(button).to_be_disabled()  # not before the clip has played
                page.locator("#player audio").evaluate("a => a.play()")  # the participant: ▶
                expect(button).to_be_enabled(timeout=30_000)  # once the clip has ended
                button.click()
            expect(progress).to_have_text("Trial 3 of 4", timeout=30_000)
            page.reload()
            expect(progress).to_have_text("Trial 3 of 4", timeout=30_000)  # resumes
            page.screenshot(path=str(tmp_path / "participant.png"))
            browser.close()
        assert _answered(data, study.id) == 2  # the report sees them at once
        os.kill(_server_pid(data), signal.SIGKILL)
    with running_studio(data, env=AUTH) as studio:
        status, trial = _json(f"{studio.url.rstrip('/')}/study/{first}/next")
        assert status == 200 and trial["index"] == 3
    assert _answered(data, study.id) == 2


def _server_pid(data: Path) -> int:
    """The running studio's pid (from its runner lock's holder, via /proc)."""
    target = str((data / "studio.db").resolve())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            if b"serve" in cmd and str(data).encode() in b" ".join(cmd):
                return int(proc.name)
        except OSError:
            continue
    raise AssertionError(f"no studio process serving {target}")
