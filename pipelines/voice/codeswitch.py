"""Phonemising one sentence: split by script, each part in its language, words kept aligned.

Latin-script runs are English in the request's accent; Devanagari runs are Hindi (espeak-ng's
``hi`` voice). The parts are joined into one phoneme sequence, so a code-switched sentence is
spoken in one utterance, by one voice, with one emotion. Each word of the text keeps the span of
phonemes it became, which is what word timings are built from.

espeak-ng is the one bundled inside ``piper-tts`` (its ``espeakbridge`` and data), used through
``piper.phonemize_espeak.EspeakPhonemizer`` with an explicit voice, under piper's own lock
(espeak-ng keeps global state).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field

from pipelines.voice.accents import HINDI_VOICE, Accent
from pipelines.voice.text import script_of, words

PUNCTUATION = frozenset(".,!?;:")
"""Phoneme-stream characters that are clause punctuation, not sounds of a word."""


@dataclass(frozen=True)
class Segment:
    """A run of text in one script."""

    text: str
    language: str
    """"en" (Latin script) or "hi" (Devanagari)."""


@dataclass
class PhonemizedSentence:
    """One sentence as Piper phonemes (NFD code points) with each word's phoneme span."""

    phonemes: list[str] = field(default_factory=list)
    words: list[tuple[str, int, int]] = field(default_factory=list)
    """(word as written, first phoneme index, end index exclusive)."""
    languages: list[str] = field(default_factory=list)
    """The language of each segment, in order ("en", "hi" …)."""
    hindi_phonemes: str = ""
    """The phonemes of the Devanagari parts (shown, and checked by tests)."""


def split_scripts(text: str) -> list[Segment]:
    """Split text at word level into Latin and Devanagari runs; words without letters (digits,
    punctuation) stay with the run before them (or the first run)."""
    runs: list[tuple[str, list[str]]] = []
    pending: list[str] = []  # tokens without letters wait for the next word's language
    for token in text.split():
        scripts = [script_of(c) for c in token]
        hi, en = scripts.count("devanagari"), scripts.count("latin")
        if not hi and not en:
            if runs and runs[-1][0] == "en":
                runs[-1][1].append(token)
            else:
                pending.append(token)
            continue
        lang = "hi" if hi > en else "en"
        if runs and runs[-1][0] == lang:
            runs[-1][1].extend([*pending, token])
        elif pending and lang == "hi" and runs:
            runs[-1][1].extend(pending)
            runs.append((lang, [token]))
        else:
            runs.append((lang, [*pending, token]))
        pending = []
    if pending:
        runs.append(("en", pending)) if not runs else runs[-1][1].extend(pending)
    return [Segment(" ".join(toks), lang or "en") for lang, toks in runs]


def _espeak(text: str, voice: str) -> str:
    """IPA of ``text`` from piper's bundled espeak-ng with ``voice``; clauses kept with their
    punctuation, language-switch flags removed."""
    from piper import voice as piper_voice
    from piper.phonemize_espeak import EspeakPhonemizer

    with piper_voice._ESPEAK_PHONEMIZER_LOCK:
        if piper_voice._ESPEAK_PHONEMIZER is None:
            piper_voice._ESPEAK_PHONEMIZER = EspeakPhonemizer()
        from piper import espeakbridge

        espeakbridge.set_voice(voice)
        clauses = espeakbridge.get_phonemes(text)
    parts = [re.sub(r"\([^)]+\)", "", ph) + term for ph, term, _ in clauses]
    return " ".join(p.strip() for p in parts if p.strip())


def _phoneme_words(ipa: str) -> list[tuple[int, int]]:
    """Spans of the space-separated phoneme words (punctuation excluded)."""
    spans = []
    for m in re.finditer(r"[^ ]+", ipa):
        start, end = m.start(), m.end()
        while end > start and ipa[end - 1] in PUNCTUATION:
            end -= 1
        while start < end and ipa[start] in PUNCTUATION:
            start += 1
        if end > start:
            spans.append((start, end))
    return spans


def _group(word_list: list[str], counts: list[int], n_spans: int) -> list[tuple[int, int]]:
    """Which phoneme-word spans (first, end) belong to each text word."""
    if sum(counts) != n_spans:  # espeak merged/split words differently: spread by length
        total = sum(len(w) for w in word_list) or 1
        edges = [0]
        acc = 0
        for w in word_list:
            acc += len(w)
            edges.append(round(acc / total * n_spans))
        counts = [max(0, b - a) for a, b in itertools.pairwise(edges)]
    out, i = [], 0
    for c in counts:
        out.append((i, i + c))
        i += c
    return out


def phonemize_sentence(sentence: str, accent: Accent) -> PhonemizedSentence:
    """Phonemes of one sentence in ``accent``, Devanagari parts in Hindi, words aligned."""
    result = PhonemizedSentence()
    for seg in split_scripts(sentence):
        voice = HINDI_VOICE if seg.language == "hi" else accent.espeak_voice
        rules = accent.rules if seg.language == "en" else None
        ipa = _espeak(seg.text, voice)
        if rules is not None:
            ipa = rules(ipa)
        ipa = unicodedata.normalize("NFD", ipa)
        if not ipa.strip():
            continue
        spans = _phoneme_words(ipa)
        seg_words = words(seg.text)
        if len(seg_words) == len(spans):
            counts = [1] * len(spans)
        else:
            counts = [len(_phoneme_words(_espeak(w, voice))) for w in seg_words]
        offset = len(result.phonemes) + (1 if result.phonemes else 0)
        if result.phonemes:
            result.phonemes.append(" ")
        result.phonemes.extend(ipa)
        for word, (a, b) in zip(seg_words, _group(seg_words, counts, len(spans)), strict=True):
            if b > a:
                result.words.append((word, offset + spans[a][0], offset + spans[b - 1][1]))
        result.languages.append(seg.language)
        if seg.language == "hi":
            result.hindi_phonemes = f"{result.hindi_phonemes} {ipa}".strip()
    return result
