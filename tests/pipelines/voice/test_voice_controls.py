"""Fast tests of the voice front end: text, accents, code-switching, descriptions, timings."""

from __future__ import annotations

import pytest

from pipelines.base import PipelineError
from pipelines.emotion import EMOTIONS, PARLER_PITCH, PARLER_RATE, EmotionSpec
from pipelines.media import TimedUnit, Timings
from pipelines.voice import text, timings
from pipelines.voice.accents import (
    ACCENTS,
    accent,
    caribbean_english,
    indian_english,
    scottish_english,
)
from pipelines.voice.codeswitch import phonemize_sentence, split_scripts
from pipelines.voice.describe import parse_description, to_description
from pipelines.voice.prosody import EMOTION_PROSODY, prosody_for
from pipelines.voice.request import VoiceRequest, plan


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("?!... 🙂🎉 ***", "no words"),
        ("x" * 200_000, "200,000 characters"),
        ("你好 world", "can't speak"),
    ],
)
def test_bad_text_is_refused_with_a_clear_message(bad: str, words: str) -> None:
    with pytest.raises(PipelineError, match=words):
        VoiceRequest(text=bad)


def test_normalise_drops_emoji_and_keeps_words() -> None:
    clean, issue = text.normalise("Hello 🙂 “world” — it's 1,200 dogs!")
    assert clean == 'Hello "world" , it\'s 1200 dogs!'
    assert issue.dropped == ("🙂",)


def test_sentences_split_at_ends_not_abbreviations_and_long_ones_are_chunked() -> None:
    parts = text.split_sentences("Dr. Smith came home. Was it late? Yes! नमस्ते। Bye")
    assert parts == ["Dr. Smith came home.", "Was it late?", "Yes!", "नमस्ते।", "Bye"]
    long = ", ".join(["a fairly long clause of words"] * 30) + "."
    chunks = text.split_sentences(long)
    assert len(chunks) > 1 and all(len(c) <= text.MAX_SENTENCE_CHARS for c in chunks)
    assert " ".join(chunks) == long


def test_accents_and_aliases() -> None:
    assert [accent(n).name for n in ("British", "en-029", "Indian", "US")] == [
        "rp", "caribbean", "indian", "us"
    ]  # fmt: skip
    with pytest.raises(PipelineError, match="did you mean 'scottish'"):
        accent("scotish")
    assert set(ACCENTS) == {"us", "rp", "scottish", "caribbean", "indian"}


def test_indian_english_rules() -> None:
    ipa = indian_english("wˈɔːɾɚ ðə tˈiːtʃɚ vˈeɪ ɡˈoʊ")
    assert ipa == "wˈɔːʈəɹ də tˈiːtʃəɹ ʋˈeː ɡˈoː"
    # r: tapped between vowels ("very"), approximant at the onset and in clusters
    assert indian_english("vˈɛɹi ɹˈʌn tɹˈiː") == "ʋˈɛɾi ɹˈʌn tɹˈiː"


def test_caribbean_english_rules() -> None:
    # en-029's bare a (a vowel the voice never learned alone) → æ; unstressed ʌ → ə; dental off
    ipa = caribbean_english("wˈɔːta ˈaafta and stˈeɪʃʌn lˈʌntʃ tˈaɪm ɡlˈaas t̪ɹiː")
    assert ipa == "wˈɔːtæ ˈæftæ ænd stˈeɪʃən lˈʌntʃ tˈaɪm ɡlˈæs tɹiː"
    # -ing keeps ŋ (not "in", "rain", "begin"); "was", "of" keep ʌ (not "lot" words)
    ipa = caribbean_english("ɡˌoʊɪn ɪn ɹˈeɪn bɪɡˈɪn mˈɔənɪn, ɪt wɔz ɔvdə ʃˈɔp hadbɪn")
    assert ipa == "ɡˌoʊɪŋ ɪn ɹˈeɪn bɪɡˈɪn mˈɔənɪŋ, ɪt wʌz ʌvdə ʃˈɔp hædbɪn"


def test_scottish_english_rules() -> None:
    # short trap a → æ (not the long bath aː, nor a in aɪ/aʊ); final ɜ → ɚ; ʌu → aʊ; ʉ → u
    ipa = scottish_english("and bˈaŋk ˈaːftɜ nˈaɪs wˈɔːtɜ ˈʌuɜz ɡˈʉd")
    assert ipa == "ænd bˈæŋk ˈaːftɚ nˈaɪs wˈɔːtɚ ˈaʊɚz ɡˈud"


def test_scottish_keeps_its_features() -> None:
    s = "They will go to the park and turn off the lights at home."
    sco = "".join(phonemize_sentence(s, ACCENTS["scottish"]).phonemes)
    assert "ðeː" in sco and "hˈoːm" in sco  # monophthong eː/oː
    assert "pˈaːɹk" in sco and "tˈʌɹn" in sco  # rhotic, bath/start aː, turn ʌɹ


def test_lighter_accents_keep_their_features() -> None:
    s = "Thank you for the water, I was going to the party very late."
    car, ind = (
        "".join(phonemize_sentence(s, ACCENTS[a]).phonemes) for a in ("caribbean", "indian")
    )
    assert "θ" not in car + ind and "ð" not in car + ind  # th stopped in both
    assert "wˈɔːtæ" in car and "pˈɑəti" in car and "fədə" in car  # non-rhotic
    assert "wˈɔːʈəɹ" in ind and "ʋˈɛɾi" in ind and "lˈeːt" in ind  # ʈ, ʋ, tap, eː


def test_accents_phonemise_differently() -> None:
    sentence = "The water over there is not hot."
    seen = {"".join(phonemize_sentence(sentence, a).phonemes) for a in ACCENTS.values()}
    assert len(seen) == len(ACCENTS)


def test_code_switching_splits_by_script_and_keeps_words() -> None:
    segs = split_scripts("Namaste, let's talk about नमस्ते आप कैसे हैं? 42 dogs.")
    assert [s.language for s in segs] == ["en", "hi", "en"]
    ph = phonemize_sentence("Namaste, let's talk about आप कैसे हैं today.", ACCENTS["us"])
    assert ph.languages == ["en", "hi", "en"]
    assert [w for w, _, _ in ph.words] == text.words("Namaste, let's talk about आप कैसे हैं today.")
    assert "kˈɛːseː" in ph.hindi_phonemes  # कैसे as Hindi, not spelled in English


def test_description_parse_in_parler_words() -> None:
    d = parse_description(
        "A female speaker with a slightly low-pitched voice speaks very fast and slightly sad, "
        "with an Indian accent, in a very noisy, distant-sounding room"
    )
    c = d.controls
    assert (c.gender, c.pitch, c.rate, c.accent, c.noise, c.reverb) == (
        "female", -1, 3, "indian", -3, -2
    )  # fmt: skip
    assert c.emotion == EmotionSpec.of("sad", 0.4)
    assert "pitch" in d.summary()
    assert parse_description("not angry at all").controls.emotion is None


def test_every_parler_level_parses_back() -> None:
    for i, word in enumerate(PARLER_PITCH):
        assert parse_description(f"a {word} voice").controls.pitch == i - 3
    for i, word in enumerate(PARLER_RATE):
        assert parse_description(f"speaks {word}").controls.rate == i - 3


def test_to_description_round_trips_through_the_parser() -> None:
    text_ = to_description("sad@0.7", "indian")
    assert "Indian English accent" in text_ and "sad" in text_
    back = parse_description(text_).controls
    assert back.accent == "indian" and back.emotion is not None and back.emotion.label == "sad"


def test_plan_says_which_wins() -> None:
    clash = plan(VoiceRequest(text="hi", emotion="happy", description="a sad man, very slowly"))
    assert clash.emotion.label == "happy"
    assert any("the emotion setting wins" in n for n in clash.notes)
    assert any("overrides" in n for n in clash.notes)  # "very slowly" vs happy's faster rate
    taken = plan(VoiceRequest(text="hi", description="an angry British woman"))
    assert (taken.emotion.label, taken.accent, taken.voice) == ("angry", "rp", "joe-light")
    assert plan(VoiceRequest(text="hi", description="my own words")).description == "my own words"


def test_prosody_table_covers_every_emotion_and_scales_with_intensity() -> None:
    assert set(EMOTION_PROSODY) == set(EMOTIONS)
    strong, _ = prosody_for(EmotionSpec.of("sad", 1.0))
    weak, _ = prosody_for(EmotionSpec.of("sad", 0.4))
    assert strong.pitch_shift < weak.pitch_shift < 0 and strong.rate < weak.rate < 1
    blend, _ = prosody_for(EmotionSpec.parse("happy+surprised"))
    assert blend.pitch_shift > 3.0 and blend.pitch_range > 1.4


def test_subtitles() -> None:
    words = [TimedUnit(w, i * 0.5, i * 0.5 + 0.4) for i, w in enumerate(["one", "two", "three"])]
    cues = timings.cues(words, sentence_ends=[0.95])
    assert [c.label for c in cues] == ["one two", "three"]
    srt, vtt = timings.to_srt(cues), timings.to_vtt(cues)
    assert "1\n00:00:00,000 --> 00:00:00,900\none two" in srt
    assert vtt.startswith("WEBVTT") and "00:00:01.000 --> 00:00:01.400" in vtt
    tm = Timings(phonemes=tuple(words), words=tuple(words))
    assert timings.from_json(timings.to_json(tm)) == tm
