from __future__ import annotations

import re
import threading

import pytest

from projects_db import (
    NotFound,
    ProjectNameError,
    ProjectNotEmpty,
    Store,
    normalise_project_name,
)

from .conftest import new_generation

BAD_NAMES = [
    ("", "empty"),
    ("   \t ", "empty"),
    ("x" * 81, "at most 80 characters (got 81)"),
    ("x" * 10000, "at most 80 characters (got 10000)"),
    ("a/b", "slashes are not allowed"),
    ("a\\b", "slashes are not allowed"),
    ("../evil", "slashes are not allowed"),
    (".", "only dots"),
    ("..", "only dots"),
    ("...", "only dots"),
    ("line\nbreak", "control character"),
    ("nul\x00byte", "control character"),
    ("tab\there", "control character"),
    ("esc\x1b[31m", "control character"),
    ("para\u2029graph", "control character"),
]

ODD_BUT_FINE = [
    "'; DROP TABLE projects; --",
    'Robert"); DROP TABLE generations;--',
    'O\'Brien "quoted" `ticks`',
    "😀 happy take 🎉",
    "👨‍👩‍👧 family",  # zero-width joiners
    "名前のプロジェクト",
    "Ünïcödé — dash",
    "%s %(name)s {0} $1 ?",
    "x" * 80,
    ".hidden",
]


@pytest.mark.parametrize(("name", "message"), BAD_NAMES, ids=[m for _, m in BAD_NAMES])
def test_bad_names_are_refused_and_change_nothing(store: Store, name: str, message: str) -> None:
    store.create_project("keep")
    with pytest.raises(ProjectNameError, match=re.escape(message)):
        store.create_project(name)
    project = store.create_project("other")
    with pytest.raises(ProjectNameError):
        store.rename_project(project.id, name)
    assert [p.name for p in store.list_projects()] == ["keep", "other"]


@pytest.mark.parametrize("name", ODD_BUT_FINE)
def test_odd_names_round_trip_verbatim(store: Store, name: str) -> None:
    created = store.create_project(name)
    assert created.name == name
    assert store.get_project(created.id).name == name
    assert store.find_project(name) == store.get_project(created.id)
    assert [p.name for p in store.list_projects()] == [name]
    # the SQL-looking names did nothing: every table is still there and usable
    gen = new_generation(store, created.id)
    assert store.get_generation(gen.id).project_id == created.id


def test_names_are_stripped_and_nfc_normalised() -> None:
    assert normalise_project_name("  Cafe\u0301  ") == "Caf\u00e9"


def test_create_get_find_list(store: Store) -> None:
    banana = store.create_project("banana")
    apple = store.create_project("Apple")
    cherry = store.create_project("cherry")
    assert [p.name for p in store.list_projects()] == ["Apple", "banana", "cherry"]
    assert store.get_project(apple.id) == apple
    assert store.find_project("APPLE") == apple
    assert store.find_project("  cherry ") == cherry
    assert store.find_project("durian") is None
    assert banana.created_at.tzinfo is not None
    assert banana.generation_count == 0
    with pytest.raises(NotFound):
        store.get_project(999)


@pytest.mark.parametrize("dupe", ["Demo", "demo", "  DEMO ", "dEmO"])
def test_duplicate_names_case_insensitive(store: Store, dupe: str) -> None:
    store.create_project("Demo")
    with pytest.raises(ProjectNameError, match="A project named 'Demo' already exists — choose"):
        store.create_project(dupe)
    assert len(store.list_projects()) == 1


def test_duplicate_detects_unicode_equivalents(store: Store) -> None:
    store.create_project("Caf\u00e9")
    with pytest.raises(ProjectNameError):
        store.create_project("CAFE\u0301")
    store.create_project("Straße")
    with pytest.raises(ProjectNameError):
        store.create_project("STRASSE")


def test_rename(store: Store) -> None:
    project = store.create_project("draft")
    other = store.create_project("final")
    renamed = store.rename_project(project.id, "Draft 2 ✨")
    assert renamed.name == "Draft 2 ✨"
    assert renamed.updated_at >= project.updated_at
    assert store.rename_project(project.id, "DRAFT 2 ✨").name == "DRAFT 2 ✨"  # case only
    with pytest.raises(ProjectNameError, match="'final' already exists"):
        store.rename_project(project.id, "Final")
    assert store.get_project(other.id).name == "final"
    with pytest.raises(NotFound):
        store.rename_project(12345, "x")


def test_delete_empty_project(store: Store) -> None:
    project = store.create_project("tmp")
    store.delete_project(project.id)
    assert store.list_projects() == []
    with pytest.raises(NotFound):
        store.delete_project(project.id)
    assert store.create_project("tmp").name == "tmp"  # the name is free again


def test_delete_project_with_generations_needs_confirmation(store: Store) -> None:
    project = store.create_project("x")
    keep = store.create_project("keep")
    kept = new_generation(store, keep.id)
    paths = []
    for i in range(3):
        gen = new_generation(store, project.id, seed=i)
        rel = store.artifacts.write_bytes(project.id, gen.id, "audio", ".wav", b"data")
        store.mark_finished(gen.id, "done", artifacts={"audio": rel})
        paths.append(store.data_dir / rel)
    asset = store.add_asset(b"portrait", "face.png")
    store.link_asset(gen.id, asset.id, "portrait")
    shared = store.add_asset(b"shared speech", "speech.wav")
    store.link_asset(gen.id, shared.id, "audio")
    store.link_asset(kept.id, shared.id, "audio")

    with pytest.raises(ProjectNotEmpty, match="has 3 generations — confirm") as info:
        store.delete_project(project.id)
    assert info.value.count == 3
    assert store.get_project(project.id).generation_count == 3
    assert all(p.exists() for p in paths)

    store.delete_project(project.id, with_generations=True)
    assert [p.name for p in store.list_projects()] == ["keep"]
    assert not any(p.exists() for p in paths)
    assert not store.artifacts.project_dir(project.id).exists()
    assert store.list_generations(project.id) == []
    assert store.get_generation(kept.id).project_id == keep.id
    # an input only the deleted generations used goes with them; a shared one stays
    with pytest.raises(NotFound):
        store.get_asset(asset.id)
    assert not asset.path.exists() and not asset.path.parent.exists()
    assert store.get_asset(shared.id).path.read_bytes() == b"shared speech"
    store.delete_generation(kept.id)
    assert not shared.path.exists()
    assert list((store.data_dir / "assets").rglob("*")) == []


def test_concurrent_create_same_name_one_wins(store: Store) -> None:
    def create(name: str, barrier: threading.Barrier, outcomes: list[str]) -> None:
        barrier.wait()
        try:
            store.create_project(name)
            outcomes.append("ok")
        except ProjectNameError:
            outcomes.append("dupe")

    for round_ in range(5):
        barrier = threading.Barrier(4)
        outcomes: list[str] = []
        threads = [
            threading.Thread(target=create, args=(f"race {round_}", barrier, outcomes))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["dupe", "dupe", "dupe", "ok"]
    assert len(store.list_projects()) == 5
