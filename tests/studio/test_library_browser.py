"""The Library with 10,000 generations in headless Chromium: the first page soon after the
project is chosen, paging, a text search, the filters kept in the address over a reload, and a
bulk export of a selection."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from studio_server import CHROMIUM, CHROMIUM_ARGS, keep_screenshot, require_chromium, running_studio

from projects_db import NewGeneration, Store

pytestmark = pytest.mark.browser
ROWS = 10_000


def test_ten_thousand_rows_page_and_search(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    data = tmp_path / "data"
    with Store.open(data) as store:
        pid = store.create_project("Big").id
        store.create_generations(pid, [
            NewGeneration(task="voice", backend="piper", backend_version="1", seed=i,
                          emotion=("happy", "sad")[i % 2], request={"text": f"take {i} today"})
            for i in range(ROWS)
        ])  # fmt: skip
        newest = max(store.matching_ids(_all(pid)))
    with running_studio(data) as studio, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(studio.url, wait_until="domcontentloaded")
        page.get_by_role("tab", name="Library").click()
        info, table = page.locator("#library-page"), page.locator("#generations-table")
        page.locator("#project-picker input").first.click()
        started = time.monotonic()
        page.get_by_role("option", name=f"Big ({ROWS})").click()
        expect(info).to_contain_text(f"1–50 of {ROWS:,}", timeout=10_000)
        expect(table).to_contain_text(str(newest))
        print(f"first page of {ROWS:,} shown {time.monotonic() - started:.2f} s after choosing")

        page.locator("#library-next").click()
        expect(info).to_contain_text(f"51–100 of {ROWS:,}", timeout=10_000)
        expect(table).to_contain_text(str(newest - 50))
        search = page.locator("#library-search textarea, #library-search input").first
        search.click()  # into the search box and out again without typing: the page stays
        page.locator("#library-page").click()
        page.wait_for_timeout(1000)
        expect(info).to_contain_text(f"51–100 of {ROWS:,}")
        page.locator("#library-prev").click()
        expect(info).to_contain_text(f"1–50 of {ROWS:,}", timeout=10_000)

        search.fill("take 1234 ")
        search.press("Enter")
        expect(info).to_contain_text("1–1 of 1", timeout=10_000)
        expect(table).to_contain_text("take 1234 today")
        assert "q=take+1234" in page.url and f"project={pid}" in page.url

        page.reload(wait_until="domcontentloaded")  # the view survives a reload
        page.get_by_role("tab", name="Library").click()
        expect(page.locator("#library-page")).to_contain_text("1–1 of 1", timeout=20_000)

        page.get_by_text("Bulk actions").click()
        page.locator("#bulk-ids textarea, #bulk-ids input").first.fill(f"{newest - 2}-{newest}")
        page.locator("#bulk-export").click()
        expect(page.locator("#library-status")).to_contain_text(
            "Exported 0 generation(s)",
            timeout=20_000,  # the search still applies: none match
        )
        shot = tmp_path / "library_10k.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    keep_screenshot(shot)


def _all(pid: int) -> object:
    from projects_db import GenerationFilter

    return GenerationFilter(pid)
