"""Emotion "auto": the dialogue understanding model reads the emotion from the text."""

from __future__ import annotations

import pytest

from pipelines.base import PipelineError
from pipelines.emotion import EmotionSpec
from pipelines.voice.piper import PiperBackend
from pipelines.voice.request import VoiceRequest, plan


def test_auto_reads_the_emotion_and_intensity_from_the_text() -> None:
    won = plan(VoiceRequest(text="I can't believe we won tonight!", auto_emotion=True))
    assert won.emotion.label not in ("neutral", "sad", "angry", "fearful"), won.emotion
    assert won.prosody.pitch_shift > 0 and won.prosody.rate > 1  # spoken livelier
    assert won.reading is not None and won.reading["emotion"] == str(won.emotion)
    assert any(n.startswith("Emotion read from the text") for n in won.notes)
    sad = plan(VoiceRequest(text="I miss her so much, it hurts.", auto_emotion=True))
    assert sad.emotion.label == "sad" and sad.prosody.pitch_shift < 0
    plain = plan(VoiceRequest(text="The train leaves at seven.", auto_emotion=True))
    assert plain.emotion == EmotionSpec() and plain.prosody.is_neutral()


def test_auto_and_an_emotion_are_not_both_allowed() -> None:
    with pytest.raises(PipelineError, match="not both"):
        VoiceRequest(text="Hello.", emotion="happy", auto_emotion=True)


def test_auto_result_reports_what_was_read(piper: PiperBackend) -> None:
    res = piper.run(VoiceRequest(text="I miss her so much, it hurts.", auto_emotion=True))
    meta = res.metadata
    assert meta["emotion"].startswith("sad") and meta["emotion_read"]["label"] == "sad"
    assert meta["prosody"]["pitch_shift"] < 0


def test_compose_auto_gives_voice_face_and_music_the_read_emotion() -> None:
    from pipelines.compose import ComposeRequest

    req = ComposeRequest(text="I miss her so much, it hurts.", auto_emotion=True)
    assert req.voice_request().auto_emotion and req.emotion == EmotionSpec()
    assert req.spoken_emotion().label == "sad"
    assert ComposeRequest(text="Hi.", emotion="happy").spoken_emotion().label == "happy"
