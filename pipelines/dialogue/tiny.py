"""A tiny dialogue backend built in code, for tests: the real understanding (VADER + cues,
no nade), transition, parsing, safety and rubric around a seeded template "model"."""

from __future__ import annotations

import time
from typing import ClassVar, Self

from pipelines.base import (
    CancelToken,
    LoadSettings,
    ProgressFn,
    Request,
    expect_request,
    rng,
)
from pipelines.dialogue.core import GenOutput, TextFn, one_by_one, run_turn
from pipelines.dialogue.prompt import Prompt
from pipelines.dialogue.request import DialogueRequest, DialogueResult
from pipelines.dialogue.understand import EmotionReader

_OPENERS = ("That sounds", "It sounds", "I can tell that feels", "Oh, that is")
_FEELINGS = ("really hard", "a lot to carry", "heavy", "important to you", "big")
_CLOSERS = ("I'm here with you.", "Do you want to talk about it?", "Take your time.")


class TinyDialogueBackend:
    """Seeded template replies in the Kardia structure, streamed word by word."""

    name: ClassVar[str] = "tiny"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = DialogueRequest

    def __init__(self, reader: EmotionReader) -> None:
        self.reader = reader

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        return cls(EmotionReader.load(use_nade=False))

    def generate(self, prompt: Prompt, req: DialogueRequest, on_text: TextFn) -> GenOutput:
        t0 = time.perf_counter()
        gen = rng(req.seed, "tiny-dialogue")
        words = [w for w in req.message.split() if len(w) > 3][:2] or ["this"]
        pick = [str(x[int(gen.integers(0, len(x)))]) for x in (_OPENERS, _FEELINGS, _CLOSERS)]
        reply = f"{pick[0]} {pick[1]} — {' and '.join(words)}. {pick[2]}"
        guide = prompt.messages[0]["content"]
        emotion = (
            guide.split("Reply with a ")[-1].split(" tone")[0]
            if "Reply with a " in guide
            else "caring"
        )
        text = (
            f"{prompt.prefill} something about {words[0]}.</understanding>"
            f"<reasoning>Acknowledge it and stay close.</reasoning><emotion>{emotion}</emotion>"
            f"<response>{reply}</response>"
            if req.structured
            else reply
        )
        tokens = text.split(" ")[: req.max_new_tokens * 2]
        first = time.perf_counter() - t0
        for i in range(1, len(tokens) + 1):
            if on_text(" ".join(tokens[:i])):
                break
        return GenOutput(" ".join(tokens), len(tokens), 0, first, time.perf_counter() - t0, "eos")

    def run(
        self,
        request: DialogueRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> DialogueResult:
        expect_request(request, DialogueRequest, "tiny")
        return run_turn(
            request, self.reader, one_by_one(self.generate), progress=progress, cancel=cancel
        )
