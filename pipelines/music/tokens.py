"""REMI tokens of a MIDI file via miditok — the input format a learned generator (EmoGen stage 2)
would read and write, stored next to every output so one can plug in later."""

from __future__ import annotations

import json
from typing import Any

from pipelines.base import PipelineError


def remi_tokenizer() -> Any:
    """A miditok REMI tokenizer: one stream for all tracks (Program tokens), tempos, velocities."""
    try:
        import miditok
    except ImportError as exc:
        raise PipelineError("REMI tokens need the 'miditok' package — install it.") from exc
    config = miditok.TokenizerConfig(
        use_programs=True,
        one_token_stream_for_programs=True,
        use_tempos=True,
        use_velocities=True,
        use_time_signatures=True,
    )
    return miditok.REMI(config)


def remi_tokens(midi: bytes) -> list[str]:
    """The REMI token strings of a .mid file's bytes."""
    import symusic

    tokenizer = remi_tokenizer()
    seq = tokenizer(symusic.Score.from_midi(midi))
    if isinstance(seq, list):  # miditok returns one sequence per track when not one stream
        return [tok for s in seq for tok in s.tokens]
    return list(seq.tokens)


def tokens_json(midi: bytes) -> bytes:
    """A small JSON document: tokenizer description and the tokens."""
    tokens = remi_tokens(midi)
    doc = {"tokenizer": "miditok.REMI", "programs": "one stream", "tokens": tokens}
    return json.dumps(doc, ensure_ascii=False).encode()
