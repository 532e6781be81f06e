"""A generation row is filed under the emotion its run used: voice "auto" under the emotion read
from the text, music mood words under the label they lean to; the request keeps the spec."""

from __future__ import annotations

import pytest

from pipelines.emotion import EmotionSpec
from studio.generation_emotion import label_of
from studio.library import ALL, Library
from studio.settings import Services

FURIOUS = "I can't believe you did this to me, I am furious!"


def test_voice_auto_is_filed_under_the_emotion_read(services: Services) -> None:
    pid = services.store.create_project("Auto").id
    info = services.generations.run(
        pid, "voice", {"text": FURIOUS, "auto_emotion": True, "seed": 1}, backend="piper"
    )
    assert info.status == "done", info.error
    read = info.metadata["emotion_read"]
    assert read["label"] == "angry" and info.metadata["emotion"] == read["emotion"]
    assert info.emotion == EmotionSpec.parse(info.metadata["emotion"]).label == "angry"
    assert info.request["auto_emotion"] is True  # the request is kept as asked
    assert EmotionSpec.parse(info.request["emotion"]) == EmotionSpec()  # (neutral)
    store = services.store
    assert [g.id for g in store.list_generations(pid, emotion="angry")] == [info.id]
    assert store.list_generations(pid, emotion="neutral") == []
    lib = Library(services)
    assert [row[0] for row in lib.rows(pid, ALL, "angry")] == [info.id]
    assert lib.rows(pid, ALL, "neutral") == []


def test_music_mood_word_is_filed_under_the_label_it_leans_to(services: Services) -> None:
    pid = services.store.create_project("Moods").id
    run = services.generations.run
    tender = run(pid, "music", {"emotion": "tender", "seconds": 4, "render": False, "seed": 2},
                 backend="emogen")  # fmt: skip
    gloomy = run(pid, "music", {"emotion": "gloomy", "bars": 2, "render": False, "seed": 2},
                 backend="rules")  # fmt: skip
    plain = run(pid, "tiny", {"text": "la la", "emotion": "sad@0.4", "seed": 2})
    assert [g.status for g in (tender, gloomy, plain)] == ["done"] * 3, tender.error
    assert tender.request["emotion"] == "vad:0.55,-0.35,-0.05"  # the request keeps the point
    assert tender.metadata["targets"]["valence"] > 0 > tender.metadata["targets"]["arousal"]
    assert (tender.emotion, gloomy.emotion, plain.emotion) == ("happy", "sad", "sad")
    lib = Library(services)
    assert [row[0] for row in lib.rows(pid, ALL, "happy")] == [tender.id]
    assert sorted(row[0] for row in lib.rows(pid, ALL, "sad")) == [gloomy.id, plain.id]
    assert lib.rows(pid, ALL, "neutral") == []


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        ("calm", "happy"),  # +valence −arousal: no core label is calm; it leans to happy
        ("bittersweet", "sad"),
        ("tense", "angry"),  # a point whose nearest anchor is not neutral keeps it
        ("vad:0.1,0.05,0", "neutral"),  # near the origin
        ("tender@0.25", "neutral"),
        ("neutral", "neutral"),
        ("angry@0.584", "angry"),
        ("happy:0.4+sad:0.6", "sad"),
    ],
)
def test_label_of(spec: str, label: str) -> None:
    assert label_of(EmotionSpec.parse(spec)) == label
