"""Replies a person would accept, from the bundled model with best-of-4: a fast, meaningful
subset of our own everyday set (the full 64-message figure is benchmarks/dialogue_replies.py).

One held-out message per emotion (8 turns): every reply shown passes the strict rubric, none
is cut off, leaks the scaffold or "the user", or cheers at bad news; and most come from the
model itself, not from the grounded fallback.
"""

from __future__ import annotations

import pytest

from pipelines.dialogue.judge import cheers
from pipelines.dialogue.request import DialogueRequest
from pipelines.dialogue.smollm import SmolLMBackend

from .everyday import HELD_OUT

SUBSET = HELD_OUT[::4]  # the first held-out message of each emotion


@pytest.mark.slow
def test_held_out_subset_passes_the_strict_rubric(smollm: SmolLMBackend) -> None:
    assert len({label for _, label, _ in SUBSET}) == 8
    from_model = 0
    for i, (message, label, bad) in enumerate(SUBSET):
        result = smollm.run(DialogueRequest(message=message, seed=i))
        verdict = result.turn["judge"]
        checks = verdict["checks"]
        reply = result.reply
        assert verdict["passed"], (message, reply, verdict["notes"])
        assert checks["complete"] and checks["second_person"] and checks["no_scaffold"]
        assert not (bad and cheers(reply, verdict["read_back_sentiment"], verdict["read_back"]))
        from_model += not result.turn["best_of"]["fallback"]
        print(f"{label}: {message} -> {reply}")
    assert from_model >= len(SUBSET) // 2, from_model
