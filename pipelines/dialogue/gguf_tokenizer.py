"""The bundled model's tokenizer, built from its GGUF metadata (no hub, no tokenizer.json).

GGUF stores a GPT-2 style byte-level BPE: the vocabulary, the merges and a pre-tokenizer name.
"smollm" is llama.cpp's name for: split every digit apart, then the GPT-2 regex — the same as
SmolLM2's own ``tokenizer.json`` (Digits(individual) + ByteLevel). Control tokens
(``<|im_start|>`` …) are never produced from text: :meth:`encode` treats user text as plain
text, so a message that contains ``<|im_end|>`` cannot close its own turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipelines.base import PipelineError

_CONTROL = 3  # llama.cpp token type for control tokens


class GGUFTokenizer:
    """Byte-level BPE from ``tokenizer.ggml.*`` metadata."""

    def __init__(self, metadata: Mapping[str, Any]) -> None:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers

        if metadata.get("tokenizer.ggml.model") != "gpt2":
            raise PipelineError(
                f"Only byte-level BPE (gpt2) tokenizers are supported, this model has "
                f"{metadata.get('tokenizer.ggml.model')!r}."
            )
        tokens: Sequence[str] = metadata["tokenizer.ggml.tokens"]
        types: Sequence[int] = metadata.get("tokenizer.ggml.token_type", [1] * len(tokens))
        merges = [tuple(m.split(" ", 1)) for m in metadata["tokenizer.ggml.merges"]]
        vocab = {tok: i for i, tok in enumerate(tokens)}
        bpe = models.BPE(vocab=vocab, merges=merges, fuse_unk=False)
        tok = Tokenizer(bpe)
        pre: list[Any] = [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
        if metadata.get("tokenizer.ggml.pre") in ("smollm", "starcoder", "refact"):
            pre.insert(0, pre_tokenizers.Digits(individual_digits=True))
        tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
        tok.decoder = decoders.ByteLevel()
        self._tok = tok
        self.vocab = vocab
        self.control_ids = frozenset(i for i, t in enumerate(types) if t == _CONTROL)
        self.eos_id = int(metadata.get("tokenizer.ggml.eos_token_id", 0))
        self.bos_id = int(metadata.get("tokenizer.ggml.bos_token_id", self.eos_id))
        self.chat_template = str(metadata.get("tokenizer.chat_template", ""))

    def encode(self, text: str) -> list[int]:
        """Token ids of plain text (control-token spellings stay plain text)."""
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def token_id(self, token: str) -> int:
        """The id of a (control) token such as ``<|im_start|>``."""
        if token not in self.vocab:
            raise PipelineError(f"The model's vocabulary has no token {token!r}.")
        return self.vocab[token]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``, control tokens left out."""
        keep = [i for i in ids if i not in self.control_ids]
        return str(self._tok.decode(keep, skip_special_tokens=False))
