"""Tests for the one emotion vocabulary: labels, specs, parsing and every mapping."""

from __future__ import annotations

import dataclasses
import json
import math
import random

import pytest

from pipelines.emotion import (
    ED_CORE,
    ED_VAD,
    EMOPIA_QUADRANTS,
    EMOTIONS,
    EMPATHETIC_DIALOGUES_LABELS,
    EXPRESSO_STYLES,
    PARLER_EXPRESSIVENESS,
    PARLER_PITCH,
    PARLER_RATE,
    PLUTCHIK8,
    SYNTAX,
    VAD,
    EmotionError,
    EmotionSpec,
    canonical_label,
    coerce,
    emopia_quadrant,
    from_ed_label,
    from_plutchik,
    label_choices,
    nearest_label,
    to_ed_label,
    to_plutchik,
    to_style_words,
)

# --- the vocabulary itself --------------------------------------------------------------------


def test_one_list_of_emotions() -> None:
    assert EMOTIONS == (
        "neutral", "happy", "sad", "angry", "fearful", "surprised", "disgusted", "contemptuous",
    )  # fmt: skip
    assert set(VAD) == set(EMOTIONS)
    assert [value for _, value in label_choices()] == list(EMOTIONS)
    assert label_choices()[1] == ("Happy", "happy")


def test_peld_anchors_and_contempt_estimate() -> None:
    assert VAD["happy"] == (0.81, 0.51, 0.46)
    assert VAD["sad"] == (-0.63, -0.27, -0.33)
    assert VAD["angry"] == (-0.51, 0.59, 0.25)
    assert VAD["fearful"] == (-0.62, 0.82, -0.43)
    assert VAD["surprised"] == (0.40, 0.67, -0.13)
    assert VAD["disgusted"] == (-0.60, 0.35, 0.11)
    assert VAD["neutral"] == (0.0, 0.0, 0.0)
    v, a, d = VAD["contemptuous"]
    assert v < 0 < a < VAD["disgusted"][1] and d > VAD["disgusted"][2]
    assert all(-1 <= x <= 1 for point in VAD.values() for x in point)


def test_constants_are_immutable() -> None:
    with pytest.raises(TypeError):
        VAD["calm"] = (0.0, 0.0, 0.0)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        EmotionSpec().intensity = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("word", "label"),
    [
        ("joy", "happy"),
        ("Joyful", "happy"),
        ("  SADNESS ", "sad"),
        ("anger", "angry"),
        ("fear", "fearful"),
        ("afraid", "fearful"),
        ("scared", "fearful"),
        ("surprise", "surprised"),
        ("disgust", "disgusted"),
        ("contempt", "contemptuous"),
        ("Neutral", "neutral"),
    ],
)
def test_synonyms(word: str, label: str) -> None:
    assert canonical_label(word) == label
    assert EmotionSpec.parse(word) == EmotionSpec.of(label)


# --- specs, VAD and quadrants -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "quadrant"),
    [("happy", "Q1"), ("surprised", "Q1"), ("angry", "Q2"), ("fearful", "Q2"), ("sad", "Q3")],
)
def test_emopia_quadrants(spec: str, quadrant: str) -> None:
    assert emopia_quadrant(EmotionSpec.parse(spec)) == quadrant
    assert emopia_quadrant(spec) == quadrant
    assert quadrant in EMOPIA_QUADRANTS


def test_emopia_tie_rule() -> None:
    assert emopia_quadrant(EmotionSpec()) == "Q4"  # exact neutral counts as calm
    assert emopia_quadrant(EmotionSpec.of("angry", 0.0)) == "Q4"
    assert emopia_quadrant((0.0, 0.5, 0.0)) == "Q1"  # valence 0 counts positive
    assert emopia_quadrant((-0.1, 0.0, 0.0)) == "Q3"  # arousal 0 counts low
    assert set(EMOPIA_QUADRANTS) == {"Q1", "Q2", "Q3", "Q4"}


def test_blend_vad_is_weighted_mean() -> None:
    spec = EmotionSpec.blend({"happy": 0.7, "surprised": 0.3})
    expected = (0.7 * 0.81 + 0.3 * 0.40, 0.7 * 0.51 + 0.3 * 0.67, 0.7 * 0.46 - 0.3 * 0.13)
    assert spec.vad() == pytest.approx(expected)
    assert spec.is_blend and spec.label == "happy"


def test_intensity_scales_distance_from_neutral() -> None:
    assert EmotionSpec.of("sad", 0.5).vad() == pytest.approx((-0.315, -0.135, -0.165))
    assert EmotionSpec.of("angry", 0.0).vad() == (0.0, 0.0, 0.0)
    assert EmotionSpec.from_vad(0.4, -0.2, 0.6, intensity=0.5).vad() == pytest.approx(
        (0.2, -0.1, 0.3)
    )


def test_weights_normalise_merge_and_sort() -> None:
    assert EmotionSpec.blend({"sad": 1, "happy": 3}).weights == (("happy", 0.75), ("sad", 0.25))
    merged = EmotionSpec(weights=(("joy", 1.0), ("sad", 2.0), ("happy", 1.0), ("anger", 0.0)))
    assert merged.weights == (("happy", 0.5), ("sad", 0.5))  # ties in EMOTIONS order
    assert EmotionSpec.blend({"sad": 1, "happy": 1}) == EmotionSpec.blend({"happy": 1, "sad": 1})
    thirds = EmotionSpec.parse("happy+sad+angry")
    assert sum(w for _, w in thirds.weights) == pytest.approx(1.0, abs=1e-12)
    assert EmotionSpec(weights=thirds.weights) == thirds  # normalising twice changes nothing
    assert EmotionSpec.of("HAPPY").weights == (("happy", 1.0),)


def test_default_and_vad_specs() -> None:
    assert EmotionSpec() == EmotionSpec.of("neutral")
    assert EmotionSpec().label == "neutral" and not EmotionSpec().is_blend
    point = EmotionSpec.from_vad(-0.6, 0.8, -0.4)
    assert point.weights == () and point.label == "fearful"
    assert point.label_weights() == (("fearful", 1.0),)
    assert point.vad() == (-0.6, 0.8, -0.4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": (("happy", -1.0),)}, "0 or more"),
        ({"weights": (("happy", 0.0),)}, "above 0"),
        ({"weights": (("happy", math.nan),)}, "finite"),
        ({"weights": (("hapy", 1.0),)}, "did you mean 'happy'"),
        ({"weights": (("happy", "a lot"),)}, "must be a number"),
        ({"weights": ("happy",)}, "(label, weight) pairs"),
        ({"intensity": 1.5}, "between 0 and 1"),
        ({"intensity": math.nan}, "finite"),
        ({"intensity": "0.5"}, "must be a number"),
        ({"vad_point": (0.0, 1.2, 0.0)}, "-1..1"),
        ({"vad_point": (0.0, 0.0)}, "3 numbers"),
        ({"weights": (("sad", 1.0),), "vad_point": (0.0, 0.0, 0.0)}, "not both"),
    ],
)
def test_constructor_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(EmotionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        EmotionSpec(**kwargs)  # type: ignore[arg-type]


def test_emotion_error_is_value_error() -> None:
    with pytest.raises(ValueError):
        EmotionSpec.of("calm")


# --- text form ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "happy",
        "sad@0.5",
        "neutral@0",
        "happy:0.7+surprised:0.3",
        "happy:0.7+surprised:0.3@0.8",
        "happy:0.5+surprised:0.5",
        "happy:0.333334+sad:0.333333+angry:0.333333",
        "contemptuous:0.75+disgusted:0.25@0.33",
        "vad:0.5,0.6,0.1",
        "vad:0.5,0.6,0.1@0.5",
        "vad:-1,1,0",
    ],
)
def test_canonical_text_round_trips(text: str) -> None:
    spec = EmotionSpec.parse(text)
    assert str(spec) == text == spec.to_string()
    assert EmotionSpec.parse(str(spec)) == spec


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (" Happy ", "happy"),
        ("sad@1", "sad"),
        ("sad@1.0", "sad"),
        ("happy:7+surprised:3", "happy:0.7+surprised:0.3"),
        ("surprised:0.3+happy:0.7", "happy:0.7+surprised:0.3"),
        ("Joy : 1 + Surprise : 1 @ 0.5", "happy:0.5+surprised:0.5@0.5"),
        ("happy+happy", "happy"),
        ("VAD: 0.50, 0.6, 0.10", "vad:0.5,0.6,0.1"),
    ],
)
def test_parse_forms(text: str, canonical: str) -> None:
    assert str(EmotionSpec.parse(text)) == canonical


def test_random_specs_round_trip() -> None:
    rng = random.Random(7)
    for _ in range(300):
        intensity = rng.choice([1.0, 0.0, rng.random()])
        if rng.random() < 0.25:
            v, a, d = (rng.uniform(-1, 1) for _ in range(3))
            spec = EmotionSpec.from_vad(v, a, d, intensity)
        else:
            labels = rng.sample(EMOTIONS, rng.randint(1, 8))
            spec = EmotionSpec.blend({k: rng.uniform(0.01, 5) for k in labels}, intensity)
        assert EmotionSpec.parse(str(spec)) == spec
        assert EmotionSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
        assert abs(sum(w for _, w in spec.weights) - 1.0) < 1e-9 or not spec.weights


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        ("", ["Empty emotion", "happy:0.7+surprised:0.3", "vad:"]),
        ("   ", ["Empty emotion", "@"]),
        ("hapy", ["Unknown emotion 'hapy'", "did you mean 'happy'", "Valid: neutral, happy"]),
        ("calmm", ["Unknown emotion 'calmm'", "contemptuous", "Mood words (calm"]),
        ("happy:-1", ["0 or more", "happy:-1"]),
        ("happy:0", ["above 0"]),
        ("vad:2,0,0", ["-1..1", "(2, 0, 0)"]),
        ("vad:1,2", ["3 numbers", "vad:0.5,0.6,0.1"]),
        ("vad:a,b,c", ["must be a number", "'a'"]),
        ("sad@1.5", ["between 0 and 1", "1.5"]),
        ("sad@x", ["intensity must be a number", "sad@0.5"]),
        ("sad@0.5@0.5", ["Cannot read"]),
        ("x:y", ["Unknown emotion 'x'", "Valid:"]),
        ("happy:0.5+sad", ["a weight, or none"]),
        ("happy+", ["empty label"]),
        ("happy,sad", ["Unknown emotion 'happy,sad'"]),
        ("happy:nan", ["finite"]),
    ],
)
def test_parse_errors_are_helpful(text: str, messages: list[str]) -> None:
    with pytest.raises(EmotionError) as info:
        EmotionSpec.parse(text)
    for message in messages:
        assert message in str(info.value)


def test_syntax_names_every_form() -> None:
    for example in ("'happy'", "happy:0.7+surprised:0.3", "vad:0.5,0.6,0.1", "sad@0.5"):
        assert example in SYNTAX
        assert EmotionSpec.parse(example.strip("'"))


# --- dicts and coercion -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        EmotionSpec(),
        EmotionSpec.of("sad", 0.4),
        EmotionSpec.blend({"happy": 0.7, "surprised": 0.3}, intensity=0.8),
        EmotionSpec.from_vad(0.1, -0.2, 0.3, intensity=0.5),
    ],
)
def test_dict_round_trip(spec: EmotionSpec) -> None:
    data = json.loads(json.dumps(spec.to_dict()))
    assert EmotionSpec.from_dict(data) == spec
    assert coerce(data) == spec
    assert coerce(str(spec)) == spec
    assert coerce(spec) is spec
    assert {spec: 1}[EmotionSpec.from_dict(data)] == 1  # hashable, equal hashes


def test_from_dict_forms_and_errors() -> None:
    assert EmotionSpec.from_dict({"happy": 2, "surprised": 2}) == EmotionSpec.parse(
        "happy+surprise"
    )
    assert EmotionSpec.from_dict({"intensity": 0.5}) == EmotionSpec.of("neutral", 0.5)
    assert EmotionSpec.from_dict({"weights": [["sad", 1]]}) == EmotionSpec.of("sad")
    with pytest.raises(EmotionError, match="Unknown emotion field"):
        EmotionSpec.from_dict({"weights": {"sad": 1}, "colour": "blue"})
    with pytest.raises(EmotionError, match="did you mean 'happy'"):
        EmotionSpec.from_dict({"hapy": 1})
    with pytest.raises(EmotionError, match="text, a dict or an EmotionSpec"):
        coerce(3)  # type: ignore[arg-type]


# --- nearest label ----------------------------------------------------------------------------


@pytest.mark.parametrize("label", EMOTIONS)
def test_nearest_label_of_anchor_is_itself(label: str) -> None:
    assert nearest_label(VAD[label]) == label
    assert EmotionSpec.from_vad(*VAD[label]).label == label


def test_nearest_label_near_origin() -> None:
    assert nearest_label((0.01, 0.0, 0.0)) == "neutral"
    assert nearest_label((0.01, 0.0, 0.0), exclude_neutral=True) != "neutral"
    assert nearest_label([0.3, 0.3, 0.1], exclude_neutral=True) == "surprised"
    with pytest.raises(EmotionError, match="3 numbers"):
        nearest_label((0.1, 0.2))
    with pytest.raises(EmotionError, match="finite"):
        nearest_label((math.inf, 0.0, 0.0))


# --- Plutchik ---------------------------------------------------------------------------------


@pytest.mark.parametrize("label", EMOTIONS)
def test_plutchik_round_trip(label: str) -> None:
    scores = to_plutchik(EmotionSpec.of(label))
    assert set(scores) == set(PLUTCHIK8)
    assert from_plutchik(scores).label == label


def test_to_plutchik_values() -> None:
    assert to_plutchik("contemptuous")["disgust"] == pytest.approx(0.5)
    assert to_plutchik("contemptuous")["anger"] == pytest.approx(0.5)
    assert sum(to_plutchik("neutral").values()) == 0.0
    half = to_plutchik("happy:0.5+neutral:0.5@0.8")
    assert half["joy"] == pytest.approx(0.4) and sum(half.values()) == pytest.approx(0.4)


def test_from_plutchik_rules() -> None:
    assert from_plutchik({}) == EmotionSpec()
    assert from_plutchik({"joy": 0.0}) == EmotionSpec()
    assert from_plutchik({"joy": 0.5}) == EmotionSpec.of("happy", 0.5)
    assert from_plutchik({"Trust": 1.0}).label == "happy"
    assert from_plutchik({"anticipation": 1.0}).label == "happy"
    assert from_plutchik({"anger": 0.6, "disgust": 0.3}).label == "angry"
    assert from_plutchik({"anger": 0.4, "disgust": 0.4}).label == "contemptuous"
    assert from_plutchik({"fear": 3.0, "sadness": 1.0}) == EmotionSpec.blend(
        {"fearful": 3, "sad": 1}
    )  # intensity is the sum of scores, capped at 1
    with pytest.raises(EmotionError, match="Unknown Plutchik emotion 'happiness'"):
        from_plutchik({"happiness": 1.0})
    with pytest.raises(EmotionError, match="0 or more"):
        from_plutchik({"joy": -0.1})


# --- EmpatheticDialogues ----------------------------------------------------------------------


def test_ed_labels() -> None:
    assert len(EMPATHETIC_DIALOGUES_LABELS) == 32
    assert len(set(EMPATHETIC_DIALOGUES_LABELS)) == 32
    assert set(ED_VAD) == set(ED_CORE) == set(EMPATHETIC_DIALOGUES_LABELS)
    assert set(ED_CORE.values()) <= set(EMOTIONS)
    assert all(-1 <= x <= 1 for point in ED_VAD.values() for x in point)


def test_ed_points_are_consistent_with_anchors() -> None:
    assert ED_VAD["furious"][1] > ED_VAD["angry"][1] > ED_VAD["annoyed"][1]
    assert ED_VAD["terrified"][1] > ED_VAD["afraid"][1]
    assert ED_VAD["devastated"][0] < ED_VAD["sad"][0] < ED_VAD["disappointed"][0]
    assert ED_VAD["content"][0] > 0 > ED_VAD["content"][1]
    assert ED_VAD["joyful"] == VAD["happy"] and ED_VAD["afraid"] == VAD["fearful"]


@pytest.mark.parametrize(
    ("label", "ed"),
    [
        ("neutral", "content"),
        ("happy", "joyful"),
        ("sad", "sad"),
        ("angry", "angry"),
        ("fearful", "afraid"),
        ("surprised", "surprised"),
        ("disgusted", "disgusted"),
        ("contemptuous", "disgusted"),
        ("angry@0.5", "annoyed"),
        ("sad@0.6", "disappointed"),
        ("happy@0.05", "content"),
    ],
)
def test_to_ed_label(label: str, ed: str) -> None:
    assert to_ed_label(EmotionSpec.parse(label)) == ed


@pytest.mark.parametrize("ed", EMPATHETIC_DIALOGUES_LABELS)
def test_from_ed_label(ed: str) -> None:
    spec = from_ed_label(ed)
    assert spec.label == ED_CORE[ed]
    assert 0.1 <= spec.intensity <= 1.0
    if ED_CORE[ed] != "neutral":
        assert emopia_quadrant(spec)[:2] == emopia_quadrant(EmotionSpec.of(ED_CORE[ed]))


def test_from_ed_label_intensities_and_errors() -> None:
    assert from_ed_label("Furious") == EmotionSpec.of("angry")
    assert from_ed_label("annoyed").intensity < 1.0
    assert from_ed_label("joyful") == EmotionSpec.of("happy")
    with pytest.raises(EmotionError, match="did you mean 'furious'"):
        from_ed_label("furios")


# --- speech style words -----------------------------------------------------------------------


def test_parler_vocabularies() -> None:
    assert len(PARLER_PITCH) == len(PARLER_RATE) == 7
    assert PARLER_PITCH[0] == "very low-pitch" and PARLER_PITCH[3] == "moderate pitch"
    assert PARLER_RATE[0] == "very slowly" and PARLER_RATE[-1] == "very fast"
    assert PARLER_EXPRESSIVENESS[0] == "very monotone"
    assert PARLER_EXPRESSIVENESS[-1] == "very expressive and animated"
    assert {"happy", "sad", "confused", "laughing", "whisper", "default"} <= set(EXPRESSO_STYLES)


def _levels(text: str) -> tuple[int, int, int]:
    words = to_style_words(text)
    return (
        PARLER_PITCH.index(words.pitch),
        PARLER_RATE.index(words.speaking_rate),
        PARLER_EXPRESSIVENESS.index(words.expressiveness),
    )


def test_style_word_directions() -> None:
    neutral, sad, happy, angry = (_levels(x) for x in ("neutral", "sad", "happy", "angry"))
    assert neutral == (3, 3, 2)
    assert sad[0] < neutral[0] and sad[1] < neutral[1] and sad[2] < neutral[2]
    assert happy[0] > neutral[0] and happy[1] > neutral[1] and happy[2] > neutral[2]
    assert angry[1] > neutral[1] and angry[2] > neutral[2]
    assert _levels("fearful")[0] > neutral[0]
    assert _levels("happy@0.3") <= happy and _levels("sad@0.3") >= sad  # intensity tempers


@pytest.mark.parametrize("label", EMOTIONS)
def test_style_words_are_from_the_vocabularies(label: str) -> None:
    words = to_style_words(label)
    assert words.expresso_style in EXPRESSO_STYLES
    assert words.pitch in PARLER_PITCH and words.speaking_rate in PARLER_RATE
    assert words.expressiveness in PARLER_EXPRESSIVENESS
    assert label in words.adjectives
    assert words.phrase().startswith("speaks ")


def test_style_words_details() -> None:
    angry = to_style_words("angry")
    assert angry.adjectives == ("angry", "tense") and angry.expresso_style == "default"
    assert "with an angry, tense tone" in angry.phrase()
    assert to_style_words("happy").expresso_style == "happy"
    assert to_style_words("sad").expresso_style == "sad"
    assert to_style_words("sad@0.1").expresso_style == "default"
    assert to_style_words("happy:0.7+surprised:0.3").adjectives == ("happy", "bright", "surprised")
    assert to_style_words("sad@0.3").adjectives[0] == "slightly sad"
    phrase = to_style_words("neutral").phrase()
    assert phrase == (
        "speaks at a moderate speed with a neutral, even tone, moderate pitch, "
        "slightly expressive and animated"
    )


def test_mood_words_are_points_in_their_quadrants() -> None:
    from pipelines.emotion import MOOD_WORDS, emopia_quadrant
    from pipelines.music.mapping import targets_for

    quadrant = {
        "calm": "Q4", "tender": "Q4", "relaxed": "Q4", "tense": "Q2", "angsty": None,
        "triumphant": "Q1", "excited": "Q1", "melancholic": "Q3", "devastated": "Q3",
    }  # fmt: skip
    for word, want in quadrant.items():
        if want is None:
            with pytest.raises(EmotionError, match="Mood words"):
                EmotionSpec.parse(word)
            continue
        spec = EmotionSpec.parse(word)
        assert spec.vad_point == MOOD_WORDS[word] and emopia_quadrant(spec) == want, word
    assert EmotionSpec.parse("Calm @ 0.5").intensity == 0.5
    blend = EmotionSpec.parse("tender:1+happy:1").vad_point
    pairs = zip(MOOD_WORDS["tender"], VAD["happy"], strict=True)
    assert blend == pytest.approx([(a + b) / 2 for a, b in pairs])
    assert EmotionSpec.parse("happy") == EmotionSpec.of("happy")  # labels stay labels
    calm, tense = targets_for(EmotionSpec.parse("calm")), targets_for(EmotionSpec.parse("tense"))
    assert calm.mode == "major" and tense.mode == "minor" and calm.tempo < tense.tempo
