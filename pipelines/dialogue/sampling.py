"""Several reply candidates at once from one prompt, with decoding hygiene.

Of several candidates, candidate i samples at (0.6 + 0.2·(i mod 4)) × the temperature: one
cautious, the others bolder. All candidates share the prompt's KV state (computed once; its
constant prefix is reused across turns) and are decoded together, one batched forward pass
per step. Each candidate has its own seeded random stream.

Hygiene, per candidate:

* a repetition penalty on tokens it already wrote (CTRL-style: positive logits divided,
  negative multiplied) and no repeated word n-gram (the token that would repeat one is banned);
* banned tokens (tags, "user", control tokens other than the end of turn);
* sampling from the 64 likeliest tokens, then top-p;
* the end of turn is allowed only right after a sentence end (a reply never just stops);
* it stops at a sentence end once it has ``max_sentences`` sentences or ``soft_tokens``
  tokens, at a stop string (a new line, a tag), or at ``max_tokens`` — then the text is cut
  back to its last sentence end, and ``stopped`` says "cut" when there was none.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipelines.dialogue.llama_numpy import LlamaModel

_SENTENCE_END = re.compile(r"(?<!\.)[.!?][\"')\]]*$")
_ENDS = re.compile(r"(?<!\.)[.!?][\"')\]]*(?=\s|$)")


@dataclass(frozen=True)
class Hygiene:
    """Decoding rules for short replies."""

    max_tokens: int = 60
    soft_tokens: int = 36
    """Past this many tokens, stop at the next sentence end."""
    max_sentences: int = 2
    repetition_penalty: float = 1.25
    no_repeat_ngram: int = 3
    stop: tuple[str, ...] = ("\n", "<", "[")
    banned_words: tuple[str, ...] = (" user", " users", "user", " User", "User", "<", " <")


@dataclass(frozen=True)
class Candidate:
    """One sampled reply."""

    index: int
    text: str
    tokens: int
    stopped: str
    """"sentence" (a complete last sentence), "eos", "stop" (a stop string), "cut" (the budget
    ran out with no sentence end), "length" (budget spent, cut back to a sentence end) or
    "dropped" (the caller stopped it: another candidate was chosen, or it already failed)."""


@dataclass(frozen=True)
class Sampled:
    candidates: list[Candidate]
    prompt_tokens: int
    first_token_s: float
    total_s: float
    steps: int


@dataclass(frozen=True)
class Progress:
    """One candidate after a step: its text so far and, once it has stopped, why."""

    index: int
    text: str
    stopped: str = ""


StepFn = Callable[[int, list[Progress]], bool | frozenset[int]]
"""Called after each step with (step, every candidate that wrote a token in it, stopped ones
included). It returns False to go on, True to stop all, or the indices of the candidates
that should go on writing (the others stop as "dropped")."""


def _sentences(text: str) -> int:
    return len(_ENDS.findall(text))


def _cut_to_sentence(text: str) -> str:
    ends = list(_ENDS.finditer(text))
    return text[: ends[-1].end()] if ends else text


class _Writer:
    """One candidate's growing state."""

    def __init__(self, index: int, seed: int) -> None:
        self.index = index
        self.gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, index])))
        self.ids: list[int] = []
        self.text = ""
        self.stopped = ""


def sample_candidates(
    model: LlamaModel,
    prompt_ids: list[int],
    *,
    n: int,
    reuse: int,
    hygiene: Hygiene,
    temperature: float,
    top_p: float,
    seed: int,
    openers: list[list[int]] | None = None,
    on_step: StepFn | None = None,
) -> Sampled:
    """``n`` candidates after ``prompt_ids`` (the first ``reuse`` ids are a cacheable prefix);
    candidate i starts with the tokens ``openers[i % len(openers)]`` (forced, not sampled)."""
    t0 = time.perf_counter()
    tok = model.tokenizer
    end_ids = {tok.eos_id} | set(tok.control_ids)
    banned = {i for w in hygiene.banned_words for i in tok.encode(w)[:1]} - end_ids
    banned |= end_ids - {tok.eos_id}
    eos = tok.eos_id
    end_of_turn = tok.vocab.get("<|im_end|>", eos)
    k1, v1, logits1 = model.prefill(prompt_ids, reuse, 1)
    cache = model.batch_cache(k1, v1, len(prompt_ids), n, hygiene.max_tokens + 1)
    logits = np.repeat(logits1[None], n, axis=0)
    writers = [_Writer(i, seed) for i in range(n)]
    # One cautious candidate and bolder ones: 0.6, 0.8, 1.0, 1.2 … × the temperature.
    spread = [0.6 + 0.2 * (i % 4) for i in range(n)] if n > 1 else [1.0]
    active = list(range(n))  # writer index of each batch row
    first, steps = 0.0, 0
    banned_idx = np.fromiter(banned, dtype=np.int64)
    while active:
        tokens = []
        for row, wi in enumerate(active):
            w = writers[wi]
            lg = logits[row].astype(np.float64)
            _penalise(lg, w.ids, hygiene)
            lg[banned_idx] = -np.inf
            if not _SENTENCE_END.search(w.text.rstrip()):
                lg[eos] = lg[end_of_turn] = -np.inf
            forced = openers[wi % len(openers)] if openers else []
            if len(w.ids) < len(forced):
                tokens.append(forced[len(w.ids)])
            else:
                tokens.append(_sample_top(lg, temperature * spread[wi], top_p, w.gen))
        if not first:
            first = time.perf_counter() - t0
        steps += 1
        keep: list[int] = []
        for row, wi in enumerate(active):
            w, t = writers[wi], tokens[row]
            if t in end_ids:
                w.stopped = "eos"
                continue
            w.ids.append(t)
            w.text = tok.decode(w.ids)
            hits = [w.text.find(s) for s in hygiene.stop if s in w.text]
            if hits:
                w.text = _cut_to_sentence(w.text[: min(hits)].rstrip())
                w.stopped = "stop"
            elif _SENTENCE_END.search(w.text) and (
                _sentences(w.text) >= hygiene.max_sentences or len(w.ids) >= hygiene.soft_tokens
            ):
                w.stopped = "sentence"
            elif len(w.ids) >= hygiene.max_tokens:
                cut = _cut_to_sentence(w.text)
                w.stopped = "length" if cut != w.text or _SENTENCE_END.search(cut) else "cut"
                w.text = cut
            else:
                keep.append(row)
        if on_step is not None:
            views = [Progress(wi, writers[wi].text, writers[wi].stopped) for wi in active]
            wanted = on_step(steps, views)
            if wanted is True:
                break
            if isinstance(wanted, frozenset):
                for r in keep:
                    if active[r] not in wanted:
                        writers[active[r]].stopped = "dropped"
                keep = [r for r in keep if active[r] in wanted]
        if not keep:
            break
        if len(keep) < len(active):
            cache.keep(np.asarray(keep))
            tokens = [tokens[r] for r in keep]
            active = [active[r] for r in keep]
        logits = model.forward_batch(np.asarray(tokens), cache)
    candidates = [
        Candidate(w.index, w.text.strip(), len(w.ids), w.stopped or "caller") for w in writers
    ]
    return Sampled(candidates, len(prompt_ids), first, time.perf_counter() - t0, steps)


TOP_K = 64
"""Sampling looks at the 64 likeliest tokens only (then top-p): a full sort of the 49k-token
vocabulary per candidate per step cost more than the batched forward pass."""


def _sample_top(
    logits: np.ndarray, temperature: float, top_p: float, gen: np.random.Generator
) -> int:
    if temperature <= 0.0:
        return int(np.argmax(logits))
    idx = np.argpartition(-logits, TOP_K)[:TOP_K]
    z = logits[idx] / temperature
    order = np.argsort(-z, kind="stable")
    idx, z = idx[order], z[order]
    probs = np.exp(z - z[0])
    probs /= probs.sum()
    keep = min(len(probs), int(np.searchsorted(np.cumsum(probs), top_p)) + 1)
    p = probs[:keep] / probs[:keep].sum()
    return int(idx[gen.choice(keep, p=p)])


def _penalise(logits: np.ndarray, ids: list[int], hygiene: Hygiene) -> None:
    if ids and hygiene.repetition_penalty != 1.0:
        seen = np.unique(np.asarray(ids))
        vals = logits[seen]
        logits[seen] = np.where(
            vals > 0, vals / hygiene.repetition_penalty, vals * hygiene.repetition_penalty
        )
    k = hygiene.no_repeat_ngram
    if k > 1 and len(ids) >= k - 1:
        tail = tuple(ids[len(ids) - (k - 1) :])
        for i in range(len(ids) - k + 1):
            if tuple(ids[i : i + k - 1]) == tail:
                logits[ids[i + k - 1]] = -np.inf
