"""Replies a person would accept, from the bundled model with best-of-4, on our own 64 everyday
messages (8 per emotion; the understanding sentences are a different set): at least 90 % pass
the strict rubric, and none is cut off, leaks the scaffold or "the user", or cheers at bad
news (by the set's own bad-news flag, not the judge's); most come from the model itself, not
from the grounded fallback. The per-part figures and timings: benchmarks/dialogue_replies.py.
"""

from __future__ import annotations

import pytest

from pipelines.dialogue.judge import cheers
from pipelines.dialogue.request import DialogueRequest
from pipelines.dialogue.smollm import SmolLMBackend

from .everyday import EVERYDAY


@pytest.mark.slow
def test_the_everyday_set_passes_the_strict_rubric(smollm: SmolLMBackend) -> None:
    assert len(EVERYDAY) == 64 and len({label for _, label, _ in EVERYDAY}) == 8
    passed = from_model = 0
    problems: list[str] = []
    for i, (message, label, bad) in enumerate(EVERYDAY):
        result = smollm.run(DialogueRequest(message=message, seed=i))
        verdict = result.turn["judge"]
        checks = verdict["checks"]
        reply = result.reply
        passed += verdict["passed"]
        from_model += not result.turn["best_of"]["fallback"]
        if not (checks["complete"] and checks["second_person"] and checks["no_scaffold"]):
            problems.append(f"cut off or leak: {message} -> {reply}")
        if bad and cheers(reply, verdict["read_back_sentiment"], verdict["read_back"]):
            problems.append(f"cheers at bad news: {message} -> {reply}")
        print(f"{label}: {message} -> {reply}")
    assert not problems, problems
    assert passed >= 0.9 * len(EVERYDAY), passed
    assert from_model >= len(EVERYDAY) // 2, from_model
