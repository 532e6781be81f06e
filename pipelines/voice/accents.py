"""Accents: espeak-ng accent voices for one neural voice, plus Indian-English phoneme rules.

The Piper voice is driven by IPA phonemes, so an accent is a choice of phonemiser: espeak-ng's
American, RP, Scottish and Caribbean English voices give each accent's vowels, rhoticity and
consonants for the same speaker (Caribbean and Scottish lighter where the voice mumbled them).
Indian English has no espeak-ng voice, so it is the American phonemisation rewritten by rules
from the phonology of Indian English (retroflex t where American English flaps, th stopped to
t/d, ʋ for v, r tapped between vowels, monophthong eː/oː, full vowels where native English
reduces them).

The rules were tuned for pocketsphinx's WER on ``measure.EVERYDAY_SENTENCES`` and
``measure.SECOND_TUNING_SENTENCES`` and are checked on ``accent_sets.ACCENT_HELD_OUT_SENTENCES``
(``benchmarks/voice_quality.py``, which also measures each accent's strength).
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
    ("ɚ", "əɹ"),  # rhotic schwa → schwa + r (a tap here cost 4 points of WER: see below)
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
    # Tapped r between vowels ("very" → ʋeɾi); onset r and r in clusters ("run", "tree") stay
    # approximant. A tap everywhere was heard as t/d by pocketsphinx: 35 % WER against 13.5 %
    # for this (neutral, ten everyday sentences). A tap for the rhotic schwa ("water" →
    # wɔːʈəɾ) was the costliest rule left (issue 12, one rule off at a time on 22 tuning
    # sentences: 21.3 % with it, 17.2 % without, 16.8 % with əɹ), so that r is approximant.
    # Mean over neutral, happy, sad, angry: 20.5 % with one r for a linking ɚɹ ("weather
    # is"), 18.4 % with əɹɹ as the substitution gives it, so that is kept.
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


_BARE_A = re.compile(r"a+(?![ɪʊː])")
_UNSTRESSED_STRUT = re.compile(r"(?<![ˈˌ])ʌ")
_ING = re.compile(rf"(?<=[{_VOWELS}]\S)(\S*?)(?<![eaɔˈˌb])ɪn(?=[\s.,;:!?]|$)")
"""-in at a word's end after an earlier syllable ("going", "morning"; not "in", "rain", "begin",
nor "been" in espeak's merged "had been" → hædbɪn)."""
_WAS_OF = re.compile(r"(?<!\S)(?:wɔz|ɔv)(?=[\s.,;:!?]|d[əɪ]|$)")


def caribbean_english(ipa: str) -> str:
    """espeak-ng's Caribbean English (en-029) IPA, lighter, in symbols the voice knows.

    Kept from en-029: th stopped (ðə → də, θɹiː → tɹiː), non-rhotic (r only before a vowel:
    "park" pɑək, "more" moə, "water" wɔːtæ), the lot vowel ɔ for ɑː (shop, clock), full
    unstressed vowels (brokɛn), its stress. Changed (issue 12; 22 tuning sentences, mean WER
    over neutral, happy, sad, angry, one change at a time): en-029's bare a (trap and bath
    vowels "and" → and, "glass" → ɡlaas, and -er → a) is a vowel the American voice never
    produced alone (only in aɪ, aʊ) and came out mumbled, so it is æ, and unstressed ʌ
    (stˈeɪʃʌn) is ə: 26-30 % → 23.0 %; -ing keeps its ŋ (-in was heard as other words): 21.3 %;
    "was" and "of" keep the American ʌ (wɔz, ɔv): 19.9 %; then (the -ing rule no longer
    taking "in" and "been"): 18.8 %.
    """
    ipa = _BARE_A.sub("æ", known_symbols(ipa))
    ipa = _UNSTRESSED_STRUT.sub("ə", ipa)
    ipa = _ING.sub(lambda m: m.group(1) + "ɪŋ", ipa)
    return _WAS_OF.sub(lambda m: m.group(0).replace("ɔ", "ʌ"), ipa)


_SCOTTISH_TRAP = re.compile(r"a(?![ɪʊː])")


def scottish_english(ipa: str) -> str:
    """espeak-ng's Scottish English (en-gb-scotland) IPA, lighter, in symbols the voice knows.

    Kept: rhotic r after vowels ("park" pˈaːɹk, "turn" tˈʌɹn), monophthong eː/oː (face, goat),
    u for the foot vowel ("book" bˈuk), the long bath vowel aː ("after", "glass"), the lot
    vowel ɔ, its stress. Changed (issue 12; 22 tuning sentences, one change at a time, neutral
    18.4 % WER): the short trap a ("and", "at", "bank"), a vowel the American voice never
    produced alone, is æ: 15.2 %; the final unstressed ɜ ("water" wˈɔːtɜ, a non-rhotic vowel
    in a rhotic accent) is the rhotic schwa ɚ, and the mouth diphthong ʌu is aʊ ("hours",
    "without"): 12.3 % (mean over neutral, happy, sad, angry 17.8 % → 13.8 %). Tried and not
    kept: aː → ɑː (22.1 %), eː/oː → eɪ/oʊ (21.3 %, 18.0 %), final e → i (19.7 %).
    """
    ipa = _SCOTTISH_TRAP.sub("æ", known_symbols(ipa))
    return ipa.replace("ɜ", "ɚ").replace("ʌu", "aʊ")


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
        Accent("scottish", "Scottish English", "en-gb-scotland", scottish_english),
        Accent("caribbean", "Caribbean English", "en-029", caribbean_english),
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
