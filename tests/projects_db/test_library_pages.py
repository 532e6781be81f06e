"""The Library's queries at scale: keyset pages (stable under equal timestamps), combined
filters, literal text search, counts, streaming, bulk recording, and the 0006 backfill."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from projects_db import GenerationFilter, NewGeneration, Store, StoreError
from projects_db.engine import alembic_config
from projects_db.stimuli import NewItem

EMOTIONS = ["happy", "sad", "angry"]


def _fill(store: Store, project: int, n: int) -> list[int]:
    items = [
        NewGeneration(
            task="voice" if i % 2 else "music", backend="piper" if i % 3 else "tiny",
            backend_version="1", request={"text": f"line {i} of the 100% test_set"}, seed=i,
            emotion=EMOTIONS[i % 3],
        )
        for i in range(n)
    ]  # fmt: skip
    assert store.create_generations(project, items) == n
    return [g.id for g in store.list_generations(project)]


def test_keyset_pages_cover_everything_once_newest_first(store: Store) -> None:
    project = store.create_project("big").id
    other = store.create_project("other").id
    ids = _fill(store, project, 230)  # one transaction: all share one created_at
    _fill(store, other, 5)
    f = GenerationFilter(project)
    seen, cursor = [], None
    while True:
        page = store.page_generations(f, limit=50, cursor=cursor)
        seen += [g.id for g in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ids and len(seen) == 230  # no gaps, no repeats, ties broken by id
    assert store.count_generations(f) == 230
    assert [g.id for g in store.iter_generations(f, batch=17)] == ids
    with pytest.raises(StoreError, match="page link is not valid"):
        store.page_generations(f, cursor="not-a-cursor")


def test_filters_combine_and_text_is_literal(store: Store) -> None:
    project = store.create_project("p").id
    _fill(store, project, 60)
    f = GenerationFilter(project, task="voice", emotion="sad", backend="piper")
    got = list(store.iter_generations(f))
    assert got and all((g.task, g.emotion, g.backend) == ("voice", "sad", "piper") for g in got)
    assert store.count_generations(f) == len(got)
    assert store.count_generations(GenerationFilter(project, text="LINE 7 ")) == 1  # line 7
    assert store.count_generations(GenerationFilter(project, text="line 1")) == 11  # 1, 10-19
    assert store.count_generations(GenerationFilter(project, text="100%")) == 60
    assert store.count_generations(GenerationFilter(project, text="100_")) == 0  # _ literal
    assert store.count_generations(GenerationFilter(project, text="test_set")) == 60
    some = [g.id for g in got[:3]]
    assert store.matching_ids(GenerationFilter(project, ids=some)) == sorted(some)
    assert store.backends_in(project) == ["piper", "tiny"]
    with pytest.raises(StoreError, match="Status must be"):
        GenerationFilter(project, status="exploded")


def test_date_range_and_stimulus_set(store: Store) -> None:
    project = store.create_project("p").id
    ids = _fill(store, project, 6)
    made = store.get_generation(ids[0]).created_at
    assert store.count_generations(GenerationFilter(project, since=made)) == 6
    assert store.count_generations(GenerationFilter(project, until=made)) == 0
    assert (
        store.count_generations(
            GenerationFilter(project, since=made - timedelta(days=1), until=made + timedelta(1))
        )
        == 6
    )
    with pytest.raises(StoreError, match="date range is empty"):
        GenerationFilter(project, since=made, until=made)
    grid = store.create_stimulus_set(
        project, name="g", task="voice", backend="piper", spec={},
        items=[NewItem(i, {"n": i}, {"text": "x"}, 0) for i in range(2)],
    )  # fmt: skip
    for item, gid in zip(store.stimulus_items(grid.id), ids[:2], strict=True):
        store.attach_item_generation(item.id, gid)
    assert store.matching_ids(GenerationFilter(project, stimulus_set=grid.id)) == sorted(ids[:2])


def test_migration_fills_the_search_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config()
    config.attributes["connection"] = None
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
        conn.execute(sa.text(
            "INSERT INTO projects (id, name, name_key, created_at, updated_at) "
            "VALUES (1, 'p', 'p', '2026-01-01', '2026-01-01')"
        ))  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO generations (project_id, task, backend, backend_version, request_json,"
            " seed, status, created_at, artifacts_json, timings_json, metadata_json) VALUES "
            "(1, 'voice', 'piper', '1', :r, 1, 'done', '2026-01-01', '{}', '{}', '{}')"
        ), {"r": json.dumps({"text": "Grandma's Soup", "image": "me.JPG"})})  # fmt: skip
        command.upgrade(config, "head")
        (text,) = conn.execute(sa.text("SELECT search_text FROM generations")).one()
    assert text == "grandma's soup me.jpg"
