"""The strict rubric: would a person accept this reply? Used to pick among candidates
(best-of-n) and reported on every turn.

A reply passes when every check holds:

* ``complete`` — ends with a sentence end (. ! ?), no ellipsis at the end, no sentence of
  fewer than two words, quotes and brackets balanced.
* ``second_person`` — never talks about the person in the third person ("the user",
  "your user", "the person", "the speaker").
* ``no_scaffold`` — none of the prompt's or the structure's own words (tags, "tone",
  "persona", "Reply with", "cause words", "Understanding:" …).
* ``no_loops`` — no repeated word trigram, no repeated sentence, no word three times in a row.
* ``grounded`` — shares a content word (5-letter stem) with the message or its cause words,
  or a paraphrase from :data:`CONCEPTS` (dog ↔ pet, passed away ↔ loss …).
* ``emotion`` — the understanding model reads the reply back as the planned emotion, or one
  of the same valence (neutral read-back is accepted for mild plans, ≤ :data:`MILD`).
* ``tone_fits`` — bad news gets no cheering phrase and no strongly positive read-back (unless
  it says sorry); good
  or everyday news gets no condolence ("sorry", "loss").
* ``empathic`` — acknowledges the feeling: at least one phrase of :data:`_ACKNOWLEDGE`
  ("sorry", "sounds", "no wonder", "congratulations", "ugh", "wow" …).
* ``personal`` — plain talk to the person: no assistant talk or deflection ("I can't help
  with", "as an AI", "let me know if", "how about", "can you tell me", "I'll make sure"), no
  quotes, brackets, emoji or markup.
* ``own_words`` — does not parrot the message: no run of 5+ of its words that still speaks
  as "I"/"my" (the speaker's own voice).
* ``length`` — 4-45 words.

Safety is not judged here: the safety layer (:mod:`pipelines.dialogue.safety`) replaces a
reply whatever it scored.

``score`` ranks candidates: passed checks first, then fewer words past 35, then an
empathy phrase and a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipelines.dialogue.cues import STOPWORDS
from pipelines.dialogue.transition import ReplyPlan
from pipelines.dialogue.understand import EmotionReader, Understanding, words_of
from pipelines.emotion import VAD

CHECKS: tuple[str, ...] = (
    "complete", "second_person", "no_scaffold", "no_loops", "grounded", "emotion",
    "tone_fits", "empathic", "personal", "own_words", "length",
)  # fmt: skip
MILD = 0.45
"""Plans at or below this intensity accept a neutral read-back."""
BAD_NEWS_SENTIMENT = -0.05
"""A message with a VADER valence at most this counts as bad news."""
NADE_MARGIN = 0.25
BAD_EVENT = re.compile(
    r"\b(?:died|dies|dead|death|passed away|funeral|los[te]|losing|fail\w*|broke\w*|ending|"
    r"divorc\w*|sick|ill|hospital|lump|cancer|fever|flu|injur\w*|hurt|pain(?:ful)?|surgery|"
    r"accident|emergency|ambulance|fired|laid off|layoffs?|quit|late|missing|"
    r"nobody|no one|alone|lonely|worse|sto(?:le|len)|steal\w*|scratch\w*|damage\w*|crash\w*|"
    r"cheat\w*|lied|lies|rude|unfair|without|refund|charged|twice|took credit|pretends?|"
    r"mou?ld\w*|rotten|filthy|dirty|stain\w*|cockroach\w*|rats?|mice|smells?|stinks?|"
    r"brag\w*|copied|clueless|useless|incompetent|pathetic|idiots?|losers?|waste\w*|"
    r"can't believe|selling|sold|raised the|scared|afraid|nervous|worried|angry|furious|"
    r"think (?:they|he|she)(?:'re|'s| are| is) (?:better|so)|look down on|"
    r"forg[eo]t(?:ten)? (?:me|us|about (?:me|us)|my|our|to (?:come|call|pick|invite|tell|visit))|"
    r"missed|ignor\w*|left out|stood (?:me|us) up|"
    r"didn't (?:come|show|turn up|call|fix|pay|help|reply|answer|invite|ask|listen|work)|"
    r"(?:wasn't|weren't|was not|were not|never|not) (?:invited|asked|chosen|picked|told|paid|"
    r"thanked|included)|like (?:servants|dirt|children|a child|idiots|garbage|rubbish)|"
    r"talk(?:s|ed)? down|maggots?|greas[ey]\w*|slime|vomit\w*|"
    r"(?:don't|do not) know anyone)\b",
    re.I,
)
"""Words of loss, harm, illness, wrongdoing, dirt or scorn: a message with one is treated as
possible bad news (written as general vocabulary, not from the test set's messages)."""
_NEGATIVE = frozenset(e for e, v in VAD.items() if v[0] < 0)

_THIRD_PERSON = re.compile(
    r"\b(?:the|your|this|that|our|a) (?:user|person|speaker|human|client|individual)\b|"
    r"\busers?'?s?\b",
    re.I,
)
_SCAFFOLD = re.compile(
    r"</?\s*\w+\s*>|\b(?:understanding|reasoning|response|emotion|reply)\s*:|"
    r"\b(?:tone|persona|prompt|instructions?|assistant|cause words?|ed label|"
    r"consider these emotions|pay attention to the words|reply with an?|empathetic dialogue|"
    r"language model|as an ai model)\b",
    re.I,
)
_CHEER = re.compile(
    r"\b(?:congrat\w*|yay|woo+ho+|hooray|awesome|fantastic|great news|good news|"
    r"how exciting|so exciting|that's (?:so )?(?:great|amazing|wonderful|exciting|fun)|"
    r"what a (?:great|wonderful|fun|lovely)|good for you|happy for you|"
    r"glad to hear|lucky you|enjoy (?:it|the)|celebrate)\b|!\s*!",
    re.I,
)
_CONDOLENCE = re.compile(
    r"\b(?:sorry|condolences?|my heart goes out|that's (?:so )?(?:sad|hard|tough)|loss)\b", re.I
)
_MOURNING = re.compile(
    r"\b(?:sorry for (?:your|the) loss|condolences|passing|rest in peace|\w+'s loss|"
    r"loss of your)\b",
    re.I,
)
_DEATH = re.compile(
    r"\b(?:died|dies|dead|death|passed away|passing|funeral|put (?:\w+ )?down|"
    r"(?:lost|loss of) (?:my|our|his|her|their) (?:\w+ )?(?:mum|mom|mother|dad|father|parents?|"
    r"gran\w*|nan|husband|wife|partner|son|daughter|child|baby|brother|sister|friend|dog|cat|"
    r"pet|horse|uncle|aunt|cousin))\b",
    re.I,
)
"""Someone died (a person or a pet): only then may a reply mourn a loss."""
_ASSISTANT = re.compile(
    r"\b(?:i can(?:'|no)?t (?:do|give|help|provide|answer|assist|recommend)|as an ai|"
    r"our conversation|i mentioned|how (?:can|may) i (?:help|assist)|let me know if|"
    r"i'?m (?:always )?happy to help|feel free to|here(?:'s| is) (?:a|an|some) "
    r"(?:example|tip|list)|my (?:mental|own) (?:health|well-being|wellbeing)|"
    r"can you (?:please )?(?:specify|share|provide|clarify)|please (?:specify|share|provide)|"
    r"i(?:'d| would)? recommend|how about|would you like|i'?d (?:be happy|love) to help|"
    r"can we discuss|can you (?:please )?(?:tell|explain|help)|i'?ll make sure|"
    r"let's (?:plan|discuss)|i'm not sure (?:why|what)|(?:for|about) the confusion)\b",
    re.I,
)
_EMPATHY = re.compile(
    r"\b(?:sorry|sounds|must (?:be|feel)|makes sense|i hear|i understand|no wonder|"
    r"of course|that's (?:hard|tough|a lot)|here for you|"
    r"(?:i'm|i am) (?:right )?(?:here )?with you|proud of you|happy for you|congrat\w*)\b",
    re.I,
)
_ACKNOWLEDGE = re.compile(
    r"\b(?:sorry|sounds?|must|understand\w*|hear|imagine|no wonder|makes sense|natural|"
    r"of course|unfair|frustrat\w*|awful|terrible|scary|hard|tough|painful|worr\w*|"
    r"congrat\w*|wonderful|lovely|amazing|great|exciting|proud|happy for you|glad|wow|"
    r"what a|how (?:lovely|exciting|wonderful|nice|awful)|ugh|yuck|gross|oh no|nice|"
    r"interesting|i can see|understandable|normal to|okay to|ok to|rough)\b",
    re.I,
)


def acknowledges(text: str) -> bool:
    """``text`` has a phrase that acknowledges a feeling ("sorry", "sounds", "wow" …)."""
    return bool(_ACKNOWLEDGE.search(text))


_HEDGE = re.compile(r"\b(?:but|though|don'?t worry|just how it is)\b", re.I)
_FEELS_WITH = re.compile(
    r"\b(?:must (?:be|feel|hurt|have been)|(?:i )?can (?:only )?imagine|what a|"
    r"that's (?:so |really |a )?(?:hard|tough|painful|awful|scary|exciting|wonderful|"
    r"lovely|big|lot)|how (?:lovely|exciting|wonderful|awful|scary|hard))\b",
    re.I,
)


_NOUN_SOUNDS = re.compile(r"\b(?:the|those|these|its|their|of|any|loud|strange)\s+sounds\b", re.I)
FOLLOW_WORDS = 24
"""A later sentence longer than this is dropped: the small model's long follow-ups ran on
into word salad ("… makes them uncomfortable at night can't be helped by those sounds alone")."""


def follows_well(sentence: str) -> bool:
    """A later sentence worth adding after an accepted first one: it says an empathy phrase
    ("That must hurt so much.", "Congratulations!"), does not hedge or brush the feeling off
    ("but", "don't worry") and is short: no sentence of it over :data:`FOLLOW_WORDS` words.
    The small model's other follow-ups were mostly non-sequiturs ("What's the opposite of
    pathetic?"). "sounds" counts only as the verb ("that sounds hard"), not the noun."""
    plain = _NOUN_SOUNDS.sub(" noise", sentence)
    feels = _EMPATHY.search(plain) or _FEELS_WITH.search(plain)
    long = any(len(part.split()) > FOLLOW_WORDS for part in _SENTENCE.split(sentence))
    return bool(feels) and not _HEDGE.search(sentence) and not long


_MARKUP = re.compile(r"[\"“”*#_`~|\[\]{}()]|[\U0001F000-\U0001FFFF\u2600-\u27BF]")
_FIRST_PERSON = frozenset({"i", "my", "me", "i'm", "i've", "mine", "myself", "we", "our"})
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+")

CONCEPTS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "died dead death passed passing loss lost gone grief grieving funeral mourn miss",
        "dog puppy pup pet cat kitten animal",
        "grandmother grandma granny nan grandfather grandpa family",
        "mother mum mom father dad parent parents",
        "job work career interview manager boss office coworker colleague team",
        "exam test school university college grade study",
        "marathon race run running ran finish finished",
        "baby born birth godmother newborn",
        "money loan loans debt paid rent bill bills refund charged",
        "doctor hospital results lump biopsy health scan",
        "fly flying flight plane airport",
        "alone lonely friend friends moved",
        "marriage married wedding divorce kids children",
        "birthday party surprise",
        "speech talk present presenting",
        "mould mold rotten smell smells stink food bread fridge fish",
        "dirty filthy gross stains sheets toilet hotel",
        "angry furious livid unfair frustrating annoying",
        "scared nervous anxious worried afraid terrified frightening",
        "layoffs laid fired redundancy",
        "car scratched parking",
        "house home flat apartment moving",
        "promoted promotion lead",
        "painting art show",
    )
)
"""Word families a reply may use instead of the message's own words (a paraphrase)."""


@dataclass(frozen=True)
class Verdict:
    """The strict rubric's view of one reply."""

    checks: dict[str, bool]
    read_back: str
    """The reply's core emotion as the understanding model reads it."""
    read_back_sentiment: float
    bad_news: bool
    score: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": dict(self.checks),
            "read_back": self.read_back,
            "read_back_sentiment": self.read_back_sentiment,
            "bad_news": self.bad_news,
            "score": self.score,
            "notes": list(self.notes),
        }


def bad_news_signs(u: Understanding, message: str = "") -> int:
    """How surely the message is bad news: 2 — a negative detected emotion, a negative
    valence or a word of loss, harm or wrongdoing (:data:`BAD_EVENT`); 1 — only nade's
    negative emotions clearly above its positive ones (unless the reading is happy); 0 — none.
    """
    if u.label in _NEGATIVE or u.sentiment <= BAD_NEWS_SENTIMENT or BAD_EVENT.search(message):
        return 2
    p = u.plutchik
    negative = sum(p.get(k, 0.0) for k in ("sadness", "anger", "fear", "disgust"))
    positive = sum(p.get(k, 0.0) for k in ("joy", "trust"))
    return int(u.label != "happy" and negative > positive + NADE_MARGIN)


def is_bad_news(u: Understanding, message: str = "") -> bool:
    """Would cheering hurt? Any sign of bad news (:func:`bad_news_signs`). Broad on purpose:
    when unsure, don't cheer."""
    return bad_news_signs(u, message) > 0


def sentences_of(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s]


def complete(reply: str) -> bool:
    text = reply.strip()
    if not text or text.endswith(("…", "...", ",", ";", ":", "-", "—")):
        return False
    if not re.search(r"[.!?][\"')\]]*$", text):
        return False
    if text.count('"') % 2 or text.count("(") != text.count(")"):
        return False
    return all(len(s.split()) >= 2 for s in sentences_of(text))


def has_loop(reply: str) -> bool:
    words = [w.lower().strip(".,!?;:\"'") for w in reply.split()]
    grams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    if len(set(grams)) < len(grams):
        return True
    if any(words[i] == words[i + 1] == words[i + 2] for i in range(len(words) - 2)):
        return True
    norm = [re.sub(r"\W+", " ", s.lower()).strip() for s in sentences_of(reply)]
    return len(set(norm)) < len(norm)


def _stems(words: list[str]) -> set[str]:
    return {w[:5] for w in words if w not in STOPWORDS and len(w) > 2}


def _bare(words: list[str]) -> list[str]:
    """Words without a possessive 's ("dog's" → "dog")."""
    return [w.removesuffix("'s").removesuffix("’s") for w in words]


def grounded(message: str, reply: str, cause_words: tuple[tuple[str, float], ...]) -> bool:
    said = _bare(words_of(message) + [w for w, _ in cause_words])
    replied = _bare(words_of(reply))
    if _stems(said) & _stems(replied):
        return True
    said_set, replied_set = set(said), set(replied)
    return any(group & said_set and group & replied_set for group in CONCEPTS)


def _negative(label: str) -> bool:
    return VAD[label][0] < 0


def parrots(message: str, reply: str, run: int = 5) -> bool:
    """A run of ``run``+ message words, in the speaker's own first person, copied."""
    said, replied = words_of(message), words_of(reply)
    grams = {tuple(said[i : i + run]) for i in range(len(said) - run + 1)}
    for i in range(len(replied) - run + 1):
        gram = tuple(replied[i : i + run])
        if gram in grams and _FIRST_PERSON & set(gram):
            return True
    return False


def emotion_matches(plan: ReplyPlan, read_back: str, user_label: str = "neutral") -> bool:
    """The read-back emotion fits the plan: the same label, the same valence, or neutral for a
    mild plan; a calm (neutral) plan also accepts the person's own valence, and anything when
    they were neutral too (``tone_fits`` then judges cheer and sorrow)."""
    if read_back == plan.label:
        return True
    if plan.label == "neutral":
        if read_back == "neutral":
            return True
        if user_label == "neutral":
            return True  # a calm reply to a calm message: tone_fits judges cheer and sorrow
        return _negative(read_back) == _negative(user_label)
    if read_back == "neutral":
        return plan.intensity <= MILD
    return _negative(read_back) == _negative(plan.label)


def cheers(reply: str, sentiment: float, read_back: str) -> bool:
    """Cheering: a cheering phrase, or a strongly positive, happy read-back with no word of
    sympathy in it."""
    if _CHEER.search(reply):
        return True
    return read_back == "happy" and sentiment >= 0.5 and not _CONDOLENCE.search(reply)


def judge(
    *,
    message: str,
    reply: str,
    understanding: Understanding,
    plan: ReplyPlan,
    reader: EmotionReader,
) -> Verdict:
    """The strict verdict on ``reply`` to ``message``."""
    back = reader.read(reply) if reply.strip() else None
    read_back = back.label if back else "neutral"
    sentiment = back.sentiment if back else 0.0
    bad = is_bad_news(understanding, message)
    n_words = len(reply.split())
    checks = {
        "complete": complete(reply),
        "second_person": not _THIRD_PERSON.search(reply),
        "no_scaffold": not _SCAFFOLD.search(reply),
        "no_loops": not has_loop(reply),
        "grounded": grounded(message, reply, understanding.cause_words),
        "emotion": emotion_matches(plan, read_back, understanding.label),
        "tone_fits": not (bad and cheers(reply, sentiment, read_back))
        and not (not bad and _CONDOLENCE.search(reply))
        and not (_MOURNING.search(reply) and not _DEATH.search(message)),
        "empathic": acknowledges(reply),
        "personal": not _ASSISTANT.search(reply) and not _MARKUP.search(reply),
        "own_words": not parrots(message, reply),
        "length": 4 <= n_words <= 45,
    }
    notes = tuple(f"fails {name}" for name, ok in checks.items() if not ok)
    if not checks["emotion"]:
        notes += (f"reads back as {read_back}, planned {plan.label}",)
    bonus = 0.3 * bool(_EMPATHY.search(reply)) + 0.2 * ("?" in reply)
    score = sum(checks.values()) + bonus - 0.02 * max(0, n_words - 35)
    return Verdict(checks, read_back, round(sentiment, 3), bad, round(score, 3), notes)
