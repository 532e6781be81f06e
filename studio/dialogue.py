"""Dialogue tab and ``chat`` command logic, free of gradio: conversations, turns, streaming.

A turn runs as a normal generation (one heavy queue, recorded in the Library) and is then
recorded as a turn of its conversation. Streaming reads the job's progress stage, which the
dialogue pipeline fills with the raw text so far (``STREAM_STAGE``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pipelines import registry
from pipelines.base import PipelineError
from pipelines.dialogue.core import THINKING_STAGE
from pipelines.dialogue.parse import partial_reply
from pipelines.dialogue.request import STREAM_STAGE, TRAITS, DialogueRequest
from pipelines.dialogue.rubric import CRITERIA
from projects_db import GenerationInfo
from projects_db.conversations import ConversationInfo, TurnInfo
from studio.settings import Services
from studio.ui import md_escape, project_or_scratch

TASK = "dialogue"
REVEAL_STEPS = 12
"""A chosen reply that was not streamed live appears in about this many steps."""
DEFAULT_PERSONA: dict[str, Any] = {
    "name": "Sam", "style": "warm, calm and concise", "openness": 0.5,
    "conscientiousness": 0.5, "extraversion": 0.5, "agreeableness": 0.7, "neuroticism": 0.3,
    "emotion_prompt": False,
}  # fmt: skip
"""What a new conversation's persona starts as (the request's defaults)."""


@dataclass(frozen=True)
class Streamed:
    """One update while a turn runs: the reply so far, or the finished turn."""

    partial: str
    turn: TurnInfo | None = None
    generation: GenerationInfo | None = None
    thinking: str = ""
    """While candidates are written and scored: what is happening ("writing 4 replies …")."""


def persona_from(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """A complete persona dict (unknown keys dropped, missing ones defaulted)."""
    persona = dict(DEFAULT_PERSONA)
    persona.update({k: v for k, v in (data or {}).items() if k in DEFAULT_PERSONA})
    return persona


class Dialogue:
    """Conversations of one studio; every method is safe to call from any thread."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store

    def backend_choices(self) -> list[str]:
        return [b.name for b in registry.backends(TASK)]

    def conversation_choices(self, project_id: int | None) -> list[tuple[str, int]]:
        return [
            (f"#{c.id} {c.title} ({c.turn_count} turns)", c.id)
            for c in self.store.list_conversations(project_id)
        ]

    def start(
        self,
        project_id: int | None,
        persona: Mapping[str, Any],
        backend: str | None,
        title: str = "",
    ) -> ConversationInfo:
        pid = project_or_scratch(self.services, project_id)
        name = registry.backend_spec(TASK, backend or None).name
        return self.store.create_conversation(
            pid,
            title=title or time.strftime("Chat %Y-%m-%d %H:%M"),
            persona=persona_from(persona),
            backend=name,
        )

    def chat_messages(self, conversation_id: int | None) -> list[dict[str, str]]:
        """The conversation as gr.Chatbot "messages" (role/content dicts)."""
        if conversation_id is None:
            return []
        out: list[dict[str, str]] = []
        for t in self.store.list_turns(int(conversation_id)):
            out += [
                {"role": "user", "content": t.user_text},
                {"role": "assistant", "content": t.reply},
            ]
        return out

    def build_request(
        self,
        conversation_id: int,
        message: str,
        *,
        seed: int = 0,
        server: Mapping[str, str] | None = None,
        max_new_tokens: int = 160,
        candidates: int = 0,
    ) -> DialogueRequest:
        """The next turn's request: history and the previous planned emotion from the store."""
        conv = self.store.get_conversation(conversation_id)
        turns = self.store.list_turns(conversation_id)
        p = persona_from(conv.persona)
        server = server or {}
        return DialogueRequest(
            message=message,
            history=tuple((t.user_text, t.reply) for t in turns),
            previous_emotion=turns[-1].planned_emotion if turns else None,
            persona_name=str(p["name"]),
            persona_style=str(p["style"]),
            emotion_prompt=bool(p["emotion_prompt"]),
            max_new_tokens=max_new_tokens,
            candidates=candidates,
            seed=seed,
            # Textboxes in a closed accordion arrive as None from the browser.
            server_url=(server.get("url") or "").strip(),
            server_model=(server.get("model") or "").strip(),
            api_key=server.get("key") or "",
            **{t: float(p[t]) for t in TRAITS},
        )

    def send(
        self,
        conversation_id: int,
        message: str,
        *,
        seed: int = 0,
        server: Mapping[str, str] | None = None,
        max_new_tokens: int = 160,
        candidates: int = 0,
        poll: float = 0.1,
        reveal: float = 0.02,
    ) -> Iterator[Streamed]:
        """Run one turn; yields "thinking" updates until a reply is chosen (with best-of-n, as
        soon as a candidate's first sentence passes the judge; else when all are judged whole;
        a single streamed candidate grows as it is written), then the chosen reply revealed a
        few words at a time (``reveal`` seconds apart), then the recorded turn."""
        conv = self.store.get_conversation(conversation_id)
        req = self.build_request(
            conversation_id,
            message,
            seed=seed,
            server=server,
            max_new_tokens=max_new_tokens,
            candidates=candidates,
        )
        job = self.services.generations.submit(conv.project_id, TASK, req, backend=conv.backend)
        shown = thought = ""
        while not job.finished:
            stage = job.stage
            if stage.startswith(STREAM_STAGE):
                text = partial_reply(stage[len(STREAM_STAGE) :])
                if text != shown:
                    shown = text
                    yield Streamed(text)
            elif stage.startswith(THINKING_STAGE) and stage != thought:
                thought = stage
                yield Streamed("", thinking=stage[len(THINKING_STAGE) :])
            time.sleep(poll)
        info = job.wait()
        if info.status != "done":
            raise PipelineError(f"The reply failed ({info.status}): {info.error}")
        reply = self._reply(info)
        if not shown:  # the chosen candidate was not streamed live: stream it now
            words = reply.split(" ")
            step = max(1, len(words) // REVEAL_STEPS)
            for k in range(step, len(words), step):
                yield Streamed(" ".join(words[:k]))
                time.sleep(reveal)
        yield Streamed(
            partial=self._reply(info),
            turn=self.record(conversation_id, message, info),
            generation=info,
        )

    def _reply(self, info: GenerationInfo) -> str:
        path = self.store.artifact_path(info, "reply")
        return path.read_text(encoding="utf-8")

    def record(self, conversation_id: int, message: str, info: GenerationInfo) -> TurnInfo:
        """Store a finished generation as the conversation's next turn."""
        m = info.metadata
        u = m.get("understanding", {})
        return self.store.add_turn(
            conversation_id,
            user_text=message,
            reply=self._reply(info),
            backend=info.backend,
            detected={
                k: u.get(k)
                for k in ("label", "confidence", "ed_label", "vad", "sentiment", "scores")
            },
            cause_words=u.get("cause_words", []),
            planned_emotion=m.get("plan", {}).get("spec"),
            structure=m.get("structure", {}),
            rubric={**m.get("rubric", {}), **_strict_summary(m)},
            patterns=m.get("patterns", []),
            timings={**info.timings, "tokens_per_second": m.get("tokens_per_second", 0.0)},
            generation_id=info.id,
        )

    def export_json(self, conversation_id: int) -> str:
        return json.dumps(
            self.store.export_conversation(conversation_id), indent=2, ensure_ascii=False
        )

    def speak(self, conversation_id: int, task: str = "voice") -> int:
        """Send the last reply and its planned emotion to the Voice pipeline (or to Compose, for
        a talking-portrait video with music); the generation id."""
        turns = self.store.list_turns(conversation_id)
        if not turns:
            raise PipelineError("There is no reply to speak yet.")
        conv = self.store.get_conversation(conversation_id)
        last = turns[-1]
        request = {"text": last.reply[:2000], "emotion": last.planned_emotion or "neutral"}
        return self.services.generations.submit(conv.project_id, task, request).generation_id


def _strict_summary(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The strict rubric's verdict and the best-of-n choice, kept with the turn's rubric."""
    verdict, best = metadata.get("judge") or {}, metadata.get("best_of") or {}
    if not best:
        return {}
    failed = [k for k, ok in (verdict.get("checks") or {}).items() if not ok]
    return {
        "strict": {"passed": bool(verdict.get("passed")), "failed": failed},
        "best_of": {k: best.get(k) for k in ("n", "chosen", "fallback")},
    }


def strict_line(rubric: Mapping[str, Any]) -> str:
    """One line on the strict rubric and which candidate was kept."""
    best, strict = rubric.get("best_of"), rubric.get("strict") or {}
    if not best:
        return ""
    if best.get("fallback"):
        how = f"none of {best['n']} model replies passed: a reply built from the understanding"
    elif best.get("chosen") is None:
        return "**Strict rubric:** not applied — the safety layer wrote the reply"
    else:
        how = f"reply {best['chosen'] + 1} of {best['n']} kept"
    failed = ", ".join(strict.get("failed", []))
    state = "✅ passes" if strict.get("passed") else f"⚠️ fails {failed}"
    return f"**Strict rubric:** {state} — {how}"


def turn_panel(turn: TurnInfo) -> str:
    """Markdown for the per-turn panel: detected emotion with the cause words in bold, the
    planned reply emotion, the structure's state, the rubric and the Beyond-No patterns."""
    d = turn.detected
    causes = {str(w) for w, _ in turn.cause_words}
    words = " ".join(
        f"**{md_escape(w)}**" if w.lower().strip(".,!?;:") in causes else md_escape(w)
        for w in turn.user_text[:2000].split()
    )
    rub = turn.rubric
    scores = ", ".join(f"{k} {rub[k]:.2f}" for k in CRITERIA if k in rub)
    ok = turn.structure.get("format_ok")
    state = (
        "✅ well-formed"
        if ok
        else "⚠️ repaired: "
        + "; ".join(md_escape(str(f)) for f in turn.structure.get("fallbacks") or [])
    )
    planned = f"{turn.planned_emotion} → *{turn.structure.get('emotion', '')}*"
    detected = f"{d.get('label')} ({d.get('ed_label')}, confidence {d.get('confidence')})"
    return "\n\n".join([
        f"**Detected:** {detected}",
        f"**Cause words:** {words}",
        f"**Planned reply emotion:** {planned}",
        f"**Structure:** {state}",
        f"**Rubric:** total {rub.get('total', 0):.2f} — {scores}",
        strict_line(rub),
        f"**Beyond-No patterns:** {', '.join(turn.patterns) or 'none'}",
    ])  # fmt: skip
