"""Tokens/s and time to first token of the default dialogue backend (bundled SmolLM2-135M on
our NumPy decoder), on this machine's CPU.

.venv/bin/python benchmarks/dialogue_speed.py [--runs 3] [--tokens 64] [--threads 1]

Prints the model load time, then per prompt: prompt tokens, first-token latency (prompt
processing + first sample) and decode tokens/s (greedy, a fixed number of tokens, no early
stop), and the full turn time (understanding + scaffolded generation + analysis).
Goals from the issue: first token < 1 s, ≥ 20 tok/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.base import LoadSettings
from pipelines.dialogue.prompt import build_prompt
from pipelines.dialogue.request import DialogueRequest
from pipelines.dialogue.smollm import SmolLMBackend, chatml_ids
from pipelines.dialogue.transition import plan_reply

MESSAGES = (
    "I failed my driving test again today and I feel awful.",
    "My dog died yesterday and I can't stop crying.",
    "I got the job! I'm so happy I could dance.",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    backend = SmolLMBackend.load(LoadSettings(threads=args.threads))
    print(f"load (weights de-quantised + nade + VADER): {time.perf_counter() - t0:.2f} s")
    print(
        f"cpus: {os.cpu_count()}, BLAS threads: {args.threads}, load avg: {os.getloadavg()[0]:.1f}"
    )
    ttfts, speeds, turns = [], [], []
    for message in MESSAGES:
        req = DialogueRequest(message=message, max_new_tokens=args.tokens, temperature=0.0)
        u = backend.reader.read(message)
        prompt = build_prompt(req, u, plan_reply(None, u.vad, req.traits))
        ids = chatml_ids(backend.model, prompt)
        for _ in range(args.runs):
            with backend._threads():
                out = backend.model.generate(
                    ids, max_new_tokens=args.tokens, temperature=0.0, top_p=1.0, seed=0
                )
            n = len(out.token_ids)
            ttfts.append(out.first_token_s)
            speeds.append((n - 1) / (out.total_s - out.first_token_s))
            t1 = time.perf_counter()
            backend.run(req.replace(max_new_tokens=160, temperature=0.7))
            turns.append(time.perf_counter() - t1)
        print(
            f"{len(ids):4d} prompt tokens  TTFT {statistics.median(ttfts[-args.runs :]):.3f} s  "
            f"{statistics.median(speeds[-args.runs :]):5.1f} tok/s  "
            f"full turn {statistics.median(turns[-args.runs :]):.2f} s  | {message[:40]}"
        )
    print(
        f"median over all: TTFT {statistics.median(ttfts):.3f} s, "
        f"{statistics.median(speeds):.1f} tok/s, full turn {statistics.median(turns):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
