"""Which phonemes each written word became, when espeak-ng's words are not the text's words.

espeak-ng phonemises a sentence in context: it merges words ("I am" → ``aɪɐm``, "for a" →
``fɚɹə``), splits others ("2024" → four words, "$15.50" → six) and reads abbreviations out
("e.g." → "for example"). So each written word is also phonemised on its own, and the two
phoneme strings are aligned (an edit distance over phoneme characters: stress marks ignored,
vowel-for-vowel and consonant-for-consonant substitutions cheap, word breaks matched for free).
A word's span then runs from where its first phoneme aligned to where the next word's did: words
espeak split are joined, and words it merged share their phoneme word, split where their own
phonemes meet (``timings`` gives each of them a minimum time).

The words are the whitespace tokens of the text with their outer punctuation removed (as the
subtitles show them): "can't", "well-known", "$15.50", "3:45", "Dr", "e.g." (dotted
abbreviations keep their last dot), "नमस्ते".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

STRESS = frozenset("ˈˌ")
_VOWELS = frozenset("aeiouyæɐɑɒɔəɘɚɛɜɝɞɪɨʉʊʌʏœøɤɯᵻɵ")
_OUTER = ".,!?;:\"'()[]{}-\u0964\u0965"
_SPOKEN_SYMBOLS = frozenset("&%$/")
_DOTTED = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}")  # e.g, U.S, Ph.D (last dot stripped)

_GAP = 1.0  # a phoneme only one side has
_GAP_MARK = 0.3  # a length mark or diacritic only one side has
_GAP_BREAK = 0.6  # a word break only one side has (espeak merged or split words)
_VOWEL_FOR_VOWEL = 0.4
_CONSONANT_FOR_CONSONANT = 0.7
_FORBIDDEN = 1e6  # a word break against a phoneme


def text_words(text: str) -> list[tuple[str, str]]:
    """(word as shown, token as written) for each spoken word of ``text``, in order."""
    out = []
    for token in text.split():
        shown = token.strip(_OUTER)
        if not any(ch.isalnum() or ch in _SPOKEN_SYMBOLS for ch in shown):
            continue
        end = token.find(shown) + len(shown)
        if token[end : end + 1] == "." and _DOTTED.fullmatch(shown):
            shown += "."
        out.append((shown, token))
    return out


def strip_stress(ipa: str, spans: Sequence[tuple[int, int]]) -> tuple[str, list[int]]:
    """The phoneme words ``spans`` of ``ipa`` joined by single spaces without stress marks, and
    each character's index in ``ipa`` (-1 for the joining spaces)."""
    chars: list[str] = []
    index: list[int] = []
    for a, b in spans:
        if chars:
            chars.append(" ")
            index.append(-1)
        for i in range(a, b):
            if ipa[i] not in STRESS:
                chars.append(ipa[i])
                index.append(i)
    return "".join(chars), index


def _is_mark(ch: str) -> bool:
    return ch in "ːˑʲʰ" or unicodedata.combining(ch) > 0


def _sub(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if a == " " or b == " ":
        return _FORBIDDEN
    if (a in _VOWELS) == (b in _VOWELS):
        return _VOWEL_FOR_VOWEL if a in _VOWELS else _CONSONANT_FOR_CONSONANT
    return _GAP


def _gap(ch: str) -> float:
    return _GAP_BREAK if ch == " " else _GAP_MARK if _is_mark(ch) else _GAP


def align(src: str, dst: str) -> list[tuple[int, bool]]:
    """For each character of ``src``: the position in ``dst`` where the cheapest alignment
    consumes it, and whether it is matched there to ``dst``'s character (else it is dropped)."""
    n, m = len(src), len(dst)
    gap_dst = [_gap(c) for c in dst]
    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]  # 0 diagonal, 1 drop src, 2 insert dst
    for j in range(1, m + 1):
        cost[0][j] = cost[0][j - 1] + gap_dst[j - 1]
        move[0][j] = 2
    for i in range(1, n + 1):
        a, g = src[i - 1], _gap(src[i - 1])
        prev, row, mv = cost[i - 1], cost[i], move[i]
        row[0], mv[0] = prev[0] + g, 1
        for j in range(1, m + 1):
            best, how = prev[j - 1] + _sub(a, dst[j - 1]), 0
            drop = prev[j] + g
            if drop < best:
                best, how = drop, 1
            ins = row[j - 1] + gap_dst[j - 1]
            if ins < best:
                best, how = ins, 2
            row[j], mv[j] = best, how
    out: list[tuple[int, bool]] = [(0, False)] * n
    i, j = n, m
    while i > 0 or j > 0:
        how = move[i][j]
        if how == 0:
            i, j = i - 1, j - 1
            out[i] = (j, True)
        elif how == 1:
            i -= 1
            out[i] = (j, False)
        else:
            j -= 1
    return out


def word_spans(pieces: Sequence[str], dst: str) -> list[tuple[int, int]]:
    """Each word's (start, end) in ``dst`` (the sentence's phoneme words joined by spaces),
    given each word's own phonemes (``pieces``, stress-free, its phoneme words joined by
    spaces). Spans are in order, do not overlap, exclude the breaks and cover every phoneme;
    a word the alignment gave nothing is empty, placed against a neighbour."""
    if not pieces:
        return []
    seps: list[int] = []  # index in src of the break before each word after the first
    src = ""
    for k, piece in enumerate(pieces):
        if k:
            seps.append(len(src))
            src += " "
        src += piece
    moves = align(src, dst)
    starts, ends = [0], []
    for s in seps:
        j, matched = moves[s]
        ends.append(j)
        starts.append(j + 1 if matched else j)
    ends.append(len(dst))
    spans = []
    for a, b in zip(starts, ends, strict=True):
        while a < b and dst[a] == " ":
            a += 1
        while b > a and dst[b - 1] == " ":
            b -= 1
        spans.append((a, b))
    return spans
