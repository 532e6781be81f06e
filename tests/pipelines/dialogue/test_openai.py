"""The OpenAI-compatible backend against a real local HTTP server running the bundled model.

The server (``chat_server.py``) is a minimal standard-library implementation of
``/v1/models`` and ``/v1/chat/completions`` (streamed and not) — real HTTP and a real model,
no mock of the protocol. Misbehaving routes cover a down, slow, garbage and locked server.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from pipelines.base import LoadSettings, PipelineError
from pipelines.dialogue.openai_compat import OpenAIBackend
from pipelines.dialogue.request import STREAM_STAGE, DialogueRequest
from pipelines.dialogue.smollm import SmolLMBackend

from .chat_server import MODEL_ID, ChatServer


@pytest.fixture(scope="module")
def server(smollm: SmolLMBackend) -> Iterator[ChatServer]:
    srv = ChatServer(smollm.model)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def backend(smollm: SmolLMBackend) -> OpenAIBackend:
    return OpenAIBackend(smollm.reader, {})


def ask(url: str, **kw: object) -> DialogueRequest:
    fields: dict[str, object] = {
        "message": "I'm so nervous about my job interview tomorrow.",
        "server_url": url,
        "max_new_tokens": 48,
        "seed": 3,
        **kw,
    }
    return DialogueRequest(**fields)  # type: ignore[arg-type]


def test_streamed_reply_from_a_real_server(server: ChatServer, backend: OpenAIBackend) -> None:
    stages: list[str] = []
    result = backend.run(ask(server.base_url), progress=lambda _f, s: stages.append(s))
    assert result.reply.strip()
    assert sum(s.startswith(STREAM_STAGE) for s in stages) > 3  # it streamed
    assert result.turn["understanding"]["label"] == "fearful"
    assert result.turn["generation"]["tokens"] > 3
    again = backend.run(ask(server.base_url))
    assert again.reply == result.reply  # the seed reaches the server


def test_non_streaming_answer_and_named_model(server: ChatServer, backend: OpenAIBackend) -> None:
    result = backend.run(ask(server.root + "/nostream/v1", server_model=MODEL_ID))
    assert result.reply.strip()
    assert backend.first_model(server.base_url, "", 5) == MODEL_ID


def test_api_key_is_sent(server: ChatServer, backend: OpenAIBackend) -> None:
    with pytest.raises(PipelineError, match="API key"):
        backend.run(ask(server.root + "/auth/v1", server_model=MODEL_ID))
    ok = backend.run(ask(server.root + "/auth/v1", server_model=MODEL_ID, api_key="sekrit"))
    assert ok.reply.strip()


def test_bad_servers_give_clear_errors(server: ChatServer, backend: OpenAIBackend) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    with pytest.raises(PipelineError, match="Cannot reach"):
        backend.run(ask(f"http://127.0.0.1:{free_port}/v1", server_model="x"))
    with pytest.raises(PipelineError, match="OpenAI-compatible JSON"):
        backend.run(ask(server.root + "/garbage/v1", server_model="x"))
    with pytest.raises(PipelineError, match=r"did not answer within|Cannot reach"):
        backend.run(ask(server.root + "/slow/v1", server_model="x", timeout_s=1))
    with pytest.raises(PipelineError, match="base URL"):
        OpenAIBackend(backend.reader, {}).run(DialogueRequest(message="hi"))


def test_load_reads_options() -> None:
    b = OpenAIBackend.load(
        LoadSettings(options={"base_url": "http://127.0.0.1:1/v1", "use_nade": False})
    )
    assert b.defaults["base_url"].endswith("/v1")


def test_the_judge_reranks_server_replies(server: ChatServer, backend: OpenAIBackend) -> None:
    one = backend.run(ask(server.base_url, structured=False))
    assert one.turn["best_of"]["n"] == 1  # a chat server gets one candidate by default
    two = backend.run(ask(server.base_url, structured=False, candidates=2))
    best = two.turn["best_of"]
    assert best["n"] == 2 and len(best["candidates"]) == 2
    assert best["candidates"][0]["reply"] == one.turn["best_of"]["candidates"][0]["reply"]
    assert best["candidates"][0]["reply"] != best["candidates"][1]["reply"]  # seed, seed + 1
    assert two.turn["judge"]["passed"]  # the kept reply, or the grounded fallback, passes
    if best["fallback"]:
        assert best["chosen"] is None
    else:
        assert best["candidates"][best["chosen"]]["passed"]
