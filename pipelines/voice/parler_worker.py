"""Parler-TTS worker: runs INSIDE the isolated Parler environment, standalone (no studio imports).

Started by :class:`pipelines.voice.parler.ParlerBackend` as ``<env python> parler_worker.py``.

Protocol (version 1): one JSON object per line, UTF-8, on stdin (requests) and stdout
(replies); everything else the libraries print goes to stderr. Each request is
``{"id": N, "op": OP, ...arguments}``; its reply repeats the ``id`` and has ``"ok": true`` plus
results, or ``"ok": false`` with ``"error"`` (a message) and ``"type"`` (the exception class).
On start the worker writes ``{"id": 0, "ok": true, "op": "hello", "protocol": 1}``.

``ping`` → ``{"loaded": bool, "protocol": 1, "pid": int, "offline": bool}``.
``load`` ``{"checkpoint": dir or hub id, "device": "cpu"|"cuda", "threads": int,
"dtype": "float32"|"float16"|"bfloat16"}`` → ``{"sampling_rate", "checkpoint", "versions",
"parameters"}``. Loads the model and tokenizer (a ``description_tokenizer/`` subfolder, if any,
tokenises descriptions); hub ids only work when the caller did not set ``HF_HUB_OFFLINE``.
``generate`` ``{"description", "text", "seed", "max_new_tokens"?: int}`` →
``{"audio_b64": base64 of little-endian float32 samples, "samples", "sampling_rate",
"description", "text", "seed", "seconds"}`` (the description echoed as it was used).
``unload`` frees the model; ``quit`` replies and exits.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

PROTOCOL = 1


class Worker:
    """Holds at most one loaded model."""

    def __init__(self) -> None:
        self.model: Any = None
        self.tokenizer: Any = None
        self.description_tokenizer: Any = None
        self.device = "cpu"
        self.checkpoint = ""

    def ping(self) -> dict[str, Any]:
        return {
            "loaded": self.model is not None,
            "protocol": PROTOCOL,
            "pid": os.getpid(),
            "offline": os.environ.get("HF_HUB_OFFLINE") == "1",
        }

    def load(
        self, checkpoint: str, device: str = "cpu", threads: int = 0, dtype: str = "float32"
    ) -> dict[str, Any]:
        import parler_tts
        import torch
        import transformers
        from parler_tts import ParlerTTSForConditionalGeneration
        from transformers import AutoTokenizer

        self.unload()
        if threads:
            torch.set_num_threads(threads)
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' asked for, but torch sees no CUDA device here")
        model = ParlerTTSForConditionalGeneration.from_pretrained(
            checkpoint, torch_dtype=getattr(torch, dtype)
        )
        self.model = model.to(device).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        sub = os.path.join(checkpoint, "description_tokenizer")
        self.description_tokenizer = (
            AutoTokenizer.from_pretrained(sub) if os.path.isdir(sub) else self.tokenizer
        )
        self.device, self.checkpoint = device, checkpoint
        return {
            "sampling_rate": self.sampling_rate(),
            "checkpoint": checkpoint,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "versions": {
                "parler_tts": parler_tts.__version__,
                "torch": torch.__version__,
                "transformers": transformers.__version__,
            },
        }

    def sampling_rate(self) -> int:
        rate = getattr(self.model.config, "sampling_rate", None)
        return int(rate or self.model.audio_encoder.config.sampling_rate)

    def generate(
        self, description: str, text: str, seed: int = 0, max_new_tokens: int | None = None
    ) -> dict[str, Any]:
        import numpy as np
        import torch
        from transformers import set_seed

        if self.model is None:
            raise RuntimeError("no model loaded: send 'load' first")
        t0 = time.perf_counter()
        desc = self.description_tokenizer(description, return_tensors="pt")
        prompt = self.tokenizer(text, return_tensors="pt")
        set_seed(int(seed))
        kwargs: dict[str, Any] = {"do_sample": True}
        if max_new_tokens:
            kwargs["max_new_tokens"] = int(max_new_tokens)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=desc.input_ids.to(self.device),
                attention_mask=desc.attention_mask.to(self.device),
                prompt_input_ids=prompt.input_ids.to(self.device),
                prompt_attention_mask=prompt.attention_mask.to(self.device),
                **kwargs,
            )
        audio = np.ascontiguousarray(out.to(torch.float32).cpu().numpy().reshape(-1), "<f4")
        return {
            "audio_b64": base64.b64encode(audio.tobytes()).decode("ascii"),
            "samples": int(audio.size),
            "sampling_rate": self.sampling_rate(),
            "description": description,
            "text": text,
            "seed": int(seed),
            "seconds": round(time.perf_counter() - t0, 4),
        }

    def unload(self) -> dict[str, Any]:
        loaded = self.model is not None
        self.model = self.tokenizer = self.description_tokenizer = None
        gc.collect()
        if loaded and self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()
        return {"unloaded": loaded}


def serve(stdin: TextIO, out: TextIO) -> None:
    """Answer requests until ``quit`` or end of input."""
    worker = Worker()

    def reply(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    reply({"id": 0, "ok": True, "op": "hello", "protocol": PROTOCOL, "pid": os.getpid()})
    ops: dict[str, Callable[..., dict[str, Any]]] = {
        "ping": worker.ping,
        "load": worker.load,
        "generate": worker.generate,
        "unload": worker.unload,
    }
    for line in stdin:
        if not line.strip():
            continue
        rid: Any = None
        try:
            request = json.loads(line)
            rid = request.pop("id", None)
            op = request.pop("op", "")
            if op == "quit":
                worker.unload()
                reply({"id": rid, "ok": True})
                return
            if op not in ops:
                raise ValueError(f"unknown op {op!r}; valid: {', '.join([*ops, 'quit'])}")
            reply({"id": rid, "ok": True, **ops[op](**request)})
        except Exception as exc:
            reply(
                {"id": rid, "ok": False, "error": str(exc) or repr(exc), "type": type(exc).__name__}
            )


def main() -> None:
    # Keep the protocol channel clean: whatever a library prints lands on stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin, out)


if __name__ == "__main__":
    main()
