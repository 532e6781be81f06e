"""Dialogue conversations and turns in :class:`projects_db.Store`: record, resume, export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from projects_db._base import StoreBase
from projects_db.conversation_models import Conversation, Turn
from projects_db.errors import NotFound, StoreError
from projects_db.models import Project, dump_json, utcnow

EXPORT_FORMAT = "affect-studio/conversation@1"


@dataclass(frozen=True)
class ConversationInfo:
    """A conversation with the dialogue partner."""

    id: int
    project_id: int
    title: str
    persona: dict[str, Any]
    """Persona name, style, Big-Five traits and other settings as JSON."""
    backend: str
    created_at: datetime
    updated_at: datetime
    turn_count: int


@dataclass(frozen=True)
class TurnInfo:
    """One exchange: the user's message, what was understood and planned, and the reply."""

    id: int
    conversation_id: int
    idx: int
    """0-based position in the conversation."""
    user_text: str
    detected: dict[str, Any]
    cause_words: list[Any]
    planned_emotion: str | None
    reply: str
    structure: dict[str, Any]
    rubric: dict[str, Any]
    patterns: list[str]
    """Beyond-No patterns of the reply."""
    backend: str
    timings: dict[str, float]
    generation_id: int | None
    created_at: datetime


def _conv_info(session: Session, c: Conversation) -> ConversationInfo:
    count = session.scalar(select(func.count()).where(Turn.conversation_id == c.id)) or 0
    return ConversationInfo(
        c.id, c.project_id, c.title, json.loads(c.persona_json), c.backend,
        c.created_at, c.updated_at, int(count),
    )  # fmt: skip


def _turn_info(t: Turn) -> TurnInfo:
    return TurnInfo(
        id=t.id,
        conversation_id=t.conversation_id,
        idx=t.idx,
        user_text=t.user_text,
        detected=json.loads(t.detected_json),
        cause_words=json.loads(t.cause_words_json),
        planned_emotion=t.planned_emotion,
        reply=t.reply,
        structure=json.loads(t.structure_json),
        rubric=json.loads(t.rubric_json),
        patterns=json.loads(t.patterns_json),
        backend=t.backend,
        timings=json.loads(t.timings_json),
        generation_id=t.generation_id,
        created_at=t.created_at,
    )


def _get(session: Session, conversation_id: int) -> Conversation:
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound(f"Conversation {conversation_id} does not exist (it may have been deleted)")
    return conv


class ConversationsMixin(StoreBase):
    def create_conversation(
        self, project_id: int, *, title: str, persona: dict[str, Any], backend: str
    ) -> ConversationInfo:
        """Start a conversation in a project."""
        title = " ".join(str(title).split())[:200] or "Conversation"
        with self._writing() as session:
            if session.get(Project, project_id) is None:
                raise NotFound(f"Project {project_id} does not exist (it may have been deleted)")
            now = utcnow()
            conv = Conversation(
                project_id=project_id, title=title, persona_json=dump_json(persona),
                backend=backend, created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(conv)
            session.flush()
            return _conv_info(session, conv)

    def get_conversation(self, conversation_id: int) -> ConversationInfo:
        with self._reading() as session:
            return _conv_info(session, _get(session, conversation_id))

    def list_conversations(self, project_id: int | None = None) -> list[ConversationInfo]:
        """Conversations, most recently active first."""
        query = select(Conversation).order_by(
            Conversation.updated_at.desc(), Conversation.id.desc()
        )
        if project_id is not None:
            query = query.where(Conversation.project_id == project_id)
        with self._reading() as session:
            return [_conv_info(session, c) for c in session.scalars(query)]

    def update_conversation(
        self,
        conversation_id: int,
        *,
        persona: dict[str, Any] | None = None,
        backend: str | None = None,
    ) -> ConversationInfo:
        """Change the persona or backend a conversation goes on with."""
        with self._writing() as session:
            conv = _get(session, conversation_id)
            if persona is not None:
                conv.persona_json = dump_json(persona)
            if backend is not None:
                conv.backend = backend
            conv.updated_at = utcnow()
            session.flush()
            return _conv_info(session, conv)

    def add_turn(
        self,
        conversation_id: int,
        *,
        user_text: str,
        reply: str,
        backend: str,
        detected: dict[str, Any] | None = None,
        cause_words: list[Any] | None = None,
        planned_emotion: str | None = None,
        structure: dict[str, Any] | None = None,
        rubric: dict[str, Any] | None = None,
        patterns: list[str] | None = None,
        timings: dict[str, float] | None = None,
        generation_id: int | None = None,
    ) -> TurnInfo:
        """Append a turn (its index is the next free one)."""
        with self._writing() as session:
            conv = _get(session, conversation_id)
            last = session.scalar(select(func.max(Turn.idx)).where(Turn.conversation_id == conv.id))
            now = utcnow()
            turn = Turn(
                conversation_id=conv.id,
                idx=0 if last is None else last + 1,
                user_text=user_text,
                detected_json=dump_json(detected or {}),
                cause_words_json=dump_json(cause_words or []),
                planned_emotion=planned_emotion,
                reply=reply,
                structure_json=dump_json(structure or {}),
                rubric_json=dump_json(rubric or {}),
                patterns_json=dump_json(patterns or []),
                backend=backend,
                timings_json=dump_json(timings or {}),
                generation_id=generation_id,
                created_at=now,
            )
            session.add(turn)
            conv.updated_at = now
            session.flush()
            return _turn_info(turn)

    def list_turns(self, conversation_id: int) -> list[TurnInfo]:
        """The conversation's turns in order (raises NotFound for an unknown conversation)."""
        with self._reading() as session:
            _get(session, conversation_id)
            query = select(Turn).where(Turn.conversation_id == conversation_id).order_by(Turn.idx)
            return [_turn_info(t) for t in session.scalars(query)]

    def delete_conversation(self, conversation_id: int) -> None:
        with self._writing() as session:
            _get(session, conversation_id)
            session.execute(delete(Conversation).where(Conversation.id == conversation_id))

    def export_conversation(self, conversation_id: int) -> dict[str, Any]:
        """The conversation and all its turns as one JSON-able dict."""
        conv = self.get_conversation(conversation_id)
        turns = self.list_turns(conversation_id)

        def plain(obj: Any) -> dict[str, Any]:
            data = dict(obj.__dict__)
            for key, value in data.items():
                if isinstance(value, datetime):
                    data[key] = value.isoformat()
            return data

        try:
            return {
                "format": EXPORT_FORMAT,
                "conversation": plain(conv),
                "turns": [plain(t) for t in turns],
            }
        except (TypeError, ValueError) as exc:  # pragma: no cover - stored JSON is always valid
            raise StoreError(f"Conversation {conversation_id} cannot be exported: {exc}") from exc
