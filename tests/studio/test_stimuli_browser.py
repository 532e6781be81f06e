"""The Stimuli tab in headless Chromium: check a grid, make it, play a cell, export."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from studio_server import CHROMIUM, CHROMIUM_ARGS, keep_screenshot, require_chromium, running_studio

from studio.stimuli_tab import EXAMPLE_SPEC

pytestmark = pytest.mark.browser


def test_make_a_grid_in_the_stimuli_tab(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    spec = {**EXAMPLE_SPEC, "factors": {"emotion": ["happy", "sad"], "accent": ["us", "rp"]}}
    with running_studio(tmp_path / "data") as studio, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
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
    keep_screenshot(shot)
    exports = list((tmp_path / "data" / "cache").rglob("stimulus-set-1.zip"))
    assert exports, "the export ZIP was not written"
    with zipfile.ZipFile(exports[0]) as zf:
        assert len(zf.read("manifest.csv").decode().strip().splitlines()) == 5
