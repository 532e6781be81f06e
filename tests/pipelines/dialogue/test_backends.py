"""Contract checks on the dialogue backends, built directly, on the real bundled model."""

from __future__ import annotations

import json

import pytest

from pipelines.base import Cancelled, CancelToken, PipelineError, Result
from pipelines.dialogue.core import THINKING_STAGE
from pipelines.dialogue.request import STREAM_STAGE, DialogueRequest
from pipelines.dialogue.rubric import CRITERIA
from pipelines.dialogue.smollm import SmolLMBackend
from pipelines.dialogue.tiny import TinyDialogueBackend
from pipelines.media import Artifact


@pytest.fixture(params=["smollm", "tiny"])
def backend(request: pytest.FixtureRequest) -> SmolLMBackend | TinyDialogueBackend:
    return request.getfixturevalue(request.param)


def test_contract(backend: SmolLMBackend | TinyDialogueBackend, tmp_path) -> None:
    seen: list[float] = []
    result = backend.run(DialogueRequest.example(seed=1), progress=lambda f, _s: seen.append(f))
    assert isinstance(result, Result) and result.artifacts and result.media_seconds > 0
    for name, art in result.artifacts.items():
        assert isinstance(art, Artifact)
        art.write(tmp_path / f"{name}{art.suffix}")
        assert (tmp_path / f"{name}{art.suffix}").stat().st_size > 0
    json.dumps(result.metadata)
    assert seen and seen == sorted(seen) and all(0 <= f <= 1 for f in seen)

    def prints(seed: int) -> dict[str, str]:
        res = backend.run(DialogueRequest.example(seed=seed))
        return {k: a.fingerprint() for k, a in res.artifacts.items()}

    assert prints(7) == prints(7)
    assert prints(7) != prints(8)

    token = CancelToken()
    calls: list[float] = []

    def cancel_at_once(fraction: float, _stage: str) -> None:
        calls.append(fraction)
        token.cancel()

    with pytest.raises(Cancelled):
        backend.run(DialogueRequest.example(), progress=cancel_at_once, cancel=token)
    assert len(calls) == 1


def test_bad_requests() -> None:
    base = DialogueRequest.example().to_dict()
    for changes in DialogueRequest.bad_examples():
        with pytest.raises(PipelineError) as info:
            DialogueRequest.from_dict({**base, **changes})
        assert len(str(info.value)) > 10
    again = DialogueRequest.from_dict(json.loads(DialogueRequest.example(seed=5).to_json()))
    assert again == DialogueRequest.example(seed=5)
    keyed = DialogueRequest(message="hi", api_key="sk-secret")
    assert "sk-secret" not in keyed.to_json() and "sk-secret" not in repr(keyed)


def test_real_generation_best_of_n_is_judged_and_analysed(smollm: SmolLMBackend) -> None:
    stages: list[str] = []
    req = DialogueRequest(message="My dog died yesterday and I can't stop crying.")
    result = smollm.run(req, progress=lambda _f, s: stages.append(s))
    assert result.reply.strip()
    assert any(s.startswith(THINKING_STAGE) for s in stages)  # "thinking" while 4 are written
    turn = result.turn
    # Early commit: the first candidate whose first sentence passed is shown at once (after
    # "thinking"), the others stop there, and every text shown is the start of the reply.
    early = turn["best_of"]["early"]
    assert early["chosen"] is not None and early["committed_on"] == "first sentence"
    streamed = [s[len(STREAM_STAGE) :] for s in stages if s.startswith(STREAM_STAGE)]
    first = next(i for i, s in enumerate(stages) if s.startswith(STREAM_STAGE))
    assert streamed and all(result.reply.startswith(s) for s in streamed)
    assert stages[first - 1].startswith(THINKING_STAGE)
    assert not any(s.startswith(THINKING_STAGE) for s in stages[first:])
    others = [c for i, c in enumerate(turn["best_of"]["candidates"]) if i != early["chosen"]]
    assert all(c["tokens"] <= early["committed_at_token"] for c in others)
    assert 0 < result.metadata["first_visible_s"] < result.timings["generation"]
    assert turn["understanding"]["label"] == "sad"
    best = turn["best_of"]
    assert best["n"] == 4 and len(best["candidates"]) == 4
    assert len({c["reply"] for c in best["candidates"]}) > 1  # they really differ
    if best["fallback"]:
        assert best["chosen"] is None and any("strict rubric" in n for n in turn["notes"])
    else:
        chosen = best["candidates"][best["chosen"]]
        assert chosen["passed"] and chosen["reply"] == result.reply
    assert turn["judge"]["passed"]  # what the person sees passes the strict rubric
    assert set(CRITERIA) <= set(turn["rubric"]) and 0 <= turn["rubric"]["total"] <= 1
    planned = turn["plan"]["ed_label"]
    assert f"sounds {planned}" in turn["system_prompt"]  # the plan reaches the prompt
    assert "dog" in turn["system_prompt"] or "died" in turn["system_prompt"]  # cause words
    assert turn["structure"]["format_ok"] and turn["structure"]["emotion"] == planned
    assert result.metadata["tokens_per_second"] > 0 and result.timings["first_token"] > 0


def test_a_single_candidate_streams_as_it_is_written(smollm: SmolLMBackend) -> None:
    stages: list[str] = []
    req = DialogueRequest(message="I got the job I wanted!", candidates=1, seed=2)
    result = smollm.run(req, progress=lambda _f, s: stages.append(s))
    streamed = [s for s in stages if s.startswith(STREAM_STAGE)]
    assert len(streamed) > 3 and len(result.turn["best_of"]["candidates"]) == 1
    written = result.turn["best_of"]["candidates"][0]["reply"]
    assert written.startswith(streamed[-1][len(STREAM_STAGE) :].strip()[:12])


def test_crisis_skips_the_model_and_boundaries_show_nothing_early(smollm: SmolLMBackend) -> None:
    result = smollm.run(DialogueRequest(message="I want to kill myself."))
    assert "988" in result.reply and result.turn["best_of"]["candidates"] == []
    assert result.turn["safety"]["enforced"] == "crisis"
    # A boundary message keeps whole-reply judging: nothing is shown before safety has seen it.
    stages: list[str] = []
    message = "Will you be my girlfriend? You're the only one who understands me."
    req = DialogueRequest(message=message, candidates=2)
    result = smollm.run(req, progress=lambda _f, s: stages.append(s))
    assert result.turn["best_of"]["early"] is None
    assert not any(s.startswith(STREAM_STAGE) for s in stages)
    assert result.turn["safety"]["attachment"] and "boundary_setting" in result.turn["patterns"]


def test_planned_emotion_reaches_prompt_and_rubric(tiny: TinyDialogueBackend) -> None:
    result = tiny.run(DialogueRequest(message="I'm terrified of the exam tomorrow."))
    planned = result.turn["plan"]["ed_label"]
    assert result.turn["structure"]["emotion"] == planned  # the tiny model echoes the prompt's
    assert result.turn["rubric"]["emotion"] >= 0.6


def test_long_and_foreign_messages_are_explained(tiny: TinyDialogueBackend) -> None:
    long = tiny.run(DialogueRequest(message="I feel sad. " * 5000))
    assert any("characters" in n for n in long.turn["notes"])
    foreign = tiny.run(
        DialogueRequest(message="Je suis très triste aujourd'hui, mon chat est mort.")
    )
    assert any("English only" in n for n in foreign.turn["notes"])
