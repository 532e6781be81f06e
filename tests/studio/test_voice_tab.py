"""Voice tab handlers, called directly on real services (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.base import PipelineError
from pipelines.emotion import EmotionSpec
from studio import voice_tab
from studio.settings import Services


def test_emotion_text_and_preview() -> None:
    assert voice_tab.emotion_text(["happy", "surprised"], "", 0.5) == "happy:0.5+surprised:0.5@0.5"
    assert voice_tab.emotion_text([], "sad:0.7+angry:0.3", 1.0) == "sad:0.7+angry:0.3"
    shown = voice_tab.preview("a sad woman speaking very fast", "happy", "us", "joe")
    assert "the emotion setting wins" in shown and "joe-light" in shown
    with pytest.raises(PipelineError):
        voice_tab.emotion_text(["hapy"], "", 1.0)
    assert voice_tab.emotion_text(["auto"], "", 0.5) == "auto"
    assert "read from the text" in voice_tab.preview("", "auto", "us", "joe")
    req = voice_tab.build_request("We won!", "auto", "us", "joe", "", 1.0, 0.0, 0)
    assert req.auto_emotion and req.emotion == EmotionSpec()


def test_bad_input_is_refused_before_anything_is_recorded(services: Services) -> None:
    for text in ("", "🙂🙂 !!!", "x" * 200_000):
        with pytest.raises(PipelineError):
            voice_tab.build_request(text, "happy", "us", "joe", "", 1.0, 0.0, 0)
    with pytest.raises(PipelineError, match="Unknown accent"):
        voice_tab.build_request("Hi there.", "happy", "klingon", "joe", "", 1.0, 0.0, 0)
    assert services.store.list_projects() == []


@pytest.mark.parametrize("backend", ["tiny", "piper"])
def test_generate_and_present(services: Services, backend: str) -> None:
    req = voice_tab.build_request(
        "Hello there. How are you today?", "happy@0.8", "rp", "joe", "speaks slowly", 1.0, 0.0, 4
    )
    info = voice_tab.start(services, None, req, backend).wait()
    shown = voice_tab.present(services, info)
    assert shown["status"].startswith("✅"), shown["status"]
    assert Path(shown["audio"]).suffix == ".wav" and Path(shown["plot"]).suffix == ".png"
    suffixes = sorted(Path(f).suffix for f in shown["files"])
    assert suffixes == [".json", ".srt", ".vtt", ".wav"]
    names = [row[0] for row in shown["checks"]]
    assert "F0 median (Hz)" in names and "Speaking rate (phones/s)" in names
    assert "rate: slowly" in shown["parse"]


def test_auto_choice_in_the_compose_tab() -> None:
    from studio import compose_tab

    args = ("I miss her so much.", "auto", "sad", 0.3, 1.0, "us", 256, True, -16.0, 8.0, 1.0, 0)
    req = compose_tab.build_request(*args)
    assert req.auto_emotion and req.emotion == EmotionSpec()
    assert voice_tab.AUTO_CHOICE[1] == "auto"
