"""Best-of-n that shows its choice early: candidates are judged sentence by sentence while
they are written, and the first whose opening sentence passes the strict judge is chosen.

The candidates are decoded in lockstep. When one completes its first sentence, the strict
judge (:func:`pipelines.dialogue.judge.judge`) looks at that sentence alone, as a reply:

* it passes → commit: that candidate is chosen (of several at the same step, the best
  score), the others stop writing, and the sentence is shown at once;
* it fails a check that no later sentence can mend (third person, scaffold, assistant
  talk, loops, parroting, cheering or condolence, a fragment) → that candidate stops;
* it fails only checks a second sentence can mend (:data:`MENDABLE`: grounded, empathic,
  the read-back emotion, length) → it writes on, and its whole reply is judged when done;
  if it then passes, it is chosen and shown whole.

After the commit, the chosen candidate writes on alone; its next sentence is shown only if
the reply with it still passes the strict judge in full and the sentence follows well
(:func:`~pipelines.dialogue.judge.follows_well`; the same holds for the second sentence of a
reply judged whole), else the reply ends after the first sentence (said in the metadata).
Nothing shown is ever taken back: every text shown passed the judge. When no candidate is
chosen this way, the caller judges the finished replies as before (the best passing one,
else the grounded fallback).

**The bridge.** Given an ``opener`` (the grounded fallback's first sentence: the person's own
words reflected in the planned emotion), a turn that has chosen nothing by step
:data:`BRIDGE_STEP` — or whose candidates all failed before it — shows the opener at once
(when it passes the judge on its own) and stops the candidates. The generator then writes a
second round of candidates that continue after the opener (one sentence each); the first
whose sentence follows well (:func:`~pipelines.dialogue.judge.follows_well`) and makes
``opener + sentence`` pass is chosen. If none does, the caller's grounded fallback starts
with the same opener, so again nothing shown is taken back. The step count, not the clock,
decides, so a seed gives the same reply on any machine.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipelines.dialogue.judge import Verdict, follows_well, judge
from pipelines.dialogue.parse import clean
from pipelines.dialogue.sampling import Progress
from pipelines.dialogue.transition import ReplyPlan
from pipelines.dialogue.understand import EmotionReader, Understanding

MENDABLE = frozenset({"grounded", "empathic", "emotion", "length"})
"""Checks a first sentence may fail and the whole reply still pass (a second sentence can
name the cause, acknowledge the feeling, shift the read-back, or add words)."""
_FIRST_END = re.compile(r"(?<!\.)[.!?][\"')\]]*(?=\s|$)")

BRIDGE_STEP = 12
"""Decoding steps after which a turn with no choice shows the opener (tuned on the tuning
messages so that the opener shows within about 1.5 s on two cores)."""

ShowFn = Callable[[str], None]
"""Called with the whole text to show so far (it only ever grows)."""


def first_sentence(text: str) -> str:
    """The text up to its first sentence end ("" when it has none yet)."""
    m = _FIRST_END.search(text)
    return text[: m.end()] if m else ""


@dataclass
class EarlyChoice:
    """The early-commit state of one turn (fed by the decoder after every step)."""

    message: str
    understanding: Understanding
    plan: ReplyPlan
    reader: EmotionReader
    show: ShowFn
    chosen: int | None = None
    shown: str = ""
    """What the person sees of the chosen reply (every version of it passed the judge)."""
    verdict: Verdict | None = None
    """The strict verdict on ``shown``."""
    shown_at: float = 0.0
    """``time.perf_counter()`` when text was first shown."""
    committed_step: int = 0
    committed_on: str = ""
    """"first sentence" or "whole reply" (a candidate that wrote on and passed whole)."""
    dropped_tail: str = ""
    """A later sentence of the chosen candidate left out because the reply with it failed."""
    dropped_tail_fails: tuple[str, ...] = ()
    first_verdicts: dict[int, Verdict] = field(default_factory=dict)
    """Each candidate's first sentence's verdict, by candidate index."""
    pending: set[int] = field(default_factory=set)
    """Candidates whose first sentence failed only mendable checks: they write on."""
    stopped: set[int] = field(default_factory=set)
    """Candidates stopped because their first sentence failed for good."""
    opener: str = ""
    """The grounded opener the bridge may show ("" = no bridge)."""
    bridge_step: int = BRIDGE_STEP
    bridged_at: int = 0
    """The step of the first round at which the opener was shown (0 = not bridged)."""
    first_round: list[str] = field(default_factory=list)
    """The first round's candidate texts, when bridged (for the record)."""

    def _judge(self, reply: str) -> Verdict:
        return judge(
            message=self.message,
            reply=reply,
            understanding=self.understanding,
            plan=self.plan,
            reader=self.reader,
        )

    @property
    def bridged(self) -> bool:
        """The opener is shown: the candidates now written continue after it."""
        return self.bridged_at > 0

    def step(self, step: int, views: list[Progress]) -> frozenset[int]:
        """Judge what the step completed; the candidates that should go on writing."""
        if self.bridged:
            return self._after_opener(step, views)
        if self.chosen is None:
            self._choose(step, views)
        if self.chosen is not None:
            for v in views:
                if v.index == self.chosen and v.stopped:
                    self._finish(clean(v.text))
            return frozenset({self.chosen})
        writing = frozenset(v.index for v in views if not v.stopped and v.index not in self.stopped)
        if self.opener and (step >= self.bridge_step or not writing) and self._bridge(step):
            return frozenset()
        return writing

    def _bridge(self, step: int) -> bool:
        """Show the opener if it passes alone; then the first round stops."""
        verdict = self._judge(self.opener)
        if not verdict.passed:
            self.opener = ""  # never shown: the turn goes on as without a bridge
            return False
        self.bridged_at = step
        self.stopped.clear()
        self.pending.clear()
        self._set(self.opener, verdict)
        return True

    def _after_opener(self, step: int, views: list[Progress]) -> frozenset[int]:
        """Second round: each candidate's first sentence is judged after the opener."""
        if self.chosen is None:
            ready: list[tuple[int, str, Verdict]] = []
            for v in views:
                if v.index in self.stopped:
                    continue
                text = clean(v.text)
                sentence = text if v.stopped else first_sentence(text)
                if not sentence:
                    continue
                whole = f"{self.opener} {sentence}"
                verdict = self._judge(whole)
                if verdict.passed and follows_well(sentence):
                    ready.append((v.index, whole, verdict))
                else:
                    self.stopped.add(v.index)
            if ready:
                index, whole, verdict = max(ready, key=lambda r: (r[2].score, -r[0]))
                self.chosen, self.committed_step = index, step
                self.committed_on = "after the opener"
                self._set(whole, verdict)
        if self.chosen is not None:
            return frozenset()
        return frozenset(v.index for v in views if not v.stopped and v.index not in self.stopped)

    def _choose(self, step: int, views: list[Progress]) -> None:
        ready: list[tuple[int, str, Verdict, str]] = []
        for v in views:
            if v.index in self.stopped:
                continue
            if v.index in self.pending:
                if v.stopped:  # written to its end: judge the whole reply
                    whole = clean(v.text)
                    verdict = self._judge(whole)
                    later = whole[len(first_sentence(whole)) :].strip()
                    if verdict.passed and (not later or follows_well(later)):
                        ready.append((v.index, whole, verdict, "whole reply"))
                    self.pending.discard(v.index)
                    self.stopped.add(v.index)
                continue
            text = clean(v.text)
            first = text if v.stopped else first_sentence(text)
            if not first:
                continue
            verdict = self._judge(first)
            self.first_verdicts[v.index] = verdict
            failed = {k for k, ok in verdict.checks.items() if not ok}
            if not failed:
                ready.append((v.index, first, verdict, "first sentence"))
            elif failed <= MENDABLE and not v.stopped:
                self.pending.add(v.index)
            else:
                self.stopped.add(v.index)
        if ready:
            index, text, verdict, how = max(ready, key=lambda r: (r[2].score, -r[0]))
            self.chosen, self.committed_step, self.committed_on = index, step, how
            self._set(text, verdict)

    def _set(self, text: str, verdict: Verdict) -> None:
        self.shown, self.verdict = text, verdict
        if not self.shown_at:
            self.shown_at = time.perf_counter()
        self.show(text)

    def _finish(self, whole: str) -> None:
        """The chosen candidate stopped: keep its later sentences only if the whole passes."""
        if whole == self.shown:
            return
        tail = whole[len(self.shown) :]
        if whole.startswith(self.shown) and tail[:1].isspace():
            verdict = self._judge(whole)
            if verdict.passed and follows_well(tail):
                self._set(whole, verdict)
                return
            fails = tuple(k for k, ok in verdict.checks.items() if not ok)
            self.dropped_tail_fails = fails or ("does not follow well",)
        else:
            self.dropped_tail_fails = ("not a new sentence",)
        self.dropped_tail = tail.strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "committed_at_token": self.committed_step,
            "committed_on": self.committed_on,
            "first_sentence_passed": [
                i for i, v in sorted(self.first_verdicts.items()) if v.passed
            ],
            "dropped_tail": self.dropped_tail,
            "dropped_tail_fails": list(self.dropped_tail_fails),
            "opener_shown_at_token": self.bridged_at,
            "first_round": self.first_round,
        }
