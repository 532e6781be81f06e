"""Phonemising one sentence: split by script, each part in its language, words kept aligned.

Latin-script runs are English in the request's accent; Devanagari runs are Hindi (espeak-ng's
``hi`` voice). The parts are joined into one phoneme sequence, so a code-switched sentence is
spoken in one utterance, by one voice, with one emotion. Each word of the text keeps the span of
phonemes it became, which is what word timings are built from; where espeak-ng merged, split or
read out words, ``wordalign`` finds the spans.

espeak-ng is the one bundled inside ``piper-tts`` (its ``espeakbridge`` and data), used through
``piper.phonemize_espeak.EspeakPhonemizer`` with an explicit voice, under piper's own lock
(espeak-ng keeps global state).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.voice.accents import HINDI_VOICE, Accent
from pipelines.voice.text import script_of
from pipelines.voice.wordalign import STRESS, strip_stress, text_words, word_spans

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
    """(word as the subtitles show it, first phoneme index, end index exclusive), for every word
    of the text in order. Words espeak-ng merged into one phoneme word have adjacent spans inside
    it (no break between them); a word with no phoneme of its own has an empty span against a
    neighbour's."""
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


def phonemize_sentence(sentence: str, accent: Accent) -> PhonemizedSentence:
    """Phonemes of one sentence in ``accent``, Devanagari parts in Hindi, words aligned."""
    result = PhonemizedSentence()
    silent: list[str] = []  # words of parts espeak did not speak: timed with the next word
    for seg in split_scripts(sentence):
        voice = HINDI_VOICE if seg.language == "hi" else accent.espeak_voice
        rules = accent.rules if seg.language == "en" else None
        ipa = _ipa(seg.text, voice, rules)
        spans = _phoneme_words(ipa)
        seg_words = text_words(seg.text)
        if not ipa.strip():
            silent.extend(shown for shown, _ in seg_words)
            continue
        offset = len(result.phonemes) + (1 if result.phonemes else 0)
        if result.phonemes:
            result.phonemes.append(" ")
        result.phonemes.extend(ipa)
        result.languages.append(seg.language)
        if seg.language == "hi":
            result.hindi_phonemes = f"{result.hindi_phonemes} {ipa}".strip()
        if not spans:
            silent.extend(shown for shown, _ in seg_words)
            continue
        dst, index = strip_stress(ipa, spans)
        pieces = _own_phonemes([token for _, token in seg_words], voice, rules)
        for (shown, _), (a, b) in zip(seg_words, word_spans(pieces, dst), strict=True):
            a, b = _ipa_span(ipa, dst, index, a, b)
            if silent:  # earlier words espeak did not speak go with this one
                result.words.extend((w, offset + a, offset + a) for w in silent)
                silent = []
            result.words.append((shown, offset + a, offset + b))
    if silent and result.words:  # … or with the last word
        end = result.words[-1][2]
        result.words.extend((w, end, end) for w in silent)
    return result


def _ipa(text: str, voice: str, rules: Callable[[str], str] | None) -> str:
    ipa = _espeak(text, voice)
    if rules is not None:
        ipa = rules(ipa)
    return unicodedata.normalize("NFD", ipa)


_FILLER = "ken"
"""A plain English word put around a word phonemised alone, so that espeak-ng reads it as inside
a sentence ("a" → ɐ, "to" → tə, "e.g." → "for example") without joining it to a neighbour."""


def _own_phonemes(tokens: list[str], voice: str, rules: Callable[[str], str] | None) -> list[str]:
    """Each written word's phoneme words (stress-free, joined by spaces) as espeak-ng says it
    on its own: mid-sentence between fillers in English, alone in Hindi (or if a filler
    joined)."""
    filler = _stress_free(_ipa(_FILLER, voice, rules))
    out = []
    for token in tokens:
        if voice != HINDI_VOICE:
            core = token.strip('"()[]{},;:!?')
            parts = _stress_free(_ipa(f"{_FILLER} {core} {_FILLER}", voice, rules)).split(" ")
            if len(parts) > 2 and parts[0] == parts[-1] == filler:
                out.append(" ".join(parts[1:-1]))
                continue
        out.append(_stress_free(_ipa(token, voice, rules)))
    return out


def _stress_free(ipa: str) -> str:
    return strip_stress(ipa, _phoneme_words(ipa))[0]


def _ipa_span(ipa: str, dst: str, index: list[int], a: int, b: int) -> tuple[int, int]:
    """A word's span in stress-free ``dst`` as a span of ``ipa``: a stress mark goes with the
    phoneme after it; an empty span sits against the neighbour in its phoneme word."""

    def start(p: int) -> int:
        i = index[p]
        while i > 0 and ipa[i - 1] in STRESS:
            i -= 1
        return i

    if b > a:
        return start(a), index[b - 1] + 1
    p = start(a) if a < len(dst) and dst[a] != " " else index[a - 1] + 1
    return p, p
