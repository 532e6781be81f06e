"""The personality-affected transition moves in the documented directions."""

from __future__ import annotations

from pipelines.dialogue.transition import plan_reply
from pipelines.emotion import ED_VAD, EMPATHETIC_DIALOGUES_LABELS, VAD

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
        nearest = min(
            ED_VAD,
            key=lambda k: sum((a - b) ** 2 for a, b in zip(plan.vad, ED_VAD[k], strict=True)),
        )
        assert plan.ed_label == nearest


def test_extravert_is_brighter_and_livelier() -> None:
    quiet = plan_reply(None, SAD, traits(extraversion=0.05))
    loud = plan_reply(None, SAD, traits(extraversion=0.95))
    assert loud.vad[0] > quiet.vad[0] and loud.vad[1] > quiet.vad[1]
