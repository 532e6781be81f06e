"""Understanding the user (HEF's "small empathetic model"): emotion, VAD, ED label, cause words.

Three readers are combined per core label (scores 0-1):

* ``nade`` — Plutchik-8 intensities (fastText emoji predictor + LightGBM), mapped to the core
  labels with :func:`pipelines.emotion.from_plutchik`; weight ``W_NADE``.
* our cues (:mod:`pipelines.dialogue.cues`) — each matched, un-negated cue adds ``CUE_STEP``
  (x1.5 after an intensifier), capped at 1; weight ``W_CUES``.
* VADER — the compound valence c in [-1, 1]: c > 0 adds ``W_VADER``·c to happy; c < 0 spreads
  ``W_VADER``·|c| over the negative labels in proportion to their other evidence (or to sad
  when there is none).

Neutral scores ``NEUTRAL_FLOOR`` minus the strongest other evidence. The label is the argmax;
its confidence is its share of the summed scores. Cause words: each content word is deleted
in turn and the drop of the label's nade score measured (occlusion), plus a bonus for cue
words and for VADER lexicon words whose sign matches the label's valence.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from pipelines.base import PipelineError
from pipelines.dialogue.cues import CORE_CUES, ED_CUES, INTENSIFIERS, NEGATORS, STOPWORDS
from pipelines.emotion import (
    ED_CORE,
    ED_VAD,
    EMOTIONS,
    PLUTCHIK8,
    VAD,
    EmotionSpec,
    from_plutchik,
    to_ed_label,
)

W_NADE, W_CUES, W_VADER = 0.5, 0.6, 0.35
CUE_STEP = 0.6
NEUTRAL_FLOOR = 0.3
MAX_CAUSE_WORDS = 5
_WORD = re.compile(r"[a-zA-Z][a-zA-Z'\-]*")
_NEGATIVE = tuple(e for e in EMOTIONS if VAD[e][0] < 0)


class PlutchikModel(Protocol):
    """What ``nade.Nade`` offers: Plutchik-8 scores for a batch of texts."""

    def predict(self, input: list[str]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Understanding:
    """What the user feels, as far as the readers can tell."""

    label: str
    """Core label (one of :data:`pipelines.emotion.EMOTIONS`)."""
    confidence: float
    scores: dict[str, float]
    """Combined evidence per core label, 0-1."""
    intensity: float
    vad: tuple[float, float, float]
    ed_label: str
    """Nearest EmpatheticDialogues label."""
    ed_confidence: float
    sentiment: float
    """VADER compound valence, -1..1."""
    plutchik: dict[str, float]
    """nade's Plutchik-8 scores (empty when nade was not used)."""
    cause_words: tuple[tuple[str, float], ...]
    """The words that drive the emotion, strongest first, with weights 0-1."""
    cues: tuple[str, ...]
    """Which of our cues matched."""
    english: bool
    """False when the text does not look like English (the readers know only English)."""

    @property
    def spec(self) -> EmotionSpec:
        return EmotionSpec.of(self.label, self.intensity if self.label != "neutral" else 1.0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["vad"] = [round(x, 3) for x in self.vad]
        data["cause_words"] = [[w, round(s, 3)] for w, s in self.cause_words]
        data["cues"] = list(self.cues)
        return data


def words_of(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def looks_english(text: str) -> bool:
    """Mostly Latin letters and at least one English function word (for 4+ words)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return True
    ascii_share = sum(c.isascii() for c in letters) / len(letters)
    words = words_of(text)
    return ascii_share >= 0.8 and (len(words) < 4 or any(w in STOPWORDS for w in words))


def match_cues(text: str, table: dict[str, tuple[str, ...]] | Any) -> dict[str, list[str]]:
    """Cue hits per key of ``table``, skipping cues negated by one of the three words before."""
    low = " " + " ".join(re.findall(r"[a-z']+|[^\sa-z']", text.lower())) + " "
    hits: dict[str, list[str]] = {}
    for key, cues in table.items():
        for cue in cues:
            pattern = r"(?<![a-z'])" + re.escape(cue) + (r"" if " " in cue else r"[a-z'\-]*")
            for m in re.finditer(pattern, low):
                before = low[: m.start()].split()[-3:]
                if any(b in NEGATORS or b.endswith("n't") for b in before):
                    continue
                boost = "!" if before and before[-1] in INTENSIFIERS else ""
                hits.setdefault(key, []).append(m.group(0).strip() + boost)
    return hits


class EmotionReader:
    """Combines nade (optional), VADER and our cues. Load once; ``read`` is reentrant."""

    def __init__(self, nade: PlutchikModel | None, vader: Any) -> None:
        self.nade = nade
        self.vader = vader

    @classmethod
    def load(cls, *, use_nade: bool = True) -> EmotionReader:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as exc:
            raise PipelineError("vaderSentiment is missing: pip install vadersentiment") from exc
        nade = None
        if use_nade:
            try:
                import warnings

                from nade import Nade

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    nade = Nade()
            except ImportError as exc:
                raise PipelineError("nade is missing: pip install nade==0.3.1") from exc
        return cls(nade, SentimentIntensityAnalyzer())

    def _plutchik(self, texts: list[str]) -> list[dict[str, float]]:
        if self.nade is None:
            return [{} for _ in texts]
        raw = self.nade.predict(texts)
        cols = {k: np.asarray(raw[k], dtype=float) for k in PLUTCHIK8}
        return [{k: float(cols[k][i]) for k in PLUTCHIK8} for i in range(len(texts))]

    def read(self, text: str) -> Understanding:
        text = text[:4000]
        tokens = words_of(text)
        content = [w for w in dict.fromkeys(tokens) if w not in STOPWORDS and len(w) > 2][:24]
        variants = [text] + [re.sub(rf"\b{re.escape(w)}\b", " ", text, flags=re.I) for w in content]
        plutchiks = self._plutchik(variants) if tokens else [{}]
        nade_core = _core_from_plutchik(plutchiks[0])
        cue_hits = match_cues(text, CORE_CUES)
        compound = float(self.vader.polarity_scores(text)["compound"])
        scores: dict[str, float] = {}
        for label in EMOTIONS[1:]:
            hits = cue_hits.get(label, [])
            cue = min(1.0, sum(CUE_STEP * (1.5 if h.endswith("!") else 1.0) for h in hits))
            scores[label] = W_NADE * nade_core.get(label, 0.0) + W_CUES * cue
        if compound > 0:
            scores["happy"] += W_VADER * compound
        elif compound < 0:
            neg_total = sum(scores[e] for e in _NEGATIVE)
            for e in _NEGATIVE:
                share = scores[e] / neg_total if neg_total > 0 else float(e == "sad")
                scores[e] += W_VADER * -compound * share
        scores = {k: min(1.0, v) for k, v in scores.items()}
        scores["neutral"] = max(0.0, NEUTRAL_FLOOR - max(scores.values()) + 0.1)
        label = max(EMOTIONS, key=lambda e: (scores[e], -EMOTIONS.index(e)))
        total = sum(scores.values()) or 1.0
        intensity = round(min(1.0, max(0.2, scores[label])), 3)
        blend = {k: v for k, v in scores.items() if v > 0}
        point = EmotionSpec.blend(blend, intensity=intensity).vad() if blend else (0.0, 0.0, 0.0)
        ed_label, ed_conf = _ed_label(text, label, intensity)
        causes = self._causes(text, label, content, plutchiks, cue_hits)
        return Understanding(
            label=label,
            confidence=round(scores[label] / total, 3),
            scores={k: round(scores[k], 3) for k in EMOTIONS},
            intensity=intensity,
            vad=(round(point[0], 3), round(point[1], 3), round(point[2], 3)),
            ed_label=ed_label,
            ed_confidence=ed_conf,
            sentiment=round(compound, 3),
            plutchik={k: round(v, 3) for k, v in plutchiks[0].items()},
            cause_words=causes,
            cues=tuple(sorted({h.rstrip("!") for hs in cue_hits.values() for h in hs})),
            english=looks_english(text),
        )

    def _causes(
        self,
        text: str,
        label: str,
        content: list[str],
        plutchiks: list[dict[str, float]],
        cue_hits: dict[str, list[str]],
    ) -> tuple[tuple[str, float], ...]:
        if label == "neutral":
            return ()
        base = _core_from_plutchik(plutchiks[0]).get(label, 0.0)
        cue_words = {w for h in cue_hits.get(label, []) for w in words_of(h)}
        sign = np.sign(VAD[label][0])
        weights: dict[str, float] = {}
        for i, word in enumerate(content):
            drop = 0.0
            if i + 1 < len(plutchiks) and plutchiks[i + 1]:
                drop = max(0.0, base - _core_from_plutchik(plutchiks[i + 1]).get(label, 0.0))
            lex = float(self.vader.lexicon.get(word, 0.0))
            bonus = 0.4 * any(word.startswith(c) or c.startswith(word) for c in cue_words)
            bonus += 0.3 * min(1.0, abs(lex) / 3.0) * float(np.sign(lex) == sign)
            weights[word] = min(1.0, drop + bonus)
        ranked = sorted(weights.items(), key=lambda kv: -kv[1])
        return tuple((w, round(s, 3)) for w, s in ranked[:MAX_CAUSE_WORDS] if s >= 0.05)


def _core_from_plutchik(scores: dict[str, float]) -> dict[str, float]:
    if not scores or sum(scores.values()) <= 0:
        return {}
    spec = from_plutchik(scores)
    # Relative weights × the strongest raw score: how strongly each core label is present.
    peak = max(scores.values())
    return {k: w * peak / max(w for _, w in spec.weights) for k, w in spec.weights}


def _ed_label(text: str, label: str, intensity: float) -> tuple[str, float]:
    """A cue-named ED label of the same core label, else the nearest by VAD."""
    if label == "neutral":
        return "content", 0.3
    hits = match_cues(text, ED_CUES)
    for ed in sorted(hits, key=lambda e: -len(hits[e])):
        if ED_CORE[ed] == label:
            return ed, 0.8
    ed = to_ed_label(EmotionSpec.of(label, intensity))
    point = EmotionSpec.of(label, intensity).vad()
    dist = float(np.sqrt(sum((a - b) ** 2 for a, b in zip(point, ED_VAD[ed], strict=True))))
    return ed, round(max(0.2, 0.7 - dist), 3)
