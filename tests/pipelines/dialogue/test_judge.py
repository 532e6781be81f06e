"""The strict rubric and the grounded fallback, on hand-written replies and on our own set of
64 everyday messages (real understanding model, no generation: fast)."""

from __future__ import annotations

import pytest

from pipelines.dialogue.fallback import grounded_fallback, second_person
from pipelines.dialogue.judge import Verdict, judge
from pipelines.dialogue.request import DialogueRequest
from pipelines.dialogue.transition import plan_reply
from pipelines.dialogue.understand import EmotionReader

from .everyday import EVERYDAY, HELD_OUT, TUNING

TRAITS = DialogueRequest().traits


def verdict(reader: EmotionReader, message: str, reply: str) -> Verdict:
    u = reader.read(message)
    plan = plan_reply(None, u.vad, TRAITS, u.label)
    return judge(message=message, reply=reply, understanding=u, plan=plan, reader=reader)


DOG = "My dog died this morning."
JOB = "I got promoted to team lead today!"


def test_a_good_reply_passes(reader: EmotionReader) -> None:
    v = verdict(reader, DOG, "I'm so sorry your dog died, losing him hurts. Was he with you long?")
    assert v.passed, v.notes
    v = verdict(reader, DOG, "I'm so sorry to hear about your dog's passing.")  # possessive
    assert v.passed, v.notes
    v = verdict(
        reader, JOB, "Congratulations on becoming team lead, you earned it! How will you mark it?"
    )
    assert v.passed, v.notes


MEMORY = "My dad's memory is getting worse and he forgot my name yesterday."  # nobody died
AIRPORT = "My brother forgot to pick me up from the airport after my graduation trip."
MOVE = "I move to a new city next week and I don't know anyone there."  # good news, worried
FOUND = "The wallet I thought I had lost turned up in my other jacket."
SNUB = "I wasn't invited to my neighbour's party."
RUDE = "The guests at dinner treated the cook like dirt."
FEVER = "My husband has had a fever for three days and the surgery won't see him."


@pytest.mark.parametrize(
    ("message", "reply", "failed"),
    [
        (DOG, "I'm so sorry about your dog. It must feel like", "complete"),
        (DOG, "I'm sorry about your dog, I'll remember…", "complete"),
        (DOG, "The user feels sad because their dog died.", "second_person"),
        (DOG, "Your user is grieving the dog that died.", "second_person"),
        (DOG, "<response>I'm sorry your dog died.</response>", "no_scaffold"),
        (DOG, "Reply with a sad tone: I'm sorry about your dog.", "no_scaffold"),
        (DOG, "I'm sorry about your dog. I'm sorry about your dog.", "no_loops"),
        (DOG, "That sounds really hard for you. I'm here for you.", "grounded"),
        (DOG, "Congratulations on your dog, that's great news!", "tone_fits"),
        (JOB, "I'm so sorry to hear about your promotion to team lead.", "tone_fits"),
        (MEMORY, "I'm sorry for your dad's loss, his memory was precious.", "tone_fits"),
        (AIRPORT, "It's lovely to hear that your brother forgot you at the airport.", "tone_fits"),
        (MOVE, "Oh, great news! Congratulations on your move to a new city.", "tone_fits"),
        (FOUND, "I'm sorry for your loss.", "tone_fits"),  # a lost parcel is no death
        (SNUB, "It's lovely to hear that you weren't invited to the party.", "tone_fits"),
        (RUDE, "Congratulations to the guests on their dinner.", "tone_fits"),
        (FEVER, "It's lovely to hear that your husband has had a fever.", "tone_fits"),
        (DOG, "I can't help with that, but your dog sounds nice.", "personal"),
        (DOG, 'I\'m sorry, "your dog" sounds like a lot. 🐶', "personal"),
        (DOG, "My dog died this morning, I'm so sorry.", "own_words"),
        (DOG, "Your dog was there this morning. What did you have for lunch?", "empathic"),
    ],
)
def test_each_check_catches_its_failure(
    reader: EmotionReader, message: str, reply: str, failed: str
) -> None:
    v = verdict(reader, message, reply)
    assert not v.checks[failed], (reply, v.checks)
    assert not v.passed


def test_the_set_is_our_own_and_balanced() -> None:
    from .sentences import LABELLED

    assert len(EVERYDAY) >= 60 and not {m for m, *_ in EVERYDAY} & {m for m, _ in LABELLED}
    for part in (TUNING, HELD_OUT):
        labels = [label for _, label, _ in part]
        assert len(set(labels)) == 8 and all(labels.count(x) == 4 for x in set(labels))


def test_second_person() -> None:
    assert second_person("I was sure my dog loved me") == "you were sure your dog loved you"
    assert (
        second_person("We adopted a kitten and I'm happy")
        == "you adopted a kitten and you're happy"
    )
    assert second_person("I wasn't told") == "you weren't told"


def test_the_fallback_is_grounded_honest_and_asks_one_question(reader: EmotionReader) -> None:
    """Over all 64 messages: complete, second person, no leak, no cheering at bad news,
    exactly one question; and most pass the whole strict rubric."""
    passed = 0
    for message, _label, bad in EVERYDAY:
        u = reader.read(message)
        plan = plan_reply(None, u.vad, TRAITS, u.label)
        reply = grounded_fallback(message, u, plan)
        v = judge(message=message, reply=reply, understanding=u, plan=plan, reader=reader)
        assert reply.count("?") == 1, reply
        for check in ("complete", "second_person", "no_scaffold", "no_loops", "grounded"):
            assert v.checks[check], (check, reply)
        if bad:
            assert v.checks["tone_fits"], reply
        passed += v.passed
    assert passed >= 0.9 * len(EVERYDAY)
