"""Accents: espeak-ng accent voices for one neural voice, plus Indian-English phoneme rules.

The Piper voice is driven by IPA phonemes, so an accent is a choice of phonemiser: espeak-ng's
American, RP, Scottish and Caribbean English voices give each accent's vowels, rhoticity and
consonants for the same speaker. Indian English has no espeak-ng voice, so it is the American
phonemisation rewritten by rules from the phonology of Indian English (retroflex t where
American English flaps, th stopped to t/d, ʋ for v, r tapped between and after vowels,
monophthong eː/oː, full vowels where native English reduces them).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.base import PipelineError


@dataclass(frozen=True)
class Accent:
    """One selectable accent."""

    name: str
    """Short id used in requests, the CLI and the UI ("us", "rp", …)."""
    title: str
    """What the UI shows."""
    espeak_voice: str
    """The espeak-ng voice that phonemises English text for this accent."""
    rules: Callable[[str], str] | None = None
    """Rewrites the espeak-ng IPA (NFD) of one word group, or None."""


_SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("ɾ", "ʈ"),  # no American t-flapping: "water" keeps a (retroflex) t
    ("eɪ", "eː"),  # face: monophthong
    ("oʊ", "oː"),  # goat: monophthong
    ("ɚ", "əɾ"),  # rhotic schwa → schwa + tap
    ("ɝ", "ɜɾ"),
    ("ɑː", "aː"),  # open back vowel fronted
    ("ɒ", "ɔ"),
    ("ɐ", "ʌ"),  # full vowel for the reduced one (syllable timing)
    ("ᵻ", "ɪ"),
    ("v", "ʋ"),  # labiodental approximant for v (w kept: pocketsphinx must still follow it)
)


_VOWELS = "aeiouæɐɑɒɔəɘɚɛɜɝɞɪɨʉʊʌʏœøɤɯ"
_INTERVOCALIC_R = re.compile(f"([{_VOWELS}]ː?[ˈˌ]?)ɹ(?=[ˈˌ]?[{_VOWELS}])")


def indian_english(ipa: str) -> str:
    """Indian-English phoneme rules over American espeak-ng IPA."""
    for old, new in _SUBSTITUTIONS:
        ipa = ipa.replace(old, new)
    # Tapped r between vowels ("very" → ʋeɾi) and after them (ɚ → əɾ above); onset r and r in
    # clusters ("run", "tree") stay approximant. A tap everywhere was heard as t/d by
    # pocketsphinx: 35 % WER against 13.5 % for this (neutral, ten everyday sentences).
    ipa = _INTERVOCALIC_R.sub(lambda m: m.group(1) + "ɾ", ipa)
    # Retroflex stops only where American English flaps (water → wɔːʈəɾ): retroflex t/d
    # everywhere pushed pocketsphinx's WER from 30 % to 40-46 % on this voice.
    # th-stopping: Indian English says dental t̪/d̪; the voice never learned the dental mark
    # (it mumbles it), so plain t/d stand in: the worst emotion's WER fell from 29 % to 24 %.
    ipa = ipa.replace("θ", "t").replace("ð", "d")
    return ipa


_TO_KNOWN: tuple[tuple[str, str], ...] = (
    ("ʉ", "u"),  # Scottish fronted goose vowel
    ("ɒ", "ɔ"),  # British/Caribbean lot vowel
    ("ʍ", "w"),  # Scottish "which" vs "witch"
    ("r", "ɹ"),  # Scottish trilled r: rhoticity stays, the trill goes
    (":", "ː"),
    ("\u032a", ""),  # Caribbean dental t̪/d̪ for th: plain t/d
)


def known_symbols(ipa: str) -> str:
    """espeak-ng IPA with the few symbols the voice never learned mapped to known ones.

    The bundled voice was trained on American phonemes only: symbols it never saw come out as
    mumbling. Mapped to their nearest known symbols, each accent keeps its vowels, rhoticity
    and th-stopping, and pocketsphinx's WER drops (Scottish 45 → 17 %, Caribbean 29 → 21 %).
    """
    for old, new in _TO_KNOWN:
        ipa = ipa.replace(old, new)
    return ipa


ACCENTS: dict[str, Accent] = {
    a.name: a
    for a in (
        Accent("us", "American English", "en-us"),
        Accent("rp", "British English (RP)", "en-gb-x-rp", known_symbols),
        Accent("scottish", "Scottish English", "en-gb-scotland", known_symbols),
        Accent("caribbean", "Caribbean English", "en-029", known_symbols),
        Accent("indian", "Indian English", "en-us", indian_english),
    )
}
"""Every accent, in UI order; "us" is the voice's own."""

ALIASES: dict[str, str] = {
    "american": "us", "en-us": "us", "general american": "us", "usa": "us",
    "british": "rp", "english": "rp", "en-gb": "rp", "en-gb-x-rp": "rp", "uk": "rp",
    "received pronunciation": "rp", "scotland": "scottish", "scots": "scottish",
    "en-gb-scotland": "scottish", "jamaican": "caribbean", "west indian": "caribbean",
    "en-029": "caribbean", "india": "indian", "en-in": "indian", "hinglish": "indian",
}  # fmt: skip
"""Other names accepted for an accent (descriptions and the CLI say "British", "Indian" …)."""

HINDI_VOICE = "hi"
"""The espeak-ng voice for Devanagari text (code-switching)."""


def accent(name: object) -> Accent:
    """The accent called ``name`` (case-insensitive, aliases accepted) or a PipelineError."""
    key = str(name).strip().lower() if isinstance(name, str) else ""
    key = ALIASES.get(key, key)
    if key in ACCENTS:
        return ACCENTS[key]
    close = difflib.get_close_matches(key, [*ACCENTS, *ALIASES], n=1, cutoff=0.6)
    hint = f" — did you mean {ALIASES.get(close[0], close[0])!r}?" if close else "."
    raise PipelineError(f"Unknown accent {name!r}{hint} Valid accents: {', '.join(ACCENTS)}.")


def accent_choices() -> list[tuple[str, str]]:
    """(title, name) pairs for dropdowns."""
    return [(a.title, a.name) for a in ACCENTS.values()]
