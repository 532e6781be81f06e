"""Speed of the default dialogue backend (bundled SmolLM2-135M on our NumPy decoder) on this
machine's CPU, as the Dialogue tab shows it: one full turn with best-of-n, and the time to
the first visible reply token.

.venv/bin/python benchmarks/dialogue_speed.py [--runs 3] [--n 4] [--threads 1] [--direct]

By default every turn goes through ``studio.dialogue.Dialogue.send`` — the generator the
Dialogue tab consumes — on a real generation service and store in a temporary folder (each
turn in a new conversation, so prompts do not grow). "first visible" is the time from the
call until it yields the first non-empty reply text; "full turn" until it yields the recorded
turn. ``--direct`` calls the backend instead and reads the pipeline's own ``first_visible_s``.

Also printed: the first model token (understanding + prompt prefill), the process CPU
seconds used up to the first visible text (the cores are shared: on an idle machine wall ≈
CPU, with one BLAS thread), how the turn chose its reply (early commit on a first sentence,
whole replies — judged once finished —, or the grounded fallback), and the load average
before and after. Goals
(issue #13): full turn with n=4 ≤ 8 s on 2 cores, first visible token ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.base import LoadSettings
from pipelines.dialogue.request import DialogueRequest
from pipelines.dialogue.smollm import SmolLMBackend

MESSAGES = (
    "I failed my driving test again today and I feel awful.",
    "My dog died yesterday and I can't stop crying.",
    "I got the job! I'm so happy I could dance.",
)


def how_chosen(meta: dict[str, Any]) -> str:
    best = meta.get("best_of") or {}
    if best.get("fallback"):
        return "fallback"
    early = best.get("early") or {}
    return "early" if early.get("committed_on") == "first sentence" else "whole"


def turn_direct(backend: SmolLMBackend, req: DialogueRequest) -> dict[str, Any]:
    c0, t0 = time.process_time(), time.perf_counter()
    result = backend.run(req)
    return {
        "turn": time.perf_counter() - t0,
        "visible": result.metadata["first_visible_s"],
        "cpu": time.process_time() - c0,
        "meta": result.metadata,
    }


def turn_tab(dialogue: Any, req: DialogueRequest) -> dict[str, Any]:
    """One turn through the tab's generator, in a new conversation."""
    conv = dialogue.start(None, {}, "smollm")
    c0, t0 = time.process_time(), time.perf_counter()
    visible = cpu = 0.0
    meta: dict[str, Any] = {}
    for update in dialogue.send(conv.id, req.message, seed=req.seed, candidates=req.candidates):
        if update.partial and not visible:
            visible, cpu = time.perf_counter() - t0, time.process_time() - c0
        if update.generation is not None:
            meta = update.generation.metadata
    return {"turn": time.perf_counter() - t0, "visible": visible, "cpu": cpu, "meta": meta}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--direct", action="store_true", help="call the backend, not the tab")
    args = ap.parse_args()
    print(f"cpus {os.cpu_count()}, BLAS threads {args.threads}, load avg {os.getloadavg()}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.direct:
            backend = SmolLMBackend.load(LoadSettings(threads=args.threads))

            def run(req: DialogueRequest) -> dict[str, Any]:
                return turn_direct(backend, req)
        else:
            from studio.dialogue import Dialogue
            from studio.settings import Services, Settings

            services = Services.open(Settings(data_dir=Path(tmp) / "data"))
            dialogue = Dialogue(services)

            def run(req: DialogueRequest) -> dict[str, Any]:
                return turn_tab(dialogue, req)

        # What opening the Dialogue tab does: load, then the prompt head's state and the
        # understanding models' first call, in the background before the first message.
        if args.direct:
            backend.warm()
        else:
            prepared = services.generations.warm("dialogue", "smollm")
            if prepared is not None:
                prepared.result()
        print(f"load + warm-up (as opening the tab): {time.perf_counter() - t0:.2f} s")
        rows: list[dict[str, Any]] = []
        for message in MESSAGES:
            for seed in range(args.runs):
                r = run(DialogueRequest(message=message, candidates=args.n, seed=seed))
                rows.append(r)
                print(
                    f"  full turn {r['turn']:5.2f} s  first visible {r['visible']:5.2f} s "
                    f"(CPU {r['cpu']:5.2f} s)  first token {r['meta']['first_token_s']:.2f} s  "
                    f"{how_chosen(r['meta']):8s} | {message[:40]}"
                )
        if not args.direct:
            services.close()
    turns = [r["turn"] for r in rows]
    visible = [r["visible"] for r in rows]
    cpu = [r["cpu"] for r in rows]
    ttft = [r["meta"]["first_token_s"] for r in rows]
    ways = [how_chosen(r["meta"]) for r in rows]
    print(
        f"median over all (n={args.n}, {'backend' if args.direct else 'Dialogue tab'}): "
        f"full turn {statistics.median(turns):.2f} s (worst {max(turns):.2f}), first visible "
        f"{statistics.median(visible):.2f} s (worst {max(visible):.2f}; CPU "
        f"{statistics.median(cpu):.2f} s), first token {statistics.median(ttft):.2f} s; "
        + ", ".join(f"{w} {ways.count(w)}" for w in ("early", "whole", "fallback"))
    )
    print(f"load avg after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
