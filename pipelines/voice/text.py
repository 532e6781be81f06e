"""Text preparation for speech: normalising, validating, sentence chunking for long text.

Everything here is pure Python and fast, so requests can validate their text in ``__post_init__``
(bad input is refused before a generation is recorded).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 20_000
"""Longest text one generation takes: about 20 minutes of speech (split longer texts)."""

MAX_SENTENCE_CHARS = 300
"""Sentences longer than this are split at commas, then between words, into synthesis chunks."""

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u201c": '"', "\u201d": '"',
    "\u201e": '"', "\u2013": ", ", "\u2014": ", ", "\u2026": "...", "\u00a0": " ",
    "\u2009": " ", "\u202f": " ", "\u200b": "",
})  # fmt: skip

_ABBREVIATIONS = frozenset(
    ("mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "e.g", "i.e", "approx",
     "no", "fig", "dept", "inc", "ltd", "co", "mt")
)  # fmt: skip
_SENTENCE_END = re.compile(r"([.!?]+[\"')\]]*|[\u0964\u0965])(\s+)")
_WCHAR = r"(?:[^\W_]|[\u0900-\u0963\u0966-\u097f\u0300-\u036f])"
_WORD = re.compile(rf"{_WCHAR}+(?:['\-]{_WCHAR}+)*")


@dataclass(frozen=True)
class TextIssue:
    """What normalising changed: characters dropped because no voice can say them."""

    dropped: tuple[str, ...] = ()


def script_of(ch: str) -> str:
    """``"latin"``, ``"devanagari"``, ``"digit"``, ``"other-letter"`` or ``"symbol"``."""
    if ch.isdigit() and ch.isascii():
        return "digit"
    code = ord(ch)
    if 0x0900 <= code <= 0x097F or 0xA8E0 <= code <= 0xA8FF:
        return "devanagari"
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me"):
        return "latin" if unicodedata.name(ch, "").startswith("COMBINING") else "symbol"
    if cat[0] in "LM":
        name = unicodedata.name(ch, "")
        return "latin" if name.startswith("LATIN") or code < 0x250 else "other-letter"
    if cat[0] == "N":
        return "other-letter"
    return "symbol"


_KEEP_PUNCT = set(".,!?;:'\"()-\u0964\u0965&%$/")


def normalise(text: str) -> tuple[str, TextIssue]:
    """NFC, plain quotes and dashes, one space between words; emoji and symbols dropped.

    Letters of scripts the voice can't speak are kept (the request reports them as an error).
    """
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    out: list[str] = []
    dropped: list[str] = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
        elif script_of(ch) != "symbol" or ch in _KEEP_PUNCT:
            out.append(ch)
        elif unicodedata.category(ch) in ("Sm", "Sc", "Pd", "Po", "Ps", "Pe", "Pi", "Pf"):
            out.append(" " if ch not in "+=" else f" {'plus' if ch == '+' else 'equals'} ")
        else:
            dropped.append(ch)
    clean = re.sub(r"\s+", " ", "".join(out)).strip()
    clean = re.sub(r"(?<=\d),(?=\d{3}\b)", "", clean)  # 1,200 → 1200 (one number)
    unique = tuple(dict.fromkeys(d for d in dropped if unicodedata.category(d) != "Cf"))
    return clean, TextIssue(dropped=unique)


def unsupported_letters(text: str) -> str:
    """Letters from scripts other than Latin and Devanagari, in order of appearance, unique."""
    return "".join(dict.fromkeys(ch for ch in text if script_of(ch) == "other-letter"))


def validate(text: object) -> str:
    """The error message for text no voice can speak, or "" when it is fine."""
    if not isinstance(text, str):
        return f"Text must be a string, got {type(text).__name__}."
    if len(text) > MAX_CHARS:
        return (
            f"Text is {len(text):,} characters; one generation takes at most {MAX_CHARS:,} "
            "(about 20 minutes of speech). Split it into parts and generate each."
        )
    if not text.strip():
        return "Text is empty — type at least one word to speak."
    clean, _ = normalise(text)
    if not _WORD.search(clean):
        return (
            "Text has no words to speak (only punctuation, emoji or symbols) — "
            "type at least one word."
        )
    other = unsupported_letters(clean)
    if other:
        return (
            f"The voice can't speak these characters: {other[:20]!r}. It speaks English in "
            "Latin script and Hindi in Devanagari script — transliterate or remove the rest."
        )
    return ""


def words(text: str) -> list[str]:
    """The spoken words of ``text`` (letters/digits runs, with inner apostrophes/hyphens)."""
    return _WORD.findall(text)


def sentences_of(text: str) -> list[str]:
    """The normalised text's sentences: the chunks every voice backend synthesises one by one."""
    clean, _ = normalise(text)
    return split_sentences(clean)


def split_sentences(text: str) -> list[str]:
    """Sentences of normalised text; long ones are split further at clause or word breaks."""
    pieces: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end(1)
        before = text[start:end].rsplit(" ", 1)[-1].rstrip(".").lower()
        if m.group(1) == "." and (before in _ABBREVIATIONS or len(before) == 1):
            continue
        pieces.append(text[start:end].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    out: list[str] = []
    for piece in pieces:
        if words(piece):
            out.extend(_split_long(piece))
        elif out and piece:
            out[-1] = f"{out[-1]} {piece}"
    return out


def _split_long(sentence: str) -> list[str]:
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    parts: list[str] = []
    current = ""
    for clause in re.split(r"(?<=[,;:])\s+", sentence):
        for word in clause.split(" ") if len(clause) > MAX_SENTENCE_CHARS else [clause]:
            candidate = f"{current} {word}".strip()
            if len(candidate) > MAX_SENTENCE_CHARS and current:
                parts.append(current)
                candidate = word
            current = candidate
    if current:
        parts.append(current)
    return parts
