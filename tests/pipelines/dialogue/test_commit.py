"""Early commit (best-of-n judged sentence by sentence), fed hand-written decoding steps: the
real understanding model and strict judge, no generation (fast). The real decoder's side is in
test_backends.py."""

from __future__ import annotations

from pipelines.dialogue.commit import EarlyChoice, first_sentence
from pipelines.dialogue.fallback import grounded_opening
from pipelines.dialogue.judge import follows_well, judge
from pipelines.dialogue.request import DialogueRequest
from pipelines.dialogue.sampling import Progress
from pipelines.dialogue.transition import plan_reply
from pipelines.dialogue.understand import EmotionReader

DOG = "My dog died this morning and I can't stop crying."


def chooser(reader: EmotionReader, message: str = DOG) -> tuple[EarlyChoice, list[str]]:
    u = reader.read(message)
    plan = plan_reply(None, u.vad, DialogueRequest().traits, u.label)
    shown: list[str] = []
    return EarlyChoice(message, u, plan, reader, shown.append), shown


def test_first_sentence() -> None:
    assert first_sentence("Oh no. That") == "Oh no."
    assert first_sentence("Oh no") == ""
    assert first_sentence("Wait... what") == ""  # an ellipsis is not a sentence end
    assert first_sentence('He said "go." Then') == 'He said "go."'


def test_commits_on_the_first_passing_sentence_and_never_takes_text_back(
    reader: EmotionReader,
) -> None:
    early, shown = chooser(reader)
    keep = early.step(
        1,
        [
            Progress(0, "The user is"),
            Progress(1, "I'm so sorry"),
            Progress(2, "Congratulations"),
            Progress(3, "Oh no"),
        ],
    )
    assert keep == {0, 1, 2, 3} and not shown  # no sentence yet: all write on, nothing shown
    keep = early.step(
        2,
        [
            Progress(0, "The user is sad."),  # third person: can't be mended
            Progress(1, "I'm so sorry"),
            Progress(2, "Congratulations!"),  # a fragment, and cheering at a death
            Progress(3, "Oh no!"),  # too short alone: may be mended by a second sentence
        ],
    )
    assert keep == {1, 3} and early.chosen is None and early.pending == {3}
    keep = early.step(
        3,
        [Progress(1, "I'm so sorry your dog died this morning."), Progress(3, "Oh no! I")],
    )
    assert early.chosen == 1 and keep == {1}  # the others stop writing
    assert shown == ["I'm so sorry your dog died this morning."]
    assert early.verdict is not None and early.verdict.passed and early.shown_at > 0
    # Its second sentence turns into assistant talk: it is never shown, the reply ends before.
    early.step(9, [Progress(1, shown[0] + " How about a new puppy?", "sentence")])
    assert early.shown == shown[-1] == "I'm so sorry your dog died this morning."
    assert early.dropped_tail == "How about a new puppy?"
    assert "personal" in early.dropped_tail_fails
    assert early.to_dict()["committed_on"] == "first sentence"


def test_a_good_second_sentence_is_shown_and_the_whole_passes(reader: EmotionReader) -> None:
    early, shown = chooser(reader)
    first = "I'm so sorry your dog died."
    early.step(5, [Progress(0, first), Progress(1, "That sounds")])
    whole = first + " Losing him this morning must hurt so much."
    early.step(12, [Progress(0, whole, "sentence")])
    assert shown == [first, whole] and early.shown == whole and not early.dropped_tail
    u = early.understanding
    again = judge(message=DOG, reply=whole, understanding=u, plan=early.plan, reader=reader)
    assert again.passed and early.verdict == again


def test_a_candidate_mended_by_its_second_sentence_is_chosen_whole(
    reader: EmotionReader,
) -> None:
    early, shown = chooser(reader)
    early.step(2, [Progress(0, "Oh no!"), Progress(1, "Your user")])
    assert early.pending == {0} and early.chosen is None and not shown
    whole = "Oh no! I'm so sorry your dog died, that hurts."
    early.step(11, [Progress(0, whole, "sentence"), Progress(1, "Your user is sad and")])
    assert early.chosen == 0 and shown == [whole]
    assert early.to_dict()["committed_on"] == "whole reply"


def test_nothing_passes_nothing_is_shown(reader: EmotionReader) -> None:
    early, shown = chooser(reader)
    keep = early.step(4, [Progress(0, "The user is sad."), Progress(1, "Yay, great news!")])
    assert keep == frozenset() and early.chosen is None and not shown and early.stopped == {0, 1}


def test_the_bridge_shows_the_grounded_opener_then_a_sentence_that_follows_well(
    reader: EmotionReader,
) -> None:
    u = reader.read(DOG)
    plan = plan_reply(None, u.vad, DialogueRequest().traits, u.label)
    opener = grounded_opening(DOG, u, plan)
    shown: list[str] = []
    early = EarlyChoice(DOG, u, plan, reader, shown.append, opener=opener, bridge_step=6)
    # Nothing passes by the bridge step (one fragment stopped, one still short of a sentence).
    assert early.step(3, [Progress(0, "Oh no!"), Progress(1, "The user is sad.")]) == {0}
    assert early.step(6, [Progress(0, "Oh no! That")]) == frozenset()  # the round stops
    assert early.bridged and shown == [opener] and early.chosen is None
    assert early.verdict is not None and early.verdict.passed
    # The second round continues after the opener: a non-sequitur is refused even if the
    # whole would pass; a sentence that feels with the person is chosen.
    keep = early.step(4, [Progress(0, " What's the plan?"), Progress(1, " That must hurt")])
    assert keep == {1} and early.chosen is None
    early.step(6, [Progress(1, " That must hurt so much.", "sentence")])
    assert early.chosen == 1 and early.committed_on == "after the opener"
    assert shown == [opener, f"{opener} That must hurt so much."]
    assert early.to_dict()["opener_shown_at_token"] == 6


def test_no_bridge_without_an_opener_that_passes_alone(reader: EmotionReader) -> None:
    u = reader.read(DOG)
    plan = plan_reply(None, u.vad, DialogueRequest().traits, u.label)
    shown: list[str] = []
    early = EarlyChoice(DOG, u, plan, reader, shown.append, opener="Hm.", bridge_step=2)
    assert early.step(2, [Progress(0, "Oh no!"), Progress(1, "I'm so")]) == {0, 1}
    assert not early.bridged and not shown and early.opener == ""


def test_follows_well() -> None:
    assert follows_well("Losing him this morning must hurt so much.")
    assert follows_well("Congratulations on a fantastic win!")
    assert not follows_well("What's the opposite of pathetic?")
    assert not follows_well("I'm sorry, but that's just how it is.")
    assert not follows_well("Don't worry, it's just a matter of washing up.")
    assert not follows_well("What's wrong with you?")  # "with you" is no solidarity here
    assert not follows_well("It can't be helped by those sounds alone.")  # a noun, not "sounds"
    long = "That sounds hard, " + "and it is a long and winding thought " * 3 + "about it."
    assert not follows_well(long)  # long follow-ups ran on into word salad
    assert follows_well("I'm here with you.")
