"""Emotion understanding on real text, with the real nade and VADER models."""

from __future__ import annotations

from pipelines.dialogue.understand import EmotionReader, looks_english
from pipelines.emotion import EMOTIONS, EMPATHETIC_DIALOGUES_LABELS

from .sentences import LABELLED


def test_accuracy_on_the_labelled_set(reader: EmotionReader) -> None:
    assert len(LABELLED) >= 40 and {label for _, label in LABELLED} == set(EMOTIONS)
    hits = [reader.read(text).label == label for text, label in LABELLED]
    assert sum(hits) / len(hits) >= 0.7


def test_clear_sentences(reader: EmotionReader) -> None:
    cases = {
        "My dog died yesterday and I can't stop crying.": "sad",
        "I'm furious, they lied to me again!": "angry",
        "I got the job, I'm so happy!": "happy",
        "I'm terrified of the operation tomorrow.": "fearful",
    }
    for text, label in cases.items():
        u = reader.read(text)
        assert u.label == label, (text, u.scores)
        assert u.ed_label in EMPATHETIC_DIALOGUES_LABELS
        assert 0 < u.confidence <= 1 and len(u.vad) == 3
        assert u.cause_words, text


def test_cause_words_point_at_the_cause(reader: EmotionReader) -> None:
    u = reader.read("I feel so lonely since my best friend moved away.")
    assert u.label == "sad" and u.ed_label == "lonely"
    assert "lonely" in [w for w, _ in u.cause_words]
    assert u.vad[0] < 0


def test_negation_and_neutral(reader: EmotionReader) -> None:
    assert reader.read("The bus leaves at nine from stop four.").label == "neutral"
    assert reader.read("I'm not scared at all, just tired of waiting.").label != "fearful"


def test_other_languages_are_flagged() -> None:
    assert looks_english("I am sad today.")
    assert not looks_english("Je suis très triste aujourd'hui parce que mon chat est mort.")
    assert not looks_english("私は今日とても悲しいです")
