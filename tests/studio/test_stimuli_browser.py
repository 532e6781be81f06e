"""The Stimuli tab in headless Chromium: check a grid, make it, play a cell, export."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from studio_server import running_studio

from studio.stimuli_tab import EXAMPLE_SPEC

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = pytest.mark.browser


def test_make_a_grid_in_the_stimuli_tab(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("AFFECT_STUDIO_REQUIRE_BROWSER"):
            pytest.fail("Chromium is missing: `apt-get install chromium` (launch.py test does it).")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import expect, sync_playwright

    spec = {**EXAMPLE_SPEC, "factors": {"emotion": ["happy", "sad"], "accent": ["us", "rp"]}}
    with running_studio(tmp_path / "data") as studio, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(studio.url, wait_until="domcontentloaded")
        page.get_by_role("tab", name="Stimuli").click()
        editor = page.locator("#stimuli-spec .cm-content")
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        editor.fill(json.dumps(spec))
        page.locator("#stimuli-check").click()
        status = page.locator("#stimuli-status")
        expect(status).to_contain_text("4 voice item(s), all valid", timeout=30_000)
        page.locator("#stimuli-make").click()
        expect(status).to_contain_text("Done: 4 made", timeout=180_000)
        table = page.locator("#stimuli-items")
        expect(table).to_contain_text("accent=rp, emotion=sad")
        table.get_by_text("accent=us, emotion=happy").filter(visible=True).first.click()
        player = page.locator("#stimuli-audio")
        expect(player.locator("audio, canvas, .waveform-container").first).to_be_attached(
            timeout=30_000
        )
        page.get_by_role("button", name="Export ZIP (media + manifest.csv)").click()
        expect(status).to_contain_text("Exported 4 item(s)", timeout=60_000)
        shot = tmp_path / "stimuli.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
    if keep := os.environ.get("AFFECT_STUDIO_SCREENSHOTS"):
        shutil.copy(shot, Path(keep) / "stimuli.png")
    exports = list((tmp_path / "data" / "cache").rglob("stimulus-set-1.zip"))
    assert exports, "the export ZIP was not written"
    with zipfile.ZipFile(exports[0]) as zf:
        assert len(zf.read("manifest.csv").decode().strip().splitlines()) == 5
