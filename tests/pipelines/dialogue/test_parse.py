"""The structure parser on well-formed, broken and missing structures."""

from __future__ import annotations

from pipelines.dialogue.parse import parse_structure, partial_reply

GOOD = (
    "<understanding>The user feels sad about the dog.</understanding>\n"
    "<reasoning>Comfort first.</reasoning>\n<emotion>caring</emotion>\n"
    "<response>I'm so sorry about your dog. He was lucky to have you.</response>"
)


def test_well_formed() -> None:
    s = parse_structure(GOOD, "sad")
    assert s.format_ok and not s.fallbacks
    assert s.emotion == "caring" and s.response.startswith("I'm so sorry")
    assert s.found == ("understanding", "reasoning", "emotion", "response")


def test_unclosed_and_label_style_spans() -> None:
    broken = (
        "<understanding>sad about the dog\n<reasoning>comfort\n"
        "<emotion>Sad</emotion>\n<response>I'm sorry."
    )
    s = parse_structure(broken, "caring")
    assert not s.format_ok and s.response == "I'm sorry." and s.emotion == "sad"
    assert any("missing or unclosed" in f for f in s.fallbacks)
    labelled = "Understanding: they are sad\nEmotion: lonely\nResponse: That sounds hard. I'm here."
    s = parse_structure(labelled, "caring")
    assert s.emotion == "lonely" and s.response == "That sounds hard. I'm here."


def test_missing_structure_and_invalid_emotion_fall_back() -> None:
    s = parse_structure("That sounds really hard. I'm here for you.", "caring")
    assert not s.format_ok and s.emotion == "caring"
    assert s.response == "That sounds really hard. I'm here for you."
    assert any("planned" in f for f in s.fallbacks)
    s = parse_structure("<understanding>x</understanding><emotion>blorp</emotion>", "hopeful")
    assert s.response == "" and s.emotion == "hopeful"
    s = parse_structure("<response> your short reply to the user, as Sam </response>", "hopeful")
    assert s.response == "" and any("placeholder" in f for f in s.fallbacks)


def test_long_responses_are_trimmed_and_streaming_view() -> None:
    long = "<response>" + "This is a sentence. " * 40 + "</response>"
    assert len(parse_structure(long, "caring").response.split()) <= 60
    assert partial_reply("<understanding>abc</understanding><response>I'm so") == "I'm so"
    assert partial_reply("<understanding>abc") == ""
    assert partial_reply("Plain text so far") == "Plain text so far"
