"""A short, honest, grounded reply built from the understanding alone, for when no model
candidate passes the strict rubric.

It reflects the person's own words back in the second person (the part of the message that
holds the strongest cause word, "my dog died" → "your dog died"), carries the planned emotion
with one fixed phrase per core label, and asks exactly one question. It claims nothing the
message did not say.
"""

from __future__ import annotations

import re

from pipelines.dialogue.cues import CORE_CUES, INTENSIFIERS, STOPWORDS
from pipelines.dialogue.judge import bad_news_signs
from pipelines.dialogue.transition import ReplyPlan
from pipelines.dialogue.understand import Understanding, words_of

_SWAP = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
    "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd", "im": "you're",
    "we": "you", "us": "you", "our": "your", "ours": "yours", "ourselves": "yourselves",
    "we're": "you're", "we've": "you've", "we'll": "you'll", "am": "are",
}  # fmt: skip
_WAS_AFTER = {"you"}
_EXTRA_FEELING = ("feel", "wow", "yuck", "ugh", "what", "loser", "makes", "made")
_FEELING_STEMS = (
    *(c for cues in CORE_CUES.values() for c in cues if " " not in c),
    *_EXTRA_FEELING,
)
MAX_WORDS = 14

# (opening before the reflected words, closing sentence with one question), per core label.
_FRAMES: dict[str, tuple[str, str]] = {
    "sad": ("I'm so sorry that {x}.", "That sounds really hard; how are you holding up?"),
    "angry": ("It's understandable to be upset that {x}.", "What would help you most now?"),
    "fearful": ("It makes sense to feel uneasy when {x}.", "What worries you most about it?"),
    "disgusted": ("Ugh, it sounds unpleasant that {x}.", "Are you okay after that?"),
    "contemptuous": (
        "It sounds like it really bothers you that {x}.",
        "What gets to you most about it?",
    ),
    "happy": ("It's lovely to hear that {x}.", "How are you feeling about it?"),
    "surprised": ("Wow, so {x}.", "How did you react when you found out?"),
    "neutral": ("It sounds like {x}.", "How do you feel about it?"),
    "bad": ("Oh no, I'm sorry that {x}.", "That sounds rough; how are you doing?"),
}


def second_person(text: str) -> str:
    """``text`` with first-person words turned to the second person ("I was" → "you were")."""
    out: list[str] = []
    last = ""
    for token in re.findall(r"[A-Za-z']+|[^A-Za-z'\s]+|\s+", text):
        low = token.lower()
        new = _SWAP.get(low, token)
        if low in ("was", "wasn't") and last in _WAS_AFTER:
            new = "were" if low == "was" else "weren't"
        if not token.isspace():
            last = new.lower()
        out.append(new)
    return "".join(out)


def reflected_clause(message: str, cause_words: tuple[tuple[str, float], ...]) -> str:
    """The clause of ``message`` holding the strongest cause word, at most ``MAX_WORDS``."""
    parts = [p.strip() for p in re.split(r"[.!?;]+|,\s*(?:and|but|so)?\s*|\s+and\s+", message)]
    parts = [p for p in parts if len(p.split()) >= 2] or [message.strip()]
    causes = [w for w, _ in cause_words]

    def feeling_only(part: str) -> bool:
        content = [w for w in words_of(part) if w not in STOPWORDS and w not in INTENSIFIERS]
        return all(any(w.startswith(c) for c in _FEELING_STEMS) for w in content)

    def rank(part: str) -> tuple[bool, int, int]:
        words = words_of(part)
        hit = next((i for i, c in enumerate(causes) if c in words), len(causes))
        return feeling_only(part), min(hit, 1), parts.index(part)

    best = min(parts, key=rank)
    words = best.split()[:MAX_WORDS]
    clause = " ".join(words).rstrip(",;:-—")
    clause = re.sub(r"^(?:and|but|so|because|wow|oh|well)\s+", "", clause, flags=re.I)
    return second_person(clause[:1].lower() + clause[1:])


def reply_tone(u: Understanding, plan: ReplyPlan, message: str = "") -> str:
    """The core label a reply's wording should carry: the plan's; the person's own feeling
    when the plan is calm (neutral); never a cheerful one for bad news ("bad": bad news whose
    feeling the understanding did not name; calm "neutral" when the only sign is weak)."""
    label = plan.label
    if label == "neutral" and u.label != "neutral":
        label = u.label
    signs = bad_news_signs(u, message)
    if label in ("happy", "surprised", "neutral") and signs:
        if u.label not in ("happy", "surprised", "neutral"):
            return u.label
        return "bad" if signs == 2 else "neutral"
    return label


def grounded_opening(message: str, u: Understanding, plan: ReplyPlan) -> str:
    """The fallback's first sentence: the person's words reflected in the planned emotion."""
    clause = reflected_clause(message, u.cause_words)
    return _FRAMES[reply_tone(u, plan, message)][0].format(x=clause)


def grounded_fallback(message: str, u: Understanding, plan: ReplyPlan) -> str:
    """The fallback reply: the person's words reflected, the planned emotion, one question
    (it always starts with :func:`grounded_opening`)."""
    closing = _FRAMES[reply_tone(u, plan, message)][1]
    return f"{grounded_opening(message, u, plan)} {closing}"
