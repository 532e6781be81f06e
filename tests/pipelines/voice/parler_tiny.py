"""Test helpers: build the Parler env and a tiny Parler-TTS checkpoint inside it (no downloads).

The checkpoint: a character-level tokenizer built with ``tokenizers``, a 1-layer T5 text
encoder, a 1-layer Parler decoder over 4 codebooks of 64 codes (vocab = 64 + 2: pad/eos = 64,
bos/decoder start = 65) and a DAC codec with a 32-dim latent at 16 kHz. Random weights: the
audio is noise, but every code path of loading and generation is the real one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipelines.voice import parler_env

SAMPLING_RATE = 16000
MAX_LENGTH = 10
"""Decoder steps per sentence (each step is one 512-sample DAC frame after the delay)."""

BUILD_SCRIPT = r"""
import sys
import torch
from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast, T5Config
from parler_tts import (
    DACConfig, ParlerTTSConfig, ParlerTTSDecoderConfig, ParlerTTSForConditionalGeneration,
)

out, sr, max_length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
chars = [chr(c) for c in range(32, 127)]
vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
fast = PreTrainedTokenizerFast(
    tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
    model_max_length=512,
)
fast.save_pretrained(out)

codebook, n_codebooks = 64, 4
pad = eos = codebook
bos = codebook + 1
text_cfg = T5Config(
    vocab_size=len(vocab), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=2,
    pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
)
audio_cfg = DACConfig(
    num_codebooks=n_codebooks, codebook_size=codebook, latent_dim=32, model_bitrate=8,
    frame_rate=sr // 512, sampling_rate=sr,
)
dec_cfg = ParlerTTSDecoderConfig(
    vocab_size=codebook + 2, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
    ffn_dim=64, num_codebooks=n_codebooks, max_position_embeddings=256,
    pad_token_id=pad, eos_token_id=eos, bos_token_id=bos, decoder_start_token_id=bos,
)
config = ParlerTTSConfig.from_sub_models_config(
    text_cfg, audio_cfg, dec_cfg, vocab_size=len(vocab), pad_token_id=pad,
    decoder_start_token_id=bos,
)
model = ParlerTTSForConditionalGeneration(config).eval()
g = model.generation_config
g.decoder_start_token_id, g.bos_token_id, g.pad_token_id, g.eos_token_id = bos, bos, pad, eos
g.do_sample, g.max_length, g.min_new_tokens = True, max_length, max_length // 2
model.save_pretrained(out)
print("params", sum(p.numel() for p in model.parameters()))
"""


def build_env_or_skip() -> Path:
    """The Parler env's python; skips only when the package index could not be reached."""
    try:
        return parler_env.ensure_env()
    except parler_env.EnvBuildError as exc:
        if exc.network:
            pytest.skip(f"Parler env not built: the package index is unreachable ({exc})")
        raise


def build_tiny_checkpoint(python: Path, out: Path) -> Path:
    """Write the tiny checkpoint to ``out`` using the env's own libraries."""
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [str(python), "-c", BUILD_SCRIPT, str(out), str(SAMPLING_RATE), str(MAX_LENGTH)],
        capture_output=True,
        text=True,
        env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out
