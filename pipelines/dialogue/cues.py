"""Hand-written emotion cues for the understanding step: words and phrases per core label and
per EmpatheticDialogues label, negators and intensifiers. English only.

They complement ``nade`` (which knows social-media English well but mixes up disgust,
contempt and anger) and VADER (valence only). Every entry is a lower-case word stem or phrase;
a stem matches a word that starts with it ("terrif" → "terrified", "terrifying").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CORE_CUES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "happy": (
        "happy", "happi", "glad", "joy", "delight", "thrilled", "excited", "wonderful",
        "great news", "amazing", "fantastic", "love it", "proud", "grateful", "thankful",
        "celebrat", "got the job", "got promoted", "passed", "i won", "can't wait", "yay",
        "best day", "so good", "relieved",
    ),
    "sad": (
        "sad", "unhappy", "i miss", "missing", "lonely", "alone", "cry", "cried", "tears",
        "grief", "griev", "died", "passed away", "funeral", "lost my", "heartbroken",
        "depress", "down", "hopeless", "empty", "disappoint", "broke up", "gone", "sorrow",
        "devastat", "hurts",
    ),
    "angry": (
        "angry", "anger", "furious", "mad at", "so mad", "livid", "rage", "hate", "pissed",
        "annoy", "irritat", "frustrat", "unfair", "lied to", "how dare", "fed up",
        "sick of", "outrage", "infuriat", "yelled", "screamed at",
    ),
    "fearful": (
        "afraid", "scared", "scary", "fear", "terrif", "frighten", "anxious", "anxiety",
        "worried", "worry", "nervous", "panic", "dread", "what if", "petrified", "uneasy",
        "shaking", "can't sleep",
    ),
    "surprised": (
        "surpris", "shocked", "shock", "unexpected", "out of nowhere", "can't believe",
        "cannot believe", "didn't expect", "did not expect", "wow", "no way", "suddenly",
        "astonish", "stunned", "out of the blue", "never thought",
    ),
    "disgusted": (
        "disgust", "gross", "revolting", "repuls", "nause", "vomit", "sick to my stomach",
        "filthy", "rotten", "stink", "smelled", "vile", "nasty", "moldy", "mouldy", "slimy",
        "yuck", "ew",
    ),
    "contemptuous": (
        "pathetic", "beneath me", "idiots", "idiot", "morons", "clowns", "worthless",
        "laughable", "so-called", "inferior", "loser", "can't even", "spineless",
        "clueless", "amateurs", "not worth my time", "look down on", "scoff", "sneer",
        "ridiculous people", "incompetent",
    ),
})  # fmt: skip
"""Words and phrases that signal each core label (neutral has none: it is the absence)."""

ED_CUES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "lonely": ("lonely", "alone", "no one", "nobody", "no friends", "isolated"),
    "anxious": ("anxious", "anxiety", "nervous", "worried", "worry", "what if"),
    "terrified": ("terrif", "petrified", "horrif"),
    "guilty": ("guilty", "my fault", "i shouldn't have", "blame myself"),
    "ashamed": ("ashamed", "shame"),
    "embarrassed": ("embarrass", "humiliat", "awkward"),
    "jealous": ("jealous", "envy", "envious"),
    "proud": ("proud",),
    "grateful": ("grateful", "thankful", "thanks to", "appreciate"),
    "nostalgic": ("nostalg", "remember when", "back in the day", "old days"),
    "disappointed": ("disappoint", "let down", "let me down"),
    "devastated": ("devastat", "heartbroken", "crushed", "passed away", "died"),
    "furious": ("furious", "livid", "rage", "infuriat", "outrage"),
    "annoyed": ("annoy", "irritat", "fed up", "sick of"),
    "excited": ("excited", "can't wait", "thrilled"),
    "hopeful": ("hope", "hoping"),
    "confident": ("confident", "i can do", "ready for"),
    "impressed": ("impressed", "impressive"),
    "apprehensive": ("apprehensive", "uneasy", "hesitant"),
    "anticipating": ("looking forward", "soon", "tomorrow"),
    "caring": ("take care of", "caring for", "look after"),
    "sentimental": ("sentimental", "memories"),
})  # fmt: skip
"""Cues that pick a finer EmpatheticDialogues label within the detected core label."""

NEGATORS: frozenset[str] = frozenset({
    "not", "no", "never", "n't", "isn't", "wasn't", "don't", "didn't", "can't", "cannot",
    "hardly", "barely", "without",
})  # fmt: skip
"""A negator in the three words before a cue cancels that cue."""

INTENSIFIERS: frozenset[str] = frozenset({
    "so", "very", "really", "extremely", "totally", "completely", "utterly", "absolutely",
    "incredibly", "terribly", "super",
})  # fmt: skip

STOPWORDS: frozenset[str] = frozenset({
    "a", "an", "the", "and", "or", "but", "if", "then", "so", "to", "of", "in", "on", "at", "for",
    "with", "by", "from", "up", "about", "into", "over", "after", "i", "me", "my", "mine",
    "myself", "you", "your", "yours", "he", "him", "his", "she", "her", "it", "its", "we", "us",
    "our", "they", "them", "their", "this", "that", "these", "those", "is", "am", "are", "was",
    "were", "be", "been", "being", "have", "has", "had", "do", "does", "did", "will", "would",
    "shall", "should", "can", "could", "may", "might", "must", "just", "also", "too", "very",
    "really", "again", "still", "what", "which", "who", "whom", "when", "where", "why", "how",
    "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "than", "as",
    "there", "here", "out", "off", "only", "own", "same", "now", "today", "yesterday", "tomorrow",
})  # fmt: skip
"""Function words never reported as cause words (and used to tell English text apart)."""
