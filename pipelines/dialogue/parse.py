"""Reading the Kardia four-part structure back out of a model's text, whatever shape it is in.

Accepted, in order of preference: ``<tag>…</tag>`` spans; an opened tag that runs to the next
tag or the end (unclosed); ``Tag: …`` lines (also ``**Tag:**``). When the response span is
missing the reply falls back to the text after the last tag, then to the last sentences of
the whole text with tags removed; an invalid emotion falls back to the planned one. Each
fallback is recorded in ``Structure.fallbacks`` and clears ``format_ok``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from pipelines.dialogue.prompt import PLACEHOLDERS, TAGS
from pipelines.emotion import EMPATHETIC_DIALOGUES_LABELS

MAX_RESPONSE_WORDS = 60
_ANY_TAG = re.compile(r"</?\s*(?:understanding|reasoning|emotion|response)\s*>", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Structure:
    """The four spans and how well the text followed the format."""

    understanding: str
    reasoning: str
    emotion: str
    """An EmpatheticDialogues label (the planned one when the model gave none)."""
    response: str
    format_ok: bool
    """All four spans present and closed, in order, with a valid emotion and a response."""
    found: tuple[str, ...]
    """Tags found as proper ``<tag>…</tag>`` spans."""
    fallbacks: tuple[str, ...]
    """What had to be repaired, in words (empty when nothing)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["found"], data["fallbacks"] = list(self.found), list(self.fallbacks)
        return data


def _span(text: str, tag: str) -> tuple[str | None, bool]:
    """(content, closed) of ``tag`` or (None, False)."""
    closed = re.search(rf"<\s*{tag}\s*>(.*?)<\s*/\s*{tag}\s*>", text, re.I | re.S)
    if closed:
        return closed.group(1), True
    opened = re.search(
        rf"<\s*{tag}\s*>(.*?)(?=<\s*/?\s*(?:{'|'.join(TAGS)})\s*>|$)", text, re.I | re.S
    )
    if opened:
        return opened.group(1), False
    labelled = re.search(rf"(?:^|\n)\W*{tag}\W*:\**\s*(.+?)(?=\n\W*\w+\W*:|\Z)", text, re.I | re.S)
    if labelled:
        return labelled.group(1), False
    return None, False


def clean(text: str) -> str:
    """Tags and markup removed, whitespace collapsed."""
    text = _ANY_TAG.sub(" ", text)
    text = re.sub(r"<\|[^|>]*\|>|[*_#`]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def trim_response(text: str, max_words: int = MAX_RESPONSE_WORDS) -> str:
    """At most ``max_words`` words, cut at a sentence end when there is one."""
    words = text.split()
    if len(words) <= max_words:
        return text
    cut = " ".join(words[:max_words])
    sentences = _SENTENCE.split(cut)
    return " ".join(sentences[:-1]) if len(sentences) > 1 else cut + "…"


def find_ed_label(text: str) -> str | None:
    """The first EmpatheticDialogues label named in ``text``."""
    hits = [
        (m.start(), label)
        for label in EMPATHETIC_DIALOGUES_LABELS
        if (m := re.search(rf"\b{label}\b", text, re.I))
    ]
    return min(hits)[1] if hits else None


def parse_structure(raw: str, planned_ed: str) -> Structure:
    """Parse a model's text; never raises."""
    spans: dict[str, str] = {}
    found: list[str] = []
    fallbacks: list[str] = []
    for tag in TAGS:
        content, closed = _span(raw, tag)
        if content is not None:
            spans[tag] = clean(content)
            if closed:
                found.append(tag)
    response = spans.get("response", "")
    if response and any(p in response.lower() for p in PLACEHOLDERS):
        fallbacks.append("the <response> repeats the format's placeholder")
        response = ""
        spans.pop("response")
    if not response:
        tail = _ANY_TAG.split(raw)[-1] if _ANY_TAG.search(raw) else ""
        if clean(tail) and "response" not in spans and not fallbacks:
            response = clean(tail)
            fallbacks.append("no <response> span: used the text after the last tag")
        elif not _ANY_TAG.search(raw):
            sentences = [s for s in _SENTENCE.split(clean(raw)) if s]
            response = " ".join(sentences[-2:])
            fallbacks.append("no structure at all: used the last sentences of the text")
        else:
            fallbacks.append("no usable <response>")
    response = trim_response(response)
    emotion = find_ed_label(spans.get("emotion", ""))
    if emotion is None:
        emotion = planned_ed
        fallbacks.append(f"no valid <emotion>: used the planned {planned_ed!r}")
    missing = [t for t in TAGS if t not in found]
    if missing:
        fallbacks.append("missing or unclosed: " + ", ".join(f"<{t}>" for t in missing))
    positions = [raw.lower().find(f"<{t}>") for t in TAGS]
    in_order = all(p >= 0 for p in positions) and positions == sorted(positions)
    if not missing and not in_order:
        fallbacks.append("spans out of order")
    return Structure(
        understanding=spans.get("understanding", ""),
        reasoning=spans.get("reasoning", ""),
        emotion=emotion,
        response=response,
        format_ok=not fallbacks and bool(response),
        found=tuple(found),
        fallbacks=tuple(fallbacks),
    )


def partial_reply(raw: str) -> str:
    """What to show while streaming: the response span so far, else the plain text so far."""
    m = re.search(r"<\s*response\s*>(.*)", raw, re.I | re.S)
    if m:
        return clean(re.split(r"<\s*/", m.group(1))[0])
    if _ANY_TAG.search(raw) or raw.lstrip().startswith("<"):
        return ""
    return clean(raw)
