"""The batched decoder, the prompt-prefix cache and the decoding hygiene, on the real model."""

from __future__ import annotations

import numpy as np

from pipelines.dialogue.judge import complete
from pipelines.dialogue.prompt import build_reply_prompt
from pipelines.dialogue.request import DialogueRequest
from pipelines.dialogue.sampling import Hygiene, Progress, sample_candidates
from pipelines.dialogue.smollm import SmolLMBackend, chat_messages_ids, chatml_ids
from pipelines.dialogue.transition import plan_reply


def _prompt(smollm: SmolLMBackend, message: str) -> tuple[list[int], int]:
    req = DialogueRequest(message=message)
    u = smollm.reader.read(message)
    prompt = build_reply_prompt(req, u, plan_reply(None, u.vad, req.traits, u.label))
    head = chat_messages_ids(smollm.model, prompt.messages[: prompt.reuse_messages])
    ids = chatml_ids(smollm.model, prompt)
    assert ids[: len(head)] == head
    return ids, len(head)


def test_batched_step_and_prefix_cache_match_the_plain_decoder(smollm: SmolLMBackend) -> None:
    m = smollm.model
    ids, head = _prompt(smollm, "My landlord raised the rent again.")
    k0, v0, plain = m.prefill(ids, 0, 3)
    _k1, _v1, cached = m.prefill(ids, head, 2)  # the head is now stored…
    k2, v2, reused = m.prefill(ids, head, 2)  # …and reused
    np.testing.assert_allclose(cached, plain, atol=1e-3)
    np.testing.assert_allclose(reused, plain, atol=1e-3)
    token = int(np.argmax(plain))
    one = m.forward(np.asarray([token]), k0, v0, len(ids))
    cache = m.batch_cache(k2, v2, len(ids), rows=3, room=4)
    batch = m.forward_batch(np.asarray([token] * 3), cache)
    for row in batch:
        np.testing.assert_allclose(row, one, atol=1e-3)
    # A second step reads the prompt's keys and each row's own: rows with different tokens.
    two = [int(np.argsort(one)[-1 - r]) for r in range(3)]
    batch = m.forward_batch(np.asarray(two), cache)
    for r, row in enumerate(batch):
        k, v = k0.copy(), v0.copy()
        alone = m.forward(np.asarray([two[r]]), k, v, len(ids) + 1)
        np.testing.assert_allclose(row, alone, atol=1e-3)
    cache.keep(np.asarray([2]))
    np.testing.assert_allclose(
        m.forward_batch(np.asarray([7]), cache)[0],
        m.forward(np.asarray([7]), k, v, len(ids) + 2),
        atol=1e-3,
    )


def test_hygiene_ends_on_sentences_and_bans_user(smollm: SmolLMBackend) -> None:
    ids, head = _prompt(smollm, "The airline lost my luggage and nobody will tell me anything.")
    hygiene = Hygiene(max_tokens=24, soft_tokens=16)
    out = sample_candidates(
        smollm.model, ids, n=3, reuse=head, hygiene=hygiene, temperature=1.2, top_p=1.0, seed=5
    )
    again = sample_candidates(
        smollm.model, ids, n=3, reuse=head, hygiene=hygiene, temperature=1.2, top_p=1.0, seed=5
    )
    assert [c.text for c in out.candidates] == [c.text for c in again.candidates]
    for c in out.candidates:
        assert c.tokens <= hygiene.max_tokens
        assert "user" not in c.text.lower() and "<" not in c.text and "\n" not in c.text
        assert complete(c.text) or c.stopped == "cut", c
    assert out.steps <= hygiene.max_tokens

    seen: list[list[Progress]] = []

    def keep_first_after_three(step: int, views: list[Progress]) -> bool | frozenset[int]:
        seen.append(views)
        return frozenset({0}) if step == 3 else False

    dropped = sample_candidates(
        smollm.model, ids, n=3, reuse=head, hygiene=hygiene, temperature=1.2, top_p=1.0, seed=5,
        on_step=keep_first_after_three,
    )  # fmt: skip
    assert [len(views) for views in seen[:3]] == [3, 3, 3]
    assert all(len(views) == 1 and views[0].index == 0 for views in seen[3:])
    assert dropped.candidates[0].text == out.candidates[0].text  # the kept one is unchanged
    assert [c.stopped for c in dropped.candidates[1:]] == ["dropped", "dropped"]
    assert all(c.tokens == 3 for c in dropped.candidates[1:])
