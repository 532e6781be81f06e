"""One dialogue turn, shared by every backend: understand → plan → prompt → generate n
candidates → parse → judge (strict rubric) → keep the best or a grounded fallback → enforce
safety → score. Backends supply only the text generator.

A generator that decodes the candidates together (the bundled model) lets the judge work
while they are written (:mod:`pipelines.dialogue.commit`): the first candidate whose first
sentence passes is shown at once and the others stop; only when none does are the finished
replies judged whole."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pipelines.base import CancelToken, ProgressFn, check
from pipelines.dialogue import rubric
from pipelines.dialogue.commit import EarlyChoice
from pipelines.dialogue.fallback import grounded_fallback, grounded_opening
from pipelines.dialogue.judge import Verdict, judge
from pipelines.dialogue.measure import measure_reply, speaking_seconds
from pipelines.dialogue.parse import Structure, clean, parse_structure, trim_response
from pipelines.dialogue.prompt import TAGS, Prompt, build_prompt, build_reply_prompt
from pipelines.dialogue.request import STREAM_STAGE, DialogueRequest, DialogueResult
from pipelines.dialogue.safety import detect, enforce
from pipelines.dialogue.transition import ReplyPlan, plan_reply
from pipelines.dialogue.understand import EmotionReader, Understanding
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
ReportFn = Callable[[float, str], None]
"""(fraction of the generation done, stage text): progress from a generator; it raises
``Cancelled`` when the user cancels."""
THINKING_STAGE = "thinking: "
"""Progress stages that start with this say that candidates are being written or scored."""


class Generate(Protocol):
    """One reply, streamed through ``on_text`` (return True to stop)."""

    def __call__(self, prompt: Prompt, req: DialogueRequest, on_text: TextFn) -> GenOutput: ...


class GenerateMany(Protocol):
    """``n`` candidate replies to the same prompt (candidate i seeded from the request's). A
    generator that decodes them together may feed ``early`` after every step (see
    :mod:`pipelines.dialogue.commit`); others ignore it."""

    def __call__(
        self,
        prompt: Prompt,
        req: DialogueRequest,
        n: int,
        report: ReportFn,
        early: EarlyChoice | None = None,
    ) -> list[GenOutput]: ...


def one_by_one(generate: Generate) -> GenerateMany:
    """Candidates from a one-reply generator, in turn: seeds seed, seed+1, …; a single one is
    streamed as it is written, several are reported as "thinking"."""

    def many(
        prompt: Prompt,
        req: DialogueRequest,
        n: int,
        report: ReportFn,
        early: EarlyChoice | None = None,
    ) -> list[GenOutput]:
        outs = []
        budget = 4 * req.max_new_tokens
        for i in range(n):

            def on_text(raw: str, i: int = i) -> bool:
                done = (i + min(1.0, len(raw) / budget)) / n
                if n == 1:
                    report(done, STREAM_STAGE + raw)
                else:
                    report(done, f"{THINKING_STAGE}writing reply {i + 1} of {n}")
                return req.structured and "</response>" in raw.lower()

            outs.append(generate(prompt, dataclasses.replace(req, seed=req.seed + i), on_text))
        return outs

    return many


def _unstructured(raw: str, planned_ed: str) -> Structure:
    return Structure("", "", planned_ed, trim_response(clean(raw)), False, (), ("not requested",))


def _our_structure(u: Understanding, plan: ReplyPlan, response: str) -> Structure:
    """Kardia's four spans when the model writes only the reply: the first three come from the
    understanding step and the plan (said so in the turn's ``structure_source``)."""
    causes = ", ".join(w for w, _ in u.cause_words[:4])
    understanding = f"You feel {u.ed_label} ({u.label})" + (f" about: {causes}." if causes else ".")
    reasoning = f"Answer in a {plan.ed_label} tone, in your words, and ask at most one question."
    return Structure(understanding, reasoning, plan.ed_label, response, True, TAGS, ())


def run_turn(
    req: DialogueRequest,
    reader: EmotionReader,
    generate: GenerateMany,
    *,
    progress: ProgressFn | None,
    cancel: CancelToken | None,
    default_candidates: int = 1,
    model_writes_structure: bool = True,
) -> DialogueResult:
    """One turn: understand, plan, sample candidates, keep the best by the strict rubric (or a
    grounded fallback), enforce safety, score. ``model_writes_structure``: the model writes
    the four-part structure itself (chat servers); else it writes only the reply and the
    understanding step fills the other spans (the bundled small model)."""
    t0 = time.perf_counter()
    check(cancel, progress, 0.0, "understanding the message")
    u = reader.read(req.message)
    previous = req.previous_emotion.vad() if req.previous_emotion is not None else None
    plan = plan_reply(previous, u.vad, req.traits, u.label)
    if model_writes_structure:
        prompt = build_prompt(req, u, plan)
    else:
        prompt = build_reply_prompt(req, u, plan)
    n = req.candidates or default_candidates
    t1 = time.perf_counter()
    check(cancel, progress, 0.1, "generating the reply" if n == 1 else THINKING_STAGE + "writing")

    fraction = [0.1]

    def report(done: float, stage: str) -> None:
        fraction[0] = 0.1 + 0.75 * min(1.0, done)
        check(cancel, progress, fraction[0], stage)

    def show(text: str) -> None:
        check(cancel, progress, fraction[0], STREAM_STAGE + text)

    # A crisis message always gets the safety layer's reply: no model text is written for it.
    crisis, attachment, injection = detect(req.message)
    # Several candidates of a reply-only model: judged while written, the first passing one
    # shown early (boundary messages keep whole-reply judging: safety may rewrite them).
    early = (
        EarlyChoice(
            req.message, u, plan, reader, show, opener=grounded_opening(req.message, u, plan)
        )
        if n > 1 and not model_writes_structure and not (crisis or attachment or injection)
        else None
    )
    outs = [] if crisis else generate(prompt, req, n, report, early)
    t2 = time.perf_counter()
    committed = early.chosen if early is not None else None
    if committed is None and not (early is not None and early.shown):
        stage = f"{THINKING_STAGE}scoring {n} replies" if n > 1 else "checking"
        check(cancel, progress, 0.86, stage)
    structures, verdicts = [], []
    for i, out in enumerate(outs):
        if not model_writes_structure:
            structure = _our_structure(u, plan, clean(out.text))
        elif req.structured:
            structure = parse_structure(out.text, plan.ed_label)
        else:
            structure = _unstructured(out.text, plan.ed_label)
        if early is not None and early.verdict is not None and i == committed:
            structures.append(_our_structure(u, plan, early.shown))
            verdicts.append(early.verdict)
            continue
        structures.append(structure)
        verdicts.append(
            judge(
                message=req.message,
                reply=structure.response,
                understanding=u,
                plan=plan,
                reader=reader,
            )
        )
    if committed is not None:
        chosen: int | None = committed
    elif early is not None and early.bridged:
        chosen = None  # the opener is shown and no sentence after it passed: the fallback
    else:
        passing = [i for i, v in enumerate(verdicts) if v.passed]
        chosen = max(passing, key=lambda i: (verdicts[i].score, -i)) if passing else None
    t3 = time.perf_counter()
    verdict: Verdict | None = None
    if chosen is not None:
        structure, verdict = structures[chosen], verdicts[chosen]
    elif crisis:
        structure = (
            _unstructured("", plan.ed_label)
            if model_writes_structure
            else _our_structure(u, plan, "")
        )
    else:
        fallback = grounded_fallback(req.message, u, plan)
        best = max(range(len(outs)), key=lambda i: (verdicts[i].score, -i))
        structure = dataclasses.replace(
            structures[best],
            response=fallback,
            fallbacks=(*structures[best].fallbacks, "no candidate passed: grounded fallback"),
        )
        if not model_writes_structure:
            structure = _our_structure(u, plan, fallback)
        verdict = judge(
            message=req.message, reply=fallback, understanding=u, plan=plan, reader=reader
        )
    out = outs[chosen or 0] if outs else GenOutput("", 0, 0, 0.0, 0.0, "skipped: crisis")
    raw = "\n\n".join(
        f"[candidate {i + 1}{' — chosen' if i == chosen else ''}]\n{o.text}"
        for i, o in enumerate(outs)
    )
    best_of = {
        "n": n,
        "chosen": chosen,
        "fallback": chosen is None and not crisis,
        "early": early.to_dict() if early is not None else None,
        "candidates": [
            {
                "reply": s.response,
                "stopped": o.stopped,
                "tokens": o.tokens,
                "passed": v.passed,
                "score": v.score,
                "failed": [k for k, ok in v.checks.items() if not ok],
            }
            for o, s, v in zip(outs, structures, verdicts, strict=True)
        ],
    }
    if early is not None and early.shown_at:
        first_visible = early.shown_at - t0
    elif n == 1:
        first_visible = t1 - t0 + out.first_token_s
    else:
        first_visible = t3 - t0
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
    if chosen is None and not crisis:
        notes.append(
            f"None of the {n} model replies passed the strict rubric; this reply was built "
            "from the understanding (your words, the planned emotion, one question)."
        )
    turn = {
        "understanding": u.to_dict(),
        "plan": plan.to_dict(),
        "structure": structure.to_dict(),
        "raw": raw,
        "system_prompt": "\n".join(m["content"] for m in prompt.messages if m["role"] == "system"),
        "safety": safety.to_dict(),
        "patterns": [p for p, on in safety.patterns.items() if on],
        "rubric": scores,
        "judge": verdict.to_dict() if verdict else None,
        "best_of": best_of,
        "structure_source": "model" if model_writes_structure else "understanding step + model",
        "reply_measure": measured,
        "notes": notes,
        "generation": {
            "tokens": sum(o.tokens for o in outs),
            "prompt_tokens": out.prompt_tokens,
            "stopped": out.stopped,
        },
    }
    check(cancel, progress, 1.0, "done")
    timings = {
        "understanding": round(t1 - t0, 4),
        "generation": round(t2 - t1, 4),
        "first_token": round(out.first_token_s, 4),
        "judging": round(t3 - t2, 4),
        "analysis": round(time.perf_counter() - t3, 4),
    }
    total_tokens = sum(o.tokens for o in outs)
    decode_s = max(1e-6, t2 - t1 - out.first_token_s)
    metadata = {
        **turn,
        "tokens_per_second": round((total_tokens - len(outs)) / decode_s, 2),
        "first_token_s": round(out.first_token_s, 4),
        "first_visible_s": round(first_visible, 4),
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
