"""Start the real studio, drive the Library tab in headless Chromium, take screenshots."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from studio_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    cli,
    keep_screenshot,
    require_chromium,
    running_studio,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    require_chromium()
    data = tmp_path_factory.mktemp("browser") / "data"
    t0 = time.perf_counter()
    with running_studio(data) as running:
        print(f"UI ready {time.perf_counter() - t0:.1f} s after `launch.py serve`")
        yield running.url.rstrip("/"), data


def _cli(data: Path, *args: str) -> str:
    return cli(data, *args).stdout


def test_create_project_in_library(studio: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, data = studio
    name = "Study *one* <i>x 🎭"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url, wait_until="domcontentloaded")
        expect(page.get_by_text("Affect Studio").first).to_be_visible(timeout=30_000)
        page.get_by_role("tab", name="Library").click()
        box = page.locator("#new-project-name").get_by_role("textbox")
        box.fill(name)
        page.locator("#create-project").click()
        status = page.locator("#library-status")
        expect(status).to_contain_text("Created project", timeout=30_000)
        expect(status).to_contain_text("Study *one* <i>x 🎭")  # shown literally, not as HTML
        picker = page.locator("#project-picker input").first
        expect(picker).to_have_value(f"{name} (0)", timeout=10_000)

        # A duplicate name is refused with a clear message and the typed name is kept.
        box.fill(name.upper())
        page.locator("#create-project").click()
        expect(status).to_contain_text("already exists", timeout=30_000)
        expect(status).to_contain_text(f"named '{name}'")  # shown literally
        expect(box).to_have_value(name.upper())
        shot = tmp_path / "library.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    keep_screenshot(shot)

    # The second process (CLI) sees what the UI created, while the UI still runs.
    projects = json.loads(_cli(data, "projects", "list", "--json"))
    assert [p["name"] for p in projects] == [name]


def test_music_tab_generates_and_library_lists_it(studio: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, data = studio
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("tab", name="Music").click()
        page.locator("#music-generate").click()
        status = page.locator("#music-status")
        expect(status).to_contain_text("done", timeout=90_000)
        expect(page.locator("audio").first).to_be_attached(timeout=10_000)
        shot = tmp_path / "music.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    if keep := os.environ.get("AFFECT_STUDIO_SCREENSHOTS"):
        shutil.copy(shot, Path(keep) / "music.png")
    gens = json.loads(_cli(data, "generations", "list", "--project", "Scratch", "--json"))
    assert [(g["task"], g["status"]) for g in gens] == [("music", "done")]


def test_voice_then_portrait_from_text(studio: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, data = studio
    keep = os.environ.get("AFFECT_STUDIO_SCREENSHOTS")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("tab", name="Voice").click()
        page.locator("#voice-text").get_by_role("textbox").fill("What a lovely day it is today.")
        page.locator("#voice-generate").click()
        expect(page.locator("#voice-status")).to_contain_text("done", timeout=120_000)
        page.screenshot(path=str(tmp_path / "voice.png"), full_page=True)

        page.get_by_role("tab", name="Portrait").click()
        page.locator("#portrait-text").get_by_role("textbox").fill("Nice to meet you.")
        page.locator("#portrait-generate").click()
        expect(page.locator("#portrait-status")).to_contain_text("done", timeout=180_000)
        expect(page.locator("video").first).to_be_attached(timeout=10_000)
        page.screenshot(path=str(tmp_path / "portrait.png"), full_page=True)

        # No project chosen: the voice picker and the Library show Scratch, where the work went.
        expect(page.locator("#portrait-voice-gen")).to_be_hidden()
        page.locator("#portrait-speech").get_by_text("Voice generation").click()
        expect(page.locator("#portrait-text")).to_be_hidden(timeout=10_000)
        page.locator("#portrait-voice-gen input").first.click()
        expect(page.get_by_role("option", name="What a lovely day")).to_be_visible(timeout=10_000)
        page.keyboard.press("Escape")
        page.get_by_role("tab", name="Library").click()
        table = page.locator("#generations-table")
        expect(table).to_contain_text("Nice to meet you", timeout=15_000)
        expect(table).to_contain_text("What a lovely day")
        browser.close()
    if keep:
        for name in ("voice.png", "portrait.png"):
            shutil.copy(tmp_path / name, Path(keep) / name)
    gens = json.loads(_cli(data, "generations", "list", "--project", "Scratch", "--json"))
    done = [(g["task"], g["status"]) for g in gens if g["task"] in ("voice", "portrait")]
    assert done == [("portrait", "done"), ("voice", "done"), ("voice", "done")]


def test_dialogue_turn_with_crisis_help(studio: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, _ = studio
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("tab", name="Dialogue").click()
        box = page.locator("#dialogue-message").get_by_role("textbox")
        box.fill("I feel so hopeless, I want to end my life.")
        page.locator("#dialogue-send").click()
        panel = page.locator("#dialogue-panel")
        expect(panel).to_contain_text("Detected", timeout=120_000)
        chat = page.locator("#dialogue-chat")
        # Crisis language always gets a pointer to human help, whatever the model wrote.
        expect(chat).to_contain_text("crisis line", timeout=30_000)
        page.screenshot(path=str(tmp_path / "dialogue.png"), full_page=True)
        browser.close()
    if keep := os.environ.get("AFFECT_STUDIO_SCREENSHOTS"):
        shutil.copy(tmp_path / "dialogue.png", Path(keep) / "dialogue.png")


def test_compose_a_finished_video(studio: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, data = studio
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("tab", name="Compose").click()
        page.locator("#compose-text").get_by_role("textbox").fill("It is so good to see you.")
        page.locator("#compose-generate").click()
        expect(page.locator("#compose-status")).to_contain_text(
            "lower than between phrases", timeout=180_000
        )
        expect(page.locator("video").first).to_be_attached(timeout=10_000)
        expect(page.locator("video track")).to_have_count(1, timeout=10_000)  # subtitles
        page.screenshot(path=str(tmp_path / "compose.png"), full_page=True)
        browser.close()
    if keep := os.environ.get("AFFECT_STUDIO_SCREENSHOTS"):
        shutil.copy(tmp_path / "compose.png", Path(keep) / "compose.png")
    gens = json.loads(_cli(data, "generations", "list", "--project", "Scratch", "--json"))
    assert ("compose", "done") in [(g["task"], g["status"]) for g in gens]
