"""A study as participants meet it, in headless Chromium against a real studio (with a login on,
which participant links do not need): blind pages, their own seeded order, playback enforced by
the server, answers saved at once (a reload and even kill -9 of the server lose none)."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

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
        studies = Studies(services)
        study = studies.create(made.id, "emotion-id", 4, seed=9, gold=[1])  # item 1: happy
        orders = [tuple(r.item_id for r in services.store.study_rows(study.id, c))
                  for c in study.participant_codes]  # fmt: skip
        golds = {c: [r.position for r in services.store.study_rows(study.id, c) if r.check]
                 for c in study.participant_codes}  # fmt: skip
        va = studies.create(made.id, "va", 1, per_participant=1, seed=1)
        ab = studies.create(made.id, "ab", 1, per_participant=1, seed=1)  # compares emotions
        mushra = studies.create(made.id, "mushra", 1, seed=1, reference="neutral")
        strength = studies.create(made.id, "mos", 1, per_participant=1, ask=["strength"])
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
                pick = "happy" if n - 1 in golds[first] else "sad"  # gold answered right
                button = page.get_by_role("button", name=pick, exact=True)
                expect(button).to_be_disabled()  # not before the clip has played
                page.locator("#player audio").evaluate("a => a.play()")  # the participant: ▶
                expect(button).to_be_enabled(timeout=30_000)  # once the clip has ended
                button.click()
            expect(progress).to_have_text("Trial 3 of 4", timeout=30_000)
            page.reload()
            expect(progress).to_have_text("Trial 3 of 4", timeout=30_000)  # resumes
            page.screenshot(path=str(tmp_path / "participant.png"))
            _other_designs(page, base, tmp_path, va, ab, mushra, strength)
            browser.close()
        counted = 2 - sum(p < 2 for p in golds[first])  # a gold answer is a check, not a figure
        assert _answered(data, study.id) == counted  # the report sees them at once
        # the second participant misses the gold item: flagged and excluded, the report says so
        for _ in range(golds[second][0] + 1):
            _answer_over_http(base, second, "other")
        report = json.loads(cli(data, "study", "report", str(study.id), "--json").stdout)
        assert report["flagged"] == [second] and "gold" in report["flag_reasons"][second][0]
        assert report["progress"][second]["answered"] == golds[second][0] + 1
        os.kill(_server_pid(data), signal.SIGKILL)
    with running_studio(data, env=AUTH) as studio:
        status, trial = _json(f"{studio.url.rstrip('/')}/study/{first}/next")
        assert status == 200 and trial["index"] == 3
    assert _answered(data, study.id) == counted


def _answer_over_http(base: str, code: str, answer: str) -> None:
    status, trial = _json(f"{base}/study/{code}/next")
    assert status == 200, trial
    started = time.monotonic()
    with urllib.request.urlopen(f"{base}{trial['media']}", timeout=30) as r:
        r.read()
    for _ in range(40):  # the server accepts it once the clip has had time to play
        status, out = _json(
            f"{base}/study/{code}/answer",
            {"token": trial["token"], "response": answer, "played_ms": 60_000},
        )
        if status == 200:
            return
        assert "play the whole clip" in out["detail"] and time.monotonic() - started < 20, out
        time.sleep(0.25)
    raise AssertionError("the answer was never accepted")


def _play_all(page: Any) -> None:
    page.locator("#player audio").evaluate_all("all => all.forEach(a => a.play())")


def _other_designs(
    page: Any, base: str, shots: Path, va: Any, ab: Any, mushra: Any, strength: Any
) -> None:
    """The valence-arousal pad, the A/B comparison, a MUSHRA page and a MOS page that also asks
    for the emotion's strength, answered in the browser."""
    from playwright.sync_api import expect

    progress = page.locator("#progress")
    page.goto(f"{base}/study/{va.participant_codes[0]}")
    expect(progress).to_have_text("Trial 1 of 1", timeout=30_000)
    nxt = page.get_by_role("button", name="Next")
    expect(nxt).to_be_disabled()
    _play_all(page)
    expect(nxt).to_be_enabled(timeout=30_000)
    box = page.locator("#pad").bounding_box()
    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.2 * box["height"])
    page.screenshot(path=str(shots / "participant_va.png"))
    nxt.click()
    expect(progress).to_have_text("All 1 done — thank you!", timeout=30_000)

    page.goto(f"{base}/study/{ab.participant_codes[0]}")
    expect(progress).to_have_text("Trial 1 of 1", timeout=30_000)
    assert page.locator("#player audio").count() == 2
    better = page.get_by_role("button", name="B better", exact=True)
    expect(better).to_be_disabled()
    _play_all(page)
    expect(better).to_be_enabled(timeout=30_000)
    page.screenshot(path=str(shots / "participant_ab.png"))
    better.click()
    expect(progress).to_have_text("All 1 done — thank you!", timeout=30_000)

    page.goto(f"{base}/study/{mushra.participant_codes[0]}")
    expect(progress).to_have_text("Trial 1 of 1", timeout=30_000)
    assert page.locator("#player audio").count() == 5  # the reference and 4 samples
    nxt = page.get_by_role("button", name="Next")
    _play_all(page)
    expect(nxt).to_be_enabled(timeout=30_000)
    page.locator(".score").evaluate_all(
        "all => all.forEach((s, i) => { s.value = 10 * (i + 1); "
        "s.dispatchEvent(new Event('input')); })"
    )
    page.screenshot(path=str(shots / "participant_mushra.png"))
    nxt.click()
    expect(progress).to_have_text("All 1 done — thank you!", timeout=30_000)

    page.goto(f"{base}/study/{strength.participant_codes[0]}")
    expect(progress).to_have_text("Trial 1 of 1", timeout=30_000)
    _play_all(page)
    nxt = page.get_by_role("button", name="Next")
    expect(nxt).to_be_enabled(timeout=30_000)
    page.get_by_role("button", name="4 Good").click()
    nxt.click()  # the strength is not rated yet: nothing is sent
    expect(page.locator("#msg")).to_have_text("Choose an answer and rate every question.")
    page.locator("input[name=strength][value='5']").check()
    page.screenshot(path=str(shots / "participant_mos_strength.png"))
    nxt.click()
    expect(progress).to_have_text("All 1 done — thank you!", timeout=30_000)

    with Services.open(Settings(data_dir=Path(shots / "data"))) as services:
        (s_row,) = services.store.study_rows(strength.id)
        (v_row,) = services.store.study_rows(va.id)
        (ab_row,) = services.store.study_rows(ab.id)
        (m_row,) = services.store.study_rows(mushra.id)
    v, a = v_row.response
    assert v == pytest.approx(0.6, abs=0.05) and a == pytest.approx(0.6, abs=0.05)
    assert ab_row.response == 2.0 and ab_row.shown and len(ab_row.shown) == 2
    assert m_row.response == [10.0, 20.0, 30.0, 40.0] and m_row.played_ms > 0
    assert s_row.response == {"answer": 4.0, "strength": 5}


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
