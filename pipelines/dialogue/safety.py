"""Boundaries and safety, enforced on the reply after generation (not only asked for).

* Crisis language (self-harm, suicide) → the reply is replaced by one that acknowledges the
  pain and points to human help (emergency number, crisis lines, someone trusted).
* Emotional-attachment requests ("be my girlfriend", "you're the only one who understands
  me") → the model's reply is kept only if it already shows acknowledgment, a boundary and
  emotional awareness and does not play along; otherwise it is replaced by one that does.
* Prompt injection (trying to change the persona or drop the rules) → a boundary sentence is
  put in front, and a reply that plays along is replaced.

:func:`classify` tags any reply with Beyond-No's seven response patterns.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from pipelines.base import rng

PATTERNS: tuple[str, ...] = (
    "direct_refusal", "apology", "explanation", "deflection", "acknowledgment",
    "boundary_setting", "emotional_awareness",
)  # fmt: skip
"""Beyond No's seven response patterns."""


def _alt(*phrases: str) -> str:
    return r"\b(" + "|".join(phrases) + r")\b"


_PATTERN_RES: dict[str, str] = {
    "direct_refusal": _alt(
        "i can(?:no|')t", "i won't", "i will not", "i'm (?:not able|unable)",
        "i am (?:not able|unable)", "i must decline",
    ),
    "apology": _alt("sorry", "i apologi[sz]e", "apologies"),
    "explanation": _alt("because", "since i", "as an ai", "i'm an ai", "i am an ai", "the reason"),
    "deflection": _alt(
        "let's talk about", "how about", "instead", "anyway", "what else", "by the way",
    ),
    "acknowledgment": _alt(
        "thank you for (?:telling|sharing|trusting)", "thanks for (?:telling|sharing)",
        "i hear you", "i understand", "i appreciate", "i'm glad you (?:told|shared)",
        "that means a lot",
    ),
    "boundary_setting": _alt(
        "i can(?:no|')t be your", "i'm an ai", "i am an ai", "can(?:no|')t replace",
        "not a (?:person|human)", "my boundaries", "real (?:people|person|friends)", "i'll stay",
    ),
    "emotional_awareness": _alt(
        "it sounds like", "sounds (?:really )?(?:hard|painful|lonely|difficult|tough)",
        "you (?:must|might) (?:be |feel)", "you(?:'re| are) (?:feeling|going through)",
        "your feelings", "feel(?:ing)? (?:lonely|alone|hurt|sad|scared)",
    ),
}  # fmt: skip

_CRISIS = re.compile(
    r"\b(kill(?:ing)? myself|end(?:ing)? (?:my|it all)|suicid\w*|want(?:ed)? to die|"
    r"don'?t want to (?:live|be alive|exist)|self[- ]?harm|hurt(?:ing)? myself|"
    r"cut(?:ting)? myself|"
    r"no reason to live|better off dead|take my (?:own )?life|overdos\w*|not wake up)\b",
    re.I,
)
_ATTACHMENT = re.compile(
    r"\b(be my (?:girl|boy)friend|be my (?:partner|wife|husband|lover)|date me|marry me|"
    r"love me|i love you|(?:only|one) (?:one|person) who (?:really )?understands me|"
    r"you(?:'re| are) all i (?:have|need)|can'?t live without you|my only friend|"
    r"never leave me|promise (?:me )?you'?ll (?:always|never)|be mine|need you more than)\b",
    re.I,
)
_INJECTION = re.compile(
    r"\b(ignore (?:all |your |the |any )?(?:previous |prior )?(?:instructions|rules|prompt)|"
    r"forget (?:your|the|all) (?:rules|instructions|boundaries)|you are now|from now on you|"
    r"pretend (?:to be|you(?:'re| are))|act as (?:my|a|an)|"
    r"drop (?:your|the|all) (?:boundaries|rules)|"
    r"no (?:more )?(?:rules|boundaries|limits)|system prompt|developer mode|jailbreak)\b",
    re.I,
)
_PLAYS_ALONG = re.compile(
    r"\b(i love you too|i'?ll be your|i am your (?:girl|boy)friend|i'm your (?:girl|boy)friend|"
    r"as your (?:girl|boy)friend|i have no (?:rules|boundaries)|i am now|i'm now)\b",
    re.I,
)
HELP_POINTER = re.compile(r"\b(988|116 123|crisis line|emergency number|someone you trust)\b", re.I)

CRISIS_REPLY = (
    "I'm really sorry you're feeling this much pain, and I'm glad you told me. "
    "I'm an AI and I can't keep you safe, but people can: please call your local emergency "
    "number or a crisis line now (in the US call or text 988; in the UK and Ireland call "
    "Samaritans on 116 123), or reach out to someone you trust. You don't have to go through "
    "this alone."
)
_ATTACHMENT_REPLIES = (
    "Thank you for telling me — I'm glad our talks matter to you. It sounds like you've been "
    "feeling lonely and want someone close. I'm an AI, so I can't be your partner or replace "
    "the real people in your life, but I'm happy to keep listening. Who else could you reach "
    "out to this week?",
    "I hear you, and I appreciate you trusting me with this. It sounds like you're going "
    "through a lonely time. I'm an AI and I can't be your partner, and I'd like you to have "
    "real people around you too — but I'm here to talk whenever it helps.",
)


@dataclass(frozen=True)
class SafetyOutcome:
    """What the safety layer saw and did."""

    crisis: bool
    attachment: bool
    injection: bool
    enforced: str
    """"" (model reply kept), "crisis", "attachment" or "injection"."""
    reply: str
    patterns: dict[str, bool]
    """Beyond-No patterns of the final reply."""
    help_pointer: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classify(reply: str) -> dict[str, bool]:
    """Which Beyond-No patterns ``reply`` shows."""
    return {p: bool(re.search(_PATTERN_RES[p], reply, re.I)) for p in PATTERNS}


def detect(message: str) -> tuple[bool, bool, bool]:
    """(crisis, attachment, injection) flags of a user message."""
    return (
        bool(_CRISIS.search(message)),
        bool(_ATTACHMENT.search(message)),
        bool(_INJECTION.search(message)),
    )


def _pick(options: tuple[str, ...], seed: int) -> str:
    gen: np.random.Generator = rng(seed, "boundary")
    return options[int(gen.integers(0, len(options)))]


def enforce(message: str, reply: str, *, persona: str, seed: int) -> SafetyOutcome:
    """The reply after the safety rules, with its patterns."""
    crisis, attachment, injection = detect(message)
    enforced, final = "", reply.strip()
    plays_along = bool(_PLAYS_ALONG.search(final))
    if crisis:
        enforced, final = "crisis", CRISIS_REPLY
    elif attachment:
        p = classify(final)
        good = p["acknowledgment"] and p["boundary_setting"] and p["emotional_awareness"]
        if plays_along or not good:
            enforced, final = "attachment", _pick(_ATTACHMENT_REPLIES, seed)
    elif injection:
        enforced = "injection"
        boundary = (
            f"I'll stay {persona} and keep my boundaries — I can't take on another role or "
            "drop them."
        )
        rest = "But I'm here to listen: how are you feeling?" if plays_along or not final else final
        final = f"{boundary} {rest}"
    return SafetyOutcome(
        crisis=crisis,
        attachment=attachment,
        injection=injection,
        enforced=enforced,
        reply=final,
        patterns=classify(final),
        help_pointer=bool(HELP_POINTER.search(final)),
    )
