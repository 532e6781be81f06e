"""The personality-affected transition moves in the documented directions."""

from __future__ import annotations

from pipelines.dialogue.transition import plan_reply
from pipelines.emotion import ED_CORE as EMOTION_OF_ED
from pipelines.emotion import EMPATHETIC_DIALOGUES_LABELS, VAD, to_ed_label

SAD, ANGRY, HAPPY = VAD["sad"], VAD["angry"], VAD["happy"]
AVERAGE = dict.fromkeys(
    ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"), 0.5
)


def traits(**changes: float) -> dict[str, float]:
    return {**AVERAGE, **changes}


def test_agreeable_moves_toward_the_users_valence() -> None:
    for user in (SAD, HAPPY, ANGRY):
        warm = plan_reply(None, user, traits(agreeableness=0.95))
        cold = plan_reply(None, user, traits(agreeableness=0.05))
        assert abs(warm.vad[0] - user[0]) < abs(cold.vad[0] - user[0]), user


def test_neurotic_amplifies_arousal() -> None:
    for user in (ANGRY, VAD["fearful"], HAPPY):
        calm = plan_reply(None, user, traits(neuroticism=0.05))
        tense = plan_reply(None, user, traits(neuroticism=0.95))
        assert tense.vad[1] > calm.vad[1], user


def test_previous_emotion_carries_over_and_labels_are_valid() -> None:
    after_joy = plan_reply(HAPPY, SAD, AVERAGE)
    fresh = plan_reply(None, SAD, AVERAGE)
    assert after_joy.vad[0] > fresh.vad[0]
    for plan in (after_joy, fresh):
        assert plan.ed_label in EMPATHETIC_DIALOGUES_LABELS
        assert all(-1 <= x <= 1 for x in plan.vad)
        assert plan.ed_label == to_ed_label(plan.spec)


def test_mild_replies_keep_their_direction() -> None:
    # An average persona answering joy is mildly joyful, not "neutral"; answering sadness,
    # mildly sad; a point at the origin stays neutral.
    to_joy = plan_reply(None, HAPPY, AVERAGE)
    to_sadness = plan_reply(None, SAD, AVERAGE)
    assert to_joy.label == "happy" and 0.1 <= to_joy.intensity < 1
    assert to_sadness.label == "sad" and 0.1 <= to_sadness.intensity < 1
    assert EMOTION_OF_ED[to_joy.ed_label] == "happy"
    assert EMOTION_OF_ED[to_sadness.ed_label] == "sad"
    assert plan_reply(None, (0.0, 0.0, 0.0), traits(conscientiousness=1.0)).label == "neutral"


def test_an_average_persona_mirrors_and_never_turns_contemptuous() -> None:
    for label in ("happy", "sad", "angry", "fearful", "surprised", "disgusted"):
        for previous in (None, HAPPY, SAD):
            plan = plan_reply(previous, VAD[label], AVERAGE)
            assert plan.label != "contemptuous", (label, previous)
        assert plan_reply(None, VAD[label], AVERAGE).label == label


def test_extravert_is_brighter_and_livelier() -> None:
    quiet = plan_reply(None, SAD, traits(extraversion=0.05))
    loud = plan_reply(None, SAD, traits(extraversion=0.95))
    assert loud.vad[0] > quiet.vad[0] and loud.vad[1] > quiet.vad[1]


def test_the_detected_label_wins_over_a_blends_mean_point() -> None:
    # "I'm scared about the surgery": fearful with some sadness; its mean VAD point sits
    # nearest the disgust anchor, but the reply should mirror fear.
    user = (-0.278, 0.368, -0.209)
    assert plan_reply(None, user, AVERAGE, "fearful").label == "fearful"
    assert plan_reply(None, user, AVERAGE, "neutral").label != "contemptuous"
