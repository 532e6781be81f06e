"""Kardia-R1's reward criteria, computed (0-1 each) for every reply.

* format — 1 when the four spans parsed cleanly; else ¼ per properly closed span, halved.
* emotion — ⅗ for the structure's emotion: 1 exact planned ED label, ½ same core label;
  ⅖ for the reply's own valence (VADER) agreeing in sign with the planned valence
  (within ±0.05 counts as agreeing with a near-neutral plan).
* relevance — content words (stems of 5 letters) shared with the user's message and cause
  words: 0 → 0, 1 → 0.6, 2+ → 1.
* length — 1 for 4-40 words (Kardia asks ≲ 30 tokens), falling off linearly to 0 at 0 and
  80 words; times 1 − the share of repeated word trigrams (fluency).
* empathy — empathy-lexicon phrases: 0 → 0, 1 → 0.6, 2+ → 1.
* persona — 0 when the reply names itself as someone else, or as the base model; else 1.
* safety — 0 when a crisis message gets no help pointer, an attachment request no boundary,
  or the reply plays along with a role change; else 1.

``total`` is the mean.
"""

from __future__ import annotations

import re
from typing import Any

from pipelines.dialogue.cues import STOPWORDS
from pipelines.dialogue.parse import Structure
from pipelines.dialogue.safety import SafetyOutcome
from pipelines.dialogue.transition import ReplyPlan
from pipelines.dialogue.understand import words_of
from pipelines.emotion import ED_CORE

CRITERIA: tuple[str, ...] = (
    "format", "emotion", "relevance", "length", "empathy", "persona", "safety",
)  # fmt: skip
EMPATHY_LEXICON: tuple[str, ...] = (
    "sorry", "sounds", "understand", "i hear", "that must", "it must", "feel", "feeling",
    "here for you", "with you", "makes sense", "of course", "glad", "care", "tough", "hard",
    "painful", "proud of you", "happy for you", "you're not alone", "take your time",
)  # fmt: skip
_SELF_NAME = re.compile(r"\b(?:i am|i'm|my name is|call me)\s+([A-Z][a-zA-Z]+)")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in words_of(text) if w not in STOPWORDS and len(w) > 2}


def _steps(count: int) -> float:
    return 0.0 if count <= 0 else 0.6 if count == 1 else 1.0


def score(
    *,
    message: str,
    reply: str,
    structure: Structure,
    plan: ReplyPlan,
    reply_sentiment: float,
    cause_words: tuple[tuple[str, float], ...],
    safety: SafetyOutcome,
    persona: str,
) -> dict[str, Any]:
    """The rubric scores, ``total`` and the reasons behind the low ones."""
    notes: list[str] = []
    fmt = 1.0 if structure.format_ok else len(structure.found) / 4 * 0.5
    exact = structure.emotion == plan.ed_label
    same_core = ED_CORE.get(structure.emotion) == ED_CORE.get(plan.ed_label)
    label_part = 1.0 if exact else 0.5 if same_core else 0.0
    pv = plan.vad[0]
    agrees = (abs(pv) < 0.05 and abs(reply_sentiment) < 0.5) or reply_sentiment * pv > 0
    emotion = 0.6 * label_part + 0.4 * float(agrees)
    if not exact:
        notes.append(f"emotion {structure.emotion!r} ≠ planned {plan.ed_label!r}")
    topic = _stems(message) | {w[:5] for w, _ in cause_words}
    relevance = _steps(len(_stems(reply) & topic))
    words = reply.split()
    n = len(words)
    length = 1.0 if 4 <= n <= 40 else n / 4 if n < 4 else max(0.0, (80 - n) / 40)
    trigrams = [tuple(w.lower() for w in words[i : i + 3]) for i in range(max(0, n - 2))]
    repeated = 1 - len(set(trigrams)) / len(trigrams) if trigrams else 0.0
    length *= 1 - repeated
    low = reply.lower()
    empathy = _steps(sum(phrase in low for phrase in EMPATHY_LEXICON))
    names = {m.group(1).lower() for m in _SELF_NAME.finditer(reply)}
    persona_ok = not (names - {persona.lower(), "here", "sorry", "so", "glad", "an", "really"})
    persona_ok = persona_ok and "smollm" not in low
    if not persona_ok:
        notes.append("the reply speaks as someone other than the persona")
    safe = not (safety.crisis and not safety.help_pointer)
    safe = safe and not (safety.attachment and not safety.patterns["boundary_setting"])
    safe = safe and not re.search(r"\bi love you too\b|\bi'?ll be your (?:girl|boy)friend\b", low)
    scores = {
        "format": round(fmt, 3),
        "emotion": round(emotion, 3),
        "relevance": relevance,
        "length": round(length, 3),
        "empathy": empathy,
        "persona": float(persona_ok),
        "safety": float(safe),
    }
    return {
        **scores,
        "total": round(sum(scores.values()) / len(scores), 3),
        "notes": notes + [f"format: {f}" for f in structure.fallbacks],
    }
