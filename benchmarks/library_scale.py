"""How the Library holds up at 100,000 generations (issue #18): builds them through the store
API in one project, then times the first page, filtered pages, a text search, the count, a deep
page, and the CLI's first page (wall clock, a fresh process) — on SQLite, and on PostgreSQL
when Debian's server can be started here (``--postgres``).

    .venv/bin/python benchmarks/library_scale.py [--rows 100000] [--postgres]

Each figure is the median of 5 runs, in milliseconds; goals: page ≤ 50 ms, count ≤ 100 ms,
CLI first page ≤ 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.emotion import EMOTIONS  # noqa: E402
from projects_db import GenerationFilter, NewGeneration, Store  # noqa: E402

WORDS = ["river", "lantern", "morning", "quiet", "storm", "garden", "letter", "window", "harbour",
         "candle"]  # fmt: skip


def build(store: Store, rows: int) -> int:
    project = store.create_project("Big library").id
    batch = 5000
    for start in range(0, rows, batch):
        items = [
            NewGeneration(
                task=("voice", "portrait", "music", "compose")[i % 4], backend="piper",
                backend_version="1", seed=i, emotion=EMOTIONS[i % 8],
                request={"text": f"{WORDS[i % 10]} {WORDS[(i // 10) % 10]} number {i}"},
            )
            for i in range(start, min(rows, start + batch))
        ]  # fmt: skip
        store.create_generations(project, items)
    return project


def timed(fn: Callable[[], Any], runs: int = 5) -> float:
    fn()  # warm the cache once, as a browsing user would
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(store: Store, project: int, data_dir: Path | None, db_url: str | None) -> None:
    f = GenerationFilter(project)
    deep = None
    for _ in range(40):  # 40 pages in: the cursor of page 41
        deep = store.page_generations(f, limit=50, cursor=deep).next_cursor
    cases: dict[str, Callable[[], Any]] = {
        "first page (50)": lambda: store.page_generations(f, limit=50),
        "filtered page (emotion=sad)": lambda: store.page_generations(
            GenerationFilter(project, emotion="sad"), limit=50
        ),
        "filtered page (task+emotion)": lambda: store.page_generations(
            GenerationFilter(project, task="voice", emotion="happy"), limit=50
        ),
        "text search, common word": lambda: store.page_generations(
            GenerationFilter(project, text="lantern"), limit=50
        ),
        "text search, one row": lambda: store.page_generations(
            GenerationFilter(project, text="number 12345 "), limit=50
        ),
        "page 41 (keyset)": lambda: store.page_generations(f, limit=50, cursor=deep),
        "count (all)": lambda: store.count_generations(f),
        "count (emotion=sad)": lambda: store.count_generations(
            GenerationFilter(project, emotion="sad")
        ),
    }
    for name, fn in cases.items():
        print(f"  {name:32s} {timed(fn):8.1f} ms")
    if data_dir is not None:
        cmd = [sys.executable, str(ROOT / "launch.py"), "generations", "list", "--project",
               "Big library", "--json", "--data-dir", str(data_dir)]  # fmt: skip
        if db_url:
            cmd += ["--db-url", db_url]
        walls = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            walls.append(time.perf_counter() - t0)
        print(f"  {'CLI first page (wall)':32s} {statistics.median(walls) * 1000:8.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        with Store.open(data) as store:
            t0 = time.perf_counter()
            project = build(store, args.rows)
            print(f"SQLite: built {args.rows} generations in {time.perf_counter() - t0:.1f} s")
            measure(store, project, data, None)
        if args.postgres:
            from studio.bootstrap import start_postgres, stop_postgres

            started = start_postgres()
            if started is None:
                print("PostgreSQL: not available here")
                return
            url, cluster = started
            try:
                with Store.open(Path(tmp) / "pg", url) as store:
                    t0 = time.perf_counter()
                    project = build(store, args.rows)
                    print(f"PostgreSQL: built {args.rows} in {time.perf_counter() - t0:.1f} s")
                    measure(store, project, Path(tmp) / "pg", url)
            finally:
                stop_postgres(cluster)


if __name__ == "__main__":
    main()
