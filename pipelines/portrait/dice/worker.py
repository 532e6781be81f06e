"""DICE-Talk worker: runs INSIDE the isolated ``dice`` environment with the repository root on
``PYTHONPATH`` (it imports this package's torch modules, nothing else of the studio).

Started by :class:`pipelines.portrait.dice.backend.DiceBackend` as ``<env python> -m
pipelines.portrait.dice.worker``.

Protocol (version 1), as the Parler worker's: one JSON object per line, UTF-8, requests on
stdin, replies on stdout (whatever the libraries print goes to stderr). A request is
``{"id": N, "op": OP, ...arguments}``; its reply repeats the ``id`` with ``"ok": true`` and
results, or ``"ok": false`` with ``"error"`` and ``"type"`` (the exception class). On start:
``{"id": 0, "ok": true, "op": "hello", "protocol": 1, "pid": int}``.

``ping`` → ``{"loaded", "protocol", "pid", "offline"}``.
``load`` ``{"model_dir", "device": "cpu"|"cuda", "threads": int, "fp16": bool}`` →
``{"model_dir", "device", "dtype", "parameters", "versions"}``.
``generate`` ``{"frame": .npy path (H, W, 3) uint8, sides multiples of 64, "box": [x0, y0, x1,
y1], "audio": .npy path of 16 kHz float32 samples, "fps", "frames", "priors": {name: weight},
"settings": {steps, reference_scale, audio_scale, emotion_scale, window, overlap,
decode_chunk}, "seed"}``. While it runs the worker writes events with the request's id:
``{"id", "event": "progress", "step", "steps", "window", "windows"}`` after each window, then
reads ONE line, ``{"id", "op": "continue"}`` or ``{"id", "op": "cancel"}`` (cancel ends the
request with ``"type": "Cancelled"``); and ``{"id", "event": "frames", "shape": [n, H, W, 3],
"b64": base64 of the uint8 frames}`` per decoded chunk (no answer). The final reply has
``frames``, ``generated_frames``, ``frame_step``, ``windows``, ``rows``, ``timings`` and
``seconds``.
``unload`` frees the models; ``quit`` replies and exits.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

PROTOCOL = 1


class Cancelled(Exception):
    """The studio asked to stop between two windows."""


class Worker:
    """Holds at most one loaded DICE-Talk stack."""

    def __init__(self, stdin: TextIO, reply: Callable[[dict[str, Any]], None]) -> None:
        self.stack: Any = None
        self._stdin = stdin
        self._reply = reply
        self.request_id: Any = None

    def ping(self) -> dict[str, Any]:
        return {
            "loaded": self.stack is not None,
            "protocol": PROTOCOL,
            "pid": os.getpid(),
            "offline": os.environ.get("HF_HUB_OFFLINE") == "1",
        }

    def load(
        self, model_dir: str, device: str = "cpu", threads: int = 0, fp16: bool = False
    ) -> dict[str, Any]:
        import diffusers
        import torch
        import transformers

        from pipelines.portrait.dice.features import load_stack

        self.unload()
        if threads:
            torch.set_num_threads(threads)
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(
                f"device 'cuda' asked for, but this environment's torch {torch.__version__} sees "
                "no CUDA device (the studio's env builds the CPU torch; see the README)"
            )
        self.stack = load_stack(Path(model_dir), device, fp16)
        return {
            "model_dir": str(self.stack.root),
            "device": device,
            "dtype": str(self.stack.dtype).replace("torch.", ""),
            "parameters": self.stack.parameters(),
            "versions": {
                "torch": torch.__version__,
                "diffusers": diffusers.__version__,
                "transformers": transformers.__version__,
            },
        }

    def _window_done(self, step: int, steps: int, window: int, windows: int) -> None:
        self._reply(
            {
                "id": self.request_id,
                "event": "progress",
                "step": step,
                "steps": steps,
                "window": window,
                "windows": windows,
            }
        )
        line = self._stdin.readline()
        answer = json.loads(line) if line.strip() else {"op": "cancel"}
        if answer.get("op") != "continue":
            raise Cancelled("cancelled between windows")

    def _frames(self, frames: Any) -> None:
        self._reply(
            {
                "id": self.request_id,
                "event": "frames",
                "shape": list(frames.shape),
                "b64": base64.b64encode(frames.tobytes()).decode("ascii"),
            }
        )

    def generate(
        self,
        frame: str,
        box: list[float],
        audio: str,
        fps: float,
        frames: int,
        priors: dict[str, float],
        settings: dict[str, Any],
        seed: int = 0,
    ) -> dict[str, Any]:
        import numpy as np

        from pipelines.portrait.dice.generate import Settings, generate

        if self.stack is None:
            raise RuntimeError("no model loaded: send 'load' first")
        t0 = time.perf_counter()
        image = np.load(frame, allow_pickle=False)
        samples = np.load(audio, allow_pickle=False)
        x0, y0, x1, y1 = (float(v) for v in box)
        info = generate(
            self.stack,
            image,
            (x0, y0, x1, y1),
            samples,
            float(fps),
            int(frames),
            priors,
            Settings(**settings),
            int(seed),
            on_window=self._window_done,
            on_frames=self._frames,
        )
        return {**info, "seconds": round(time.perf_counter() - t0, 4)}

    def unload(self) -> dict[str, Any]:
        loaded = self.stack is not None
        cuda = loaded and self.stack.device.type == "cuda"
        self.stack = None
        gc.collect()
        if cuda:
            import torch

            torch.cuda.empty_cache()
        return {"unloaded": loaded}


def serve(stdin: TextIO, out: TextIO) -> None:
    """Answer requests until ``quit`` or end of input."""

    def reply(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    worker = Worker(stdin, reply)
    reply({"id": 0, "ok": True, "op": "hello", "protocol": PROTOCOL, "pid": os.getpid()})
    ops: dict[str, Callable[..., dict[str, Any]]] = {
        "ping": worker.ping,
        "load": worker.load,
        "generate": worker.generate,
        "unload": worker.unload,
    }
    while line := stdin.readline():
        if not line.strip():
            continue
        rid: Any = None
        try:
            request = json.loads(line)
            rid = worker.request_id = request.pop("id", None)
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
    out.flush()
    sys.stderr.flush()
    os._exit(0)  # skip the interpreter's teardown of torch (seconds): nothing is left to save


if __name__ == "__main__":
    main()
