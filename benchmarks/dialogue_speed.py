"""Speed of the default dialogue backend (bundled SmolLM2-135M on our NumPy decoder) on this
machine's CPU: one full turn with best-of-n, and the raw decoder.

.venv/bin/python benchmarks/dialogue_speed.py [--runs 3] [--n 4] [--threads 1]

Per message: the full turn (understanding + n candidates decoded in one batch + judging +
safety + analysis), the first visible token (when the chosen reply can start to appear: all
candidates written and scored; for n=1, the first streamed token), the prompt-prefix cache's
effect on the first token, and batched decode steps/s. Prints the machine's load average
before and after: the cores are shared. Goals (issue #13): full turn with n=4 ≤ 8 s on 2
cores, first visible token ≤ 1.5 s.
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
from pipelines.dialogue.request import DialogueRequest
from pipelines.dialogue.smollm import SmolLMBackend

MESSAGES = (
    "I failed my driving test again today and I feel awful.",
    "My dog died yesterday and I can't stop crying.",
    "I got the job! I'm so happy I could dance.",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    print(f"cpus {os.cpu_count()}, BLAS threads {args.threads}, load avg {os.getloadavg()}")
    t0 = time.perf_counter()
    backend = SmolLMBackend.load(LoadSettings(threads=args.threads))
    print(f"load (weights de-quantised + nade + VADER): {time.perf_counter() - t0:.2f} s")
    cold = backend.run(DialogueRequest(message="Hello there.", candidates=args.n))
    print(f"first turn after load (fills the prompt-prefix cache): {cold.timings}")
    turns, visible, ttft, speed = [], [], [], []
    for message in MESSAGES:
        for run in range(args.runs):
            req = DialogueRequest(message=message, candidates=args.n, seed=run)
            t1 = time.perf_counter()
            result = backend.run(req)
            turns.append(time.perf_counter() - t1)
            visible.append(result.metadata["first_visible_s"])
            ttft.append(result.timings["first_token"])
            speed.append(result.metadata["tokens_per_second"])
        k = args.runs
        print(
            f"full turn {statistics.median(turns[-k:]):5.2f} s  first visible "
            f"{statistics.median(visible[-k:]):5.2f} s  first token "
            f"{statistics.median(ttft[-k:]):.2f} s  "
            f"{statistics.median(speed[-k:]):5.1f} tok/s (all candidates)  | {message[:40]}"
        )
    print(
        f"median over all (n={args.n}): full turn {statistics.median(turns):.2f} s "
        f"(worst {max(turns):.2f}), first visible {statistics.median(visible):.2f} s, "
        f"first token {statistics.median(ttft):.2f} s, {statistics.median(speed):.1f} tok/s"
    )
    print(f"load avg after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
