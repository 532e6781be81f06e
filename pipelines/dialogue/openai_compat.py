"""Dialogue through any OpenAI-compatible chat server (Ollama, llama.cpp server, vLLM …).

Same understanding, plan, prompt, parsing, safety and rubric as the default backend; only the
text comes from ``POST {base_url}/chat/completions`` (streamed as server-sent events, or one
JSON answer when the server does not stream). Standard library only. The API key comes from
the request (never stored), else ``LoadSettings.options["api_key"]``, else the environment
(``AFFECT_STUDIO_OPENAI_API_KEY`` or ``OPENAI_API_KEY``).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Self

from pipelines.base import (
    CancelToken,
    LoadSettings,
    PipelineError,
    ProgressFn,
    Request,
    expect_request,
)
from pipelines.dialogue.core import GenOutput, TextFn, one_by_one, run_turn
from pipelines.dialogue.prompt import Prompt
from pipelines.dialogue.request import DialogueRequest, DialogueResult
from pipelines.dialogue.understand import EmotionReader

MAX_ANSWER_BYTES = 2_000_000


class OpenAIBackend:
    """Replies from an OpenAI-compatible server at a base URL (e.g. http://127.0.0.1:8080/v1)."""

    name: ClassVar[str] = "openai"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = DialogueRequest

    def __init__(self, reader: EmotionReader, defaults: Mapping[str, Any]) -> None:
        self.reader = reader
        self.defaults = dict(defaults)

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        reader = EmotionReader.load(use_nade=bool(settings.options.get("use_nade", True)))
        return cls(reader, settings.options)

    # -- HTTP -----------------------------------------------------------------------------------
    def _server(self, req: DialogueRequest) -> tuple[str, str, str]:
        env = os.environ
        url = (
            req.server_url
            or str(self.defaults.get("base_url", ""))
            or env.get("AFFECT_STUDIO_OPENAI_BASE_URL", "")
        )
        if not url:
            raise PipelineError(
                "Set the server's base URL (e.g. http://127.0.0.1:8080/v1 for llama.cpp, "
                "http://127.0.0.1:11434/v1 for Ollama)."
            )
        key = req.api_key or str(self.defaults.get("api_key", ""))
        key = key or env.get("AFFECT_STUDIO_OPENAI_API_KEY", "") or env.get("OPENAI_API_KEY", "")
        model = req.server_model or str(self.defaults.get("model", ""))
        return url.rstrip("/"), model, key

    def _open(self, url: str, key: str, body: dict[str, Any] | None, timeout: float) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            return urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace").strip()
            hint = {
                401: "the server refused the API key",
                403: "the server refused the API key",
                404: "nothing there — the base URL usually ends in /v1",
            }.get(exc.code, "the server reported an error")
            raise PipelineError(f"{url} answered HTTP {exc.code}: {hint}. {detail[:200]}") from exc
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PipelineError(
                f"Cannot reach the chat server at {url} ({reason}) — is it running, and is the "
                "base URL right?"
            ) from exc

    def first_model(self, base: str, key: str, timeout: float) -> str:
        """The first model the server lists (used when none was named)."""
        with self._open(f"{base}/models", key, None, timeout) as resp:
            data = _json(resp.read(MAX_ANSWER_BYTES), base)
        models = data.get("data") if isinstance(data, dict) else None
        if not models or not isinstance(models[0], dict) or "id" not in models[0]:
            raise PipelineError(f"{base}/models lists no model; name one in the backend settings.")
        return str(models[0]["id"])

    def generate(self, prompt: Prompt, req: DialogueRequest, on_text: TextFn) -> GenOutput:
        """Chat completion of ``prompt.messages`` (a chat API takes no prefill)."""
        t0 = time.perf_counter()
        base, model, key = self._server(req)
        model = model or self.first_model(base, key, req.timeout_s)
        body = {
            "model": model,
            "messages": prompt.messages,
            "max_tokens": req.max_new_tokens,
            "temperature": req.temperature,
            "top_p": req.top_p,
            "seed": req.seed,
            "stream": True,
        }
        text, first, chunks = "", 0.0, 0
        deadline = t0 + max(req.timeout_s * 4, 30.0)
        try:
            with self._open(f"{base}/chat/completions", key, body, req.timeout_s) as resp:
                kind = resp.headers.get("Content-Type", "")
                if "text/event-stream" not in kind:
                    data = _json(resp.read(MAX_ANSWER_BYTES), base)
                    text = _message(data, base)
                    first = time.perf_counter() - t0
                    chunks = len(text.split())
                    on_text(text)
                else:
                    for piece in _events(resp, base):
                        if not first:
                            first = time.perf_counter() - t0
                        text += piece
                        chunks += 1
                        if on_text(text) or len(text) > MAX_ANSWER_BYTES:
                            break
                        if time.perf_counter() > deadline:
                            raise PipelineError(
                                f"The chat server at {base} is too slow: no full answer in "
                                f"{deadline - t0:.0f} s."
                            )
        except TimeoutError as exc:
            raise PipelineError(
                f"The chat server at {base} did not answer within {req.timeout_s:.0f} s."
            ) from exc
        return GenOutput(text, chunks, 0, first, time.perf_counter() - t0, "eos")

    def run(
        self,
        request: DialogueRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> DialogueResult:
        expect_request(request, DialogueRequest, "openai")
        return run_turn(
            request, self.reader, one_by_one(self.generate), progress=progress, cancel=cancel
        )


def _json(raw: bytes, base: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PipelineError(
            f"The server at {base} did not answer with OpenAI-compatible JSON (got {raw[:80]!r})."
        ) from exc


def _message(data: Any, base: str) -> str:
    try:
        return str(data["choices"][0]["message"]["content"] or "")
    except (KeyError, IndexError, TypeError) as exc:
        raise PipelineError(
            f"The server at {base} answered without choices[0].message.content."
        ) from exc


def _events(resp: Any, base: str) -> Iterator[str]:
    """Content pieces from a server-sent-event stream of chat completion chunks."""
    for line in resp:
        line = line.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        chunk = _json(payload.encode(), base)
        try:
            delta = chunk["choices"][0].get("delta") or {}
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise PipelineError(f"The server at {base} sent a malformed stream chunk.") from exc
        if delta.get("content"):
            yield str(delta["content"])
