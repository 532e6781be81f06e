"""Would a person accept the bundled model's replies? The strict rubric over our 88 everyday
messages (tests/pipelines/dialogue/everyday.py): the tuning part, the held-out part and the
fresh held-out part apart.

.venv/bin/python benchmarks/dialogue_replies.py [--part tuning|held-out|fresh|all] [--n 4]
    [--show 10] [--json out.json] [--threads 1]   (--show: exchanges of the held-out part)

Per part: strict pass rate, cut-offs (incomplete last sentence), leaks (third person "the
user" or scaffold/prompt words), cheering at bad news (by the set's own bad-news flag),
ungrounded replies, emotion read back ≠ plan, fallbacks used; how the reply was chosen (early
on a first sentence, a whole reply, the fallback) and how often a chosen reply's second
sentence was left out; and timings: median and worst full turn, and the time to the first
visible reply text — when the turn first reports reply text to show (the stage the Dialogue
tab streams), else the end of the turn (the tab then reveals the finished reply) — in wall
seconds and in process CPU seconds (the cores are shared: on an idle machine they agree).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.base import LoadSettings, ProgressFn
from pipelines.dialogue.judge import cheers, judge
from pipelines.dialogue.request import STREAM_STAGE, DialogueRequest
from pipelines.dialogue.smollm import SmolLMBackend
from pipelines.dialogue.transition import plan_reply
from pipelines.dialogue.understand import EmotionReader
from tests.pipelines.dialogue.everyday import FRESH, FRESH2, HELD_OUT, TUNING


def rejudge(reader: EmotionReader, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of an earlier run judged again by the current strict rubric (no generation)."""
    traits = DialogueRequest().traits
    out = []
    for r in rows:
        u = reader.read(r["message"])
        plan = plan_reply(None, u.vad, traits, u.label)
        v = judge(message=r["message"], reply=r["reply"], understanding=u, plan=plan, reader=reader)
        cheer = r["bad_news"] and cheers(r["reply"], v.read_back_sentiment, v.read_back)
        out.append({**r, "verdict": v.to_dict(), "cheer": cheer, "planned": plan.ed_label})
    return out


def first_shown(c0: float, t0: float) -> tuple[list[float], ProgressFn]:
    """A progress callback that notes (wall, CPU) seconds when reply text is first shown."""
    shown: list[float] = []

    def progress(_fraction: float, stage: str) -> None:
        text = stage[len(STREAM_STAGE) :].strip() if stage.startswith(STREAM_STAGE) else ""
        if text and not shown:
            shown.extend((time.perf_counter() - t0, time.process_time() - c0))

    return shown, progress


def run_part(
    backend: SmolLMBackend, items: tuple[tuple[str, str, bool], ...], extra: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = []
    for i, (message, label, bad) in enumerate(items):
        req = DialogueRequest(message=message, seed=i, **extra)
        c0, t0 = time.process_time(), time.perf_counter()
        shown, progress = first_shown(c0, t0)
        result = backend.run(req, progress=progress)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        first, first_cpu = shown or (wall, cpu)
        u = backend.reader.read(message)
        plan = plan_reply(None, u.vad, req.traits, u.label)
        v = judge(
            message=message, reply=result.reply, understanding=u, plan=plan, reader=backend.reader
        )
        meta = result.metadata
        best = meta.get("best_of", {})
        early = best.get("early") or {}
        how = "fallback" if best.get("fallback") else early.get("committed_on") or "whole"
        rows.append({
            "message": message,
            "label": label,
            "bad_news": bad,
            "reply": result.reply,
            "planned": plan.ed_label,
            "detected": u.label,
            "verdict": v.to_dict(),
            "cheer": bad and cheers(result.reply, v.read_back_sentiment, v.read_back),
            "fallback": bool(meta.get("best_of", {}).get("fallback", False)),
            "wall_s": round(wall, 3),
            "first_visible_s": round(first, 3),
            "first_visible_cpu_s": round(first_cpu, 3),
            "chosen_by": how,
            "tail_dropped": bool(early.get("dropped_tail")),
        })  # fmt: skip
    return rows


def summary(name: str, rows: list[dict[str, Any]]) -> str:
    n = len(rows)

    def count(check: str) -> int:
        return sum(not r["verdict"]["checks"][check] for r in rows)

    passed = sum(r["verdict"]["passed"] for r in rows)
    leaks = sum(
        not (r["verdict"]["checks"]["second_person"] and r["verdict"]["checks"]["no_scaffold"])
        for r in rows
    )
    walls = [r["wall_s"] for r in rows]
    firsts = [r["first_visible_s"] for r in rows]
    cpus = [r.get("first_visible_cpu_s", 0.0) for r in rows]
    ways = [r.get("chosen_by", "whole") for r in rows]
    fast = sum(f <= 1.5 for f in firsts)
    return (
        f"{name:9s} n={n:2d}  pass {passed}/{n} = {passed / n:.0%}  cut-offs {count('complete')}  "
        f"leaks {leaks}  cheering at bad news {sum(r['cheer'] for r in rows)}  "
        f"ungrounded {count('grounded')}  emotion≠plan {count('emotion')}  "
        f"loops {count('no_loops')}  fallbacks {sum(r['fallback'] for r in rows)}\n"
        f"{'':9s} chosen: first sentence {ways.count('first sentence')}, whole reply "
        f"{ways.count('whole reply') + ways.count('whole')}, fallback {ways.count('fallback')}; "
        f"second sentence left out {sum(r.get('tail_dropped', False) for r in rows)}\n"
        f"{'':9s} full turn median {statistics.median(walls):.2f} s, worst {max(walls):.2f} s; "
        f"first visible token median {statistics.median(firsts):.2f} s (CPU "
        f"{statistics.median(cpus):.2f} s), worst {max(firsts):.2f} s, ≤ 1.5 s: {fast}/{n}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--part", choices=("tuning", "held-out", "fresh", "fresh2", "all"), default="all"
    )
    ap.add_argument("--n", type=int, default=None, help="candidates per turn (backend default)")
    ap.add_argument("--show", type=int, default=0, help="print this many exchanges verbatim")
    ap.add_argument("--json", type=Path, default=None, help="write every row here")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rejudge", type=Path, default=None, help="judge an earlier --json again")
    args = ap.parse_args()
    if args.rejudge:
        reader = EmotionReader.load()
        earlier = json.loads(args.rejudge.read_text())
        again = {name: rejudge(reader, rows) for name, rows in earlier.items()}
        for name, rows in again.items():
            print(summary(name, rows))
        print(summary("all", [r for rows in again.values() for r in rows]))
        return 0
    backend = SmolLMBackend.load(LoadSettings(threads=args.threads))
    backend.warm()  # as opening the Dialogue tab does, before the first message
    print(f"cpus {os.cpu_count()}, BLAS threads {args.threads}, load avg {os.getloadavg()}")
    extra: dict[str, Any] = {} if args.n is None else {"candidates": args.n}
    parts = {"tuning": TUNING, "held-out": HELD_OUT, "fresh": FRESH, "fresh2": FRESH2}
    chosen = (
        {k: v for k, v in parts.items() if k != "fresh2"}
        if args.part == "all"
        else {args.part: parts[args.part]}
    )
    results = {name: run_part(backend, items, extra) for name, items in chosen.items()}
    for name, rows in results.items():
        print(summary(name, rows))
    if len(results) > 1:
        print(summary("all", [r for rows in results.values() for r in rows]))
    print(f"load avg after: {os.getloadavg()}")
    pool = results.get("held-out") or [r for rows in results.values() for r in rows]
    shown = pool[:: max(1, len(pool) // max(1, args.show))]  # held-out exchanges when run
    for r in shown[: args.show]:
        ok = "PASS" if r["verdict"]["passed"] else "FAIL " + ", ".join(r["verdict"]["notes"])
        print(f"\n> {r['message']}\n< {r['reply']}\n  [{r['planned']}; {ok}]")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
