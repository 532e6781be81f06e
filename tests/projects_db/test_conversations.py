"""Conversations and turns: record, resume, export, cascade, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from projects_db import NotFound, Store
from projects_db.conversations import EXPORT_FORMAT
from projects_db.models import Base


def _turn(store: Store, cid: int, i: int) -> None:
    store.add_turn(
        cid,
        user_text=f"message {i}",
        reply=f"reply {i}",
        backend="tiny",
        detected={"label": "sad", "confidence": 0.8},
        cause_words=[["lonely", 0.6]],
        planned_emotion="sad@0.4",
        structure={"format_ok": True, "emotion": "caring"},
        rubric={"total": 0.8},
        patterns=["acknowledgment"],
        timings={"generation": 1.5},
    )


def test_record_resume_export(data_dir: Path, store: Store) -> None:
    pid = store.create_project("Chats").id
    conv = store.create_conversation(
        pid, title="  First   chat ", persona={"name": "Sam"}, backend="tiny"
    )
    assert conv.title == "First chat" and conv.turn_count == 0
    for i in range(5):
        _turn(store, conv.id, i)
    store.close()
    with Store.open(data_dir) as again:  # resume after a restart
        turns = again.list_turns(conv.id)
        assert [t.idx for t in turns] == [0, 1, 2, 3, 4]
        assert turns[2].user_text == "message 2" and turns[2].cause_words == [["lonely", 0.6]]
        assert turns[4].rubric == {"total": 0.8} and turns[4].patterns == ["acknowledgment"]
        assert again.get_conversation(conv.id).turn_count == 5
        assert [c.id for c in again.list_conversations(pid)] == [conv.id]
        exported = json.loads(json.dumps(again.export_conversation(conv.id)))
        assert exported["format"] == EXPORT_FORMAT and len(exported["turns"]) == 5
        assert exported["conversation"]["persona"] == {"name": "Sam"}
        updated = again.update_conversation(conv.id, persona={"name": "Ada"}, backend="smollm")
        assert updated.persona == {"name": "Ada"} and updated.backend == "smollm"


def test_missing_and_cascade(store: Store) -> None:
    pid = store.create_project("Gone").id
    with pytest.raises(NotFound):
        store.create_conversation(pid + 99, title="x", persona={}, backend="tiny")
    conv = store.create_conversation(pid, title="x", persona={}, backend="tiny")
    _turn(store, conv.id, 0)
    store.delete_project(pid)
    with pytest.raises(NotFound):
        store.list_turns(conv.id)
    with pytest.raises(NotFound):
        store.add_turn(conv.id, user_text="a", reply="b", backend="tiny")


def test_delete_conversation(store: Store) -> None:
    pid = store.create_project("P").id
    conv = store.create_conversation(pid, title="x", persona={}, backend="tiny")
    store.delete_conversation(conv.id)
    assert store.list_conversations(pid) == []


def test_schema_matches_models(store: Store) -> None:
    engine = store._engine
    assert engine is not None
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == "0007"
        assert compare_metadata(context, Base.metadata) == []
