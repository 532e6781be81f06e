"""A minimal OpenAI-compatible chat server on the standard library, backed by the REAL bundled
model (our NumPy decoder over the SmolLM2 GGUF) — for testing the openai backend's protocol
handling without any mock of the protocol. Serves on 127.0.0.1 only.

Routes: ``GET /v1/models``; ``POST /v1/chat/completions`` (``stream`` true → server-sent
events, false → one JSON answer). Misbehaving variants for the bad-server tests live under
``/garbage/v1`` (not JSON), ``/slow/v1`` (never answers in time) and ``/auth/v1`` (needs the
key "sekrit"); ``/nostream/v1`` answers with one JSON body even when asked to stream.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from threadpoolctl import threadpool_limits

from pipelines.dialogue.llama_numpy import LlamaModel
from pipelines.dialogue.prompt import Prompt
from pipelines.dialogue.smollm import chatml_ids

MODEL_ID = "smollm2-135m-instruct"


def make_handler(model: LlamaModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.endswith("/v1/models"):
                self._send(
                    200, json.dumps({"data": [{"id": MODEL_ID, "object": "model"}]}).encode()
                )
            else:
                self._send(404, b'{"error": "not found"}')

        def do_POST(self) -> None:
            with threadpool_limits(limits=1, user_api="blas"):  # see SmolLMBackend.load
                self._post()

        def _post(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path.startswith("/garbage/"):
                return self._send(200, b"<html>surprise</html>", "text/html")
            if self.path.startswith("/slow/"):
                time.sleep(5)
                return self._send(200, b"{}")
            if (
                self.path.startswith("/auth/")
                and self.headers.get("Authorization") != "Bearer sekrit"
            ):
                return self._send(401, b'{"error": "bad key"}')
            if not self.path.endswith("/v1/chat/completions"):
                return self._send(404, b'{"error": "not found"}')
            prompt = Prompt(
                messages=[{"role": m["role"], "content": m["content"]} for m in body["messages"]]
            )
            ids = chatml_ids(model, prompt)
            kw = {
                "max_new_tokens": int(body.get("max_tokens", 64)),
                "temperature": float(body.get("temperature", 0.7)),
                "top_p": float(body.get("top_p", 1.0)),
                "seed": int(body.get("seed", 0)),
            }
            if not body.get("stream") or self.path.startswith("/nostream/"):
                out = model.generate(ids, **kw)
                answer = {
                    "id": "chatcmpl-local",
                    "object": "chat.completion",
                    "model": MODEL_ID,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": out.text},
                            "finish_reason": "stop",
                        }
                    ],
                }
                return self._send(200, json.dumps(answer).encode())
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            sent = [0]

            def push(text: str) -> bool:
                delta = text[sent[0] :]
                sent[0] = len(text)
                chunk = {
                    "object": "chat.completion.chunk",
                    "model": MODEL_ID,
                    "choices": [{"index": 0, "delta": {"content": delta}}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                return False

            model.generate(ids, on_text=push, **kw)
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


class ChatServer:
    """Start with ``ChatServer(model)``; ``base_url`` is http://127.0.0.1:PORT/v1."""

    def __init__(self, model: LlamaModel) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(model))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root + "/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
