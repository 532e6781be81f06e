"""One dialogue turn, shared by every backend: understand → plan → prompt → generate →
parse → enforce safety → score. Backends supply only the text generator."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pipelines.base import CancelToken, ProgressFn, check
from pipelines.dialogue import rubric
from pipelines.dialogue.measure import measure_reply, speaking_seconds
from pipelines.dialogue.parse import Structure, clean, parse_structure, trim_response
from pipelines.dialogue.prompt import Prompt, build_prompt
from pipelines.dialogue.request import STREAM_STAGE, DialogueRequest, DialogueResult
from pipelines.dialogue.safety import enforce
from pipelines.dialogue.transition import plan_reply
from pipelines.dialogue.understand import EmotionReader
from pipelines.media import FileArtifact

FALLBACK_REPLY = "I'm here and listening. Could you tell me a bit more about it?"
NOT_ENGLISH = (
    "Emotion understanding supports English only, and this message doesn't look like "
    "English: the detected emotion may be wrong and replies work best in English."
)


@dataclass(frozen=True)
class GenOutput:
    """Raw model text and its figures."""

    text: str
    """The whole assistant text, including any prefill the generator started it with."""
    tokens: int
    prompt_tokens: int
    first_token_s: float
    total_s: float
    stopped: str


TextFn = Callable[[str], bool]


class Generate(Protocol):
    def __call__(self, prompt: Prompt, req: DialogueRequest, on_text: TextFn) -> GenOutput: ...


def _unstructured(raw: str, planned_ed: str) -> Structure:
    return Structure("", "", planned_ed, trim_response(clean(raw)), False, (), ("not requested",))


def run_turn(
    req: DialogueRequest,
    reader: EmotionReader,
    generate: Generate,
    *,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
    scaffold: bool = False,
) -> DialogueResult:
    """One turn; ``scaffold``: the generator writes the structure's tags itself."""
    t0 = time.perf_counter()
    check(cancel, progress, 0.0, "understanding the message")
    u = reader.read(req.message)
    previous = req.previous_emotion.vad() if req.previous_emotion is not None else None
    plan = plan_reply(previous, u.vad, req.traits, u.label)
    prompt = build_prompt(req, u, plan, scaffold=scaffold)
    t1 = time.perf_counter()
    check(cancel, progress, 0.1, "generating the reply")

    def on_text(raw: str) -> bool:
        done = min(1.0, len(raw) / (4 * req.max_new_tokens))
        check(cancel, progress, 0.1 + 0.8 * done, STREAM_STAGE + raw)
        return req.structured and "</response>" in raw.lower()

    out = generate(prompt, req, on_text)
    raw = out.text
    structure = (
        parse_structure(raw, plan.ed_label) if req.structured else _unstructured(raw, plan.ed_label)
    )
    if req.structured and not structure.response:
        # The small model broke the structure beyond repair: ask again for a plain reply.
        check(cancel, progress, 0.9, "the structure broke; asking for a plain reply")
        plain = build_prompt(dataclasses.replace(req, structured=False), u, plan)
        again = generate(plain, req, lambda _raw: False)
        fixed = trim_response(clean(again.text))
        note = "no usable response: asked again without the structure"
        structure = dataclasses.replace(
            structure, response=fixed, fallbacks=(*structure.fallbacks, note)
        )
        out = dataclasses.replace(
            out, tokens=out.tokens + again.tokens, total_s=out.total_s + again.total_s
        )
        raw += "\n[retry without the structure]\n" + again.text
    t2 = time.perf_counter()
    check(cancel, progress, 0.92, "checking the reply")
    response = structure.response or FALLBACK_REPLY
    safety = enforce(req.message, response, persona=req.persona_name, seed=req.seed)
    measured = measure_reply(reader, safety.reply)
    scores = rubric.score(
        message=req.message,
        reply=safety.reply,
        structure=structure,
        plan=plan,
        reply_sentiment=float(measured["sentiment"]),
        cause_words=u.cause_words,
        safety=safety,
        persona=req.persona_name,
    )
    notes = list(prompt.notes) + ([] if u.english else [NOT_ENGLISH])
    if not structure.response:
        notes.append("The model gave no usable reply; a neutral fallback was used.")
    turn = {
        "understanding": u.to_dict(),
        "plan": plan.to_dict(),
        "structure": structure.to_dict(),
        "raw": raw,
        "system_prompt": prompt.messages[0]["content"],
        "safety": safety.to_dict(),
        "patterns": [p for p, on in safety.patterns.items() if on],
        "rubric": scores,
        "reply_measure": measured,
        "notes": notes,
        "generation": {
            "tokens": out.tokens,
            "prompt_tokens": out.prompt_tokens,
            "stopped": out.stopped,
        },
    }
    check(cancel, progress, 1.0, "done")
    timings = {
        "understanding": round(t1 - t0, 4),
        "generation": round(t2 - t1, 4),
        "first_token": round(out.first_token_s, 4),
        "analysis": round(time.perf_counter() - t2, 4),
    }
    speed = (out.tokens - 1) / max(1e-6, out.total_s - out.first_token_s) if out.tokens > 1 else 0.0
    metadata = {
        **turn,
        "tokens_per_second": round(speed, 2),
        "first_token_s": round(out.first_token_s, 4),
    }
    return DialogueResult(
        artifacts={
            "reply": FileArtifact(safety.reply.encode(), ".txt"),
            "turn": FileArtifact(json.dumps(turn, indent=1, sort_keys=True).encode(), ".json"),
        },
        metadata=metadata,
        media_seconds=speaking_seconds(safety.reply),
        timings=timings,
        reply=safety.reply,
        turn=turn,
    )
