"""Studies in the studio: make one over a stimulus set (participant codes and their balanced,
seeded trial lists), import answers collected elsewhere (Prolific/jsPsych CSV), and the report
a paper needs (statistics from :mod:`pipelines.study.stats`)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import secrets
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import PipelineError, validate_seed
from pipelines.emotion import EMOTIONS
from pipelines.study import design as designs
from pipelines.study import stats
from projects_db.studies import StudyInfo, TrialRow
from studio.settings import Services

MAX_PARTICIPANTS = 2000


def new_code() -> str:
    """A participant code: their only credential, so hard to guess (and easy to read out)."""
    return "-".join(secrets.token_hex(3) for _ in range(3))


class Studies:
    """Studies of one studio (no per-user state)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store

    def create(
        self,
        set_id: int,
        design: str,
        participants: int,
        *,
        per_participant: int | None = None,
        seed: int = 0,
        name: str = "",
        attention_rate: float = 0.0,
    ) -> StudyInfo:
        """A study with ``participants`` codes, each with their own ordered trial list."""
        designs.check_design(design)
        seed = validate_seed(seed)
        if not 0 <= participants <= MAX_PARTICIPANTS:
            raise PipelineError(
                f"Participants must be 1 to {MAX_PARTICIPANTS}, got {participants}."
            )
        info = self.store.get_stimulus_set(set_id)
        items = [i.id for i in self.store.stimulus_items(set_id) if i.included]
        # zero participants: a study whose answers will all be imported
        lists = designs.assign(items, participants, per_participant, seed) if participants else []
        codes = [new_code() for _ in lists]
        config = {"per_participant": per_participant, "participants": participants,
                  "attention_rate": attention_rate}  # fmt: skip
        ordered, checks = [], {}
        for code, lst in zip(codes, lists, strict=True):
            trials, expected = designs.with_attention_checks(
                designs.order(lst, seed, code), attention_rate, seed, code, design
            )
            ordered.append((code, trials))
            checks[code] = expected
        return self.store.create_study(
            set_id, name=name or f"{info.name} ({design})", design=design, seed=seed,
            config=config, participants=ordered, checks=checks,
        )  # fmt: skip

    def import_csv(self, study_id: int, path: Path) -> int:
        """Answers from a ``participant,item,response[,rt_ms]`` CSV (item = the set's item
        number, 1-based, as in the set's manifest). Unknown participants are added as
        external ones; answers already given are kept. Returns the answers saved."""
        study = self.store.get_study(study_id)
        positions = {i.position + 1: i.id for i in self.store.stimulus_items(study.set_id)}
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise PipelineError(f"Cannot read {path.name}: {exc}.") from None
        reader = csv.DictReader(io.StringIO(text))
        missing = {"participant", "item", "response"} - set(reader.fieldnames or [])
        if missing:
            raise PipelineError(
                f"{path.name} needs the columns participant,item,response (missing: "
                f"{', '.join(sorted(missing))})."
            )
        rows = list(reader)
        parsed: list[tuple[str, int, Any, int | None]] = []
        for n, row in enumerate(rows, start=2):
            try:
                item = positions[int(row["item"])]
            except (KeyError, ValueError):
                raise PipelineError(
                    f"{path.name} line {n}: no item {row['item']!r} in the set."
                ) from None
            try:
                answer = designs.parse_answer(study.design, row["response"])
            except PipelineError as exc:
                raise PipelineError(f"{path.name} line {n}: {exc}") from None
            rt = row.get("rt_ms") or None
            parsed.append((f"{study.id}:{row['participant'].strip()}", item, answer,
                           int(float(rt)) if rt else None))  # fmt: skip
        by_person: dict[str, list[tuple[int, Any, int | None]]] = defaultdict(list)
        for person, item, answer, rt in parsed:
            by_person[person].append((item, answer, rt))
        saved = 0
        for person, answers in by_person.items():
            known = self._trials_by_item(study_id, person)
            if not known:
                self.store.add_participant(study_id, person, [a[0] for a in answers], external=True)
                known = self._trials_by_item(study_id, person)
            for item, answer, rt in answers:
                if item in known:
                    saved += self.store.answer_trial(known[item].trial_id, answer, rt)
        return saved

    def export_zip(self, study_id: int, target: Path) -> int:
        """A ZIP with ``answers.csv`` (one row per trial: participant, trial, item, factors,
        response, rt_ms, played_ms, excluded), ``soft_labels.csv`` (emotion-id), ``report.json``
        and ``manifest.json`` (seed, design, versions). :meth:`import_zip` on a study over the
        same set reproduces the report. Returns the number of answers."""
        study = self.store.get_study(study_id)
        rows = [r for r in self.store.study_rows(study_id) if r.check is None]
        report = self.report(study_id)
        excluded = set(report["flagged"])
        answers = io.StringIO()
        writer = csv.writer(answers)
        writer.writerow(["participant", "trial", "item", "factors", "response", "rt_ms",
                         "played_ms", "excluded"])  # fmt: skip
        for r in rows:
            writer.writerow([
                r.participant, r.position + 1, r.item_position + 1,
                json.dumps(r.factors, ensure_ascii=False, sort_keys=True),
                "" if r.response is None else answer_text(r.response), r.rt_ms or "",
                r.played_ms or "", "true" if r.participant in excluded else "false",
            ])  # fmt: skip
        manifest = {
            "study": study.id, "name": study.name, "design": study.design, "seed": study.seed,
            "set_id": study.set_id, "config": study.config, "participants": study.participant_codes,
            "exclusions": sorted(excluded), "versions": _versions(),
        }  # fmt: skip
        tmp = target.with_name(f".{target.name}.partial")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("answers.csv", answers.getvalue())
            zf.writestr("report.json", json.dumps(report, indent=2, ensure_ascii=False))
            zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
            if "soft_labels" in report:
                zf.writestr("soft_labels.csv", _soft_label_csv(report))
        os.replace(tmp, target)
        return sum(r.response is not None for r in rows)

    def import_zip(self, study_id: int, path: Path) -> int:
        """The answers of an exported study (its ``answers.csv``) into ``study_id``."""
        try:
            with zipfile.ZipFile(path) as zf:
                text = zf.read("answers.csv").decode("utf-8")
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise PipelineError(f"{path.name} is not a study export ({exc}).") from None
        rows = [r for r in csv.DictReader(io.StringIO(text)) if r["response"] != ""]
        with tempfile.TemporaryDirectory() as tmp:
            flat = Path(tmp) / f"{path.stem}.csv"
            with flat.open("w", newline="", encoding="utf-8") as handle:
                out = csv.writer(handle)
                out.writerow(["participant", "item", "response", "rt_ms"])
                out.writerows([r["participant"], r["item"], r["response"], r["rt_ms"]]
                              for r in rows)  # fmt: skip
            return self.import_csv(study_id, flat)

    def _trials_by_item(self, study_id: int, person: str) -> dict[int, TrialRow]:
        rows = self.store.study_rows(study_id, person)
        return {r.item_id: r for r in rows if r.check is None}  # not the attention checks

    def report(self, study_id: int) -> dict[str, Any]:
        """The study's figures as JSON-able data."""
        study = self.store.get_study(study_id)
        answered = [r for r in self.store.study_rows(study_id) if r.response is not None]
        flagged = sorted({
            r.participant for r in answered
            if r.check is not None and not designs.passed_check(study.design, r.check, r.response)
        })  # fmt: skip
        rows = [r for r in answered if r.check is None and r.participant not in flagged]
        out: dict[str, Any] = {
            "study": {"id": study.id, "name": study.name, "design": study.design,
                      "set_id": study.set_id},
            "participants": len({r.participant for r in rows}),
            "answers": len(rows),
            "attention_checks": sum(r.check is not None for r in answered),
            "excluded_participants": len(flagged),
            "flagged": flagged,
        }  # fmt: skip
        if study.design == "emotion-id":
            out.update(_emotion_id(rows))
        elif study.design in ("mos", "ab", "mushra"):
            out.update(_ratings(rows, study.design))
        return _clean(out)


def answer_text(response: Any) -> str:
    """An answer as the import CSV writes it ("v,a" for a valence-arousal point)."""
    if isinstance(response, list):
        return ",".join(f"{v:g}" for v in response)
    if isinstance(response, float) and response.is_integer():
        return str(int(response))
    return str(response)


def _soft_label_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    labels = report["labels"]
    writer.writerow(["item_id", "n", "majority", "agreement", "pairwise_agreement", *labels])
    for item, soft in report["soft_labels"].items():
        writer.writerow([item, soft["n"], soft["majority"], soft["agreement"],
                         soft["pairwise_agreement"], *soft["distribution"]])  # fmt: skip
    return out.getvalue()


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in ("affect-studio", "numpy", "scipy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def condition(row: TrialRow) -> str:
    """The condition an answer belongs to: the item's factor values, without text and seed."""
    keep = {k: v for k, v in sorted(row.factors.items()) if k not in ("text", "seed")}
    return ", ".join(f"{k}={v}" for k, v in keep.items()) or "all"


def _emotion_id(rows: list[TrialRow]) -> dict[str, Any]:
    labels = list(designs.ID_CHOICES)
    scored = [(designs.truth_of(r.factors), str(r.response), r) for r in rows]
    scored = [(t, a, r) for t, a, r in scored if t is not None]
    matrix = stats.confusion([t for t, _, _ in scored], [a for _, a, _ in scored], labels)
    correct = int(np.trace(matrix))
    n = int(matrix.sum())
    hu = stats.unbiased_hit_rates(matrix)
    per_item: dict[int, list[str]] = defaultdict(list)
    for _t, answer, r in scored:
        per_item[r.item_id].append(answer)
    counts = np.array([[votes.count(lab) for lab in labels] for votes in per_item.values()])
    kappa = _fleiss_on_modal(counts)
    coded = _reliability(rows, lambda v: float(labels.index(str(v))))
    per_condition: dict[str, dict[str, float]] = defaultdict(lambda: {"correct": 0, "n": 0})
    for truth, answer, r in scored:
        cell = per_condition[condition(r)]
        cell["n"] += 1
        cell["correct"] += int(answer == truth)
    return {
        "accuracy": correct / n if n else None,
        "chance": 1 / len(labels),
        "binomial_p": stats.binomial_vs_chance(correct, n, 1 / len(labels)),
        "labels": labels,
        "confusion": matrix.tolist(),
        "unbiased_hit_rate": {lab: hu[i] for i, lab in enumerate(labels) if lab in EMOTIONS},
        "fleiss_kappa": kappa[0],
        "fleiss_items": kappa[1],
        "krippendorff_alpha": stats.krippendorff_alpha(coded, "nominal") if coded.size else None,
        "conditions": {
            k: {"accuracy": v["correct"] / v["n"], "n": v["n"]}
            for k, v in sorted(per_condition.items())
        },
        "soft_labels": {
            str(item): stats.soft_labels(votes, labels) for item, votes in per_item.items()
        },
    }


def _ratings(rows: list[TrialRow], design: str) -> dict[str, Any]:
    low, high = {"mos": (1, 5), "ab": (-3, 3), "mushra": (0, 100)}[design]
    groups: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        groups[condition(r)].append(float(r.response))
    conditions = {}
    for name, votes in sorted(groups.items()):
        m = stats.mos(votes, low, high)
        conditions[name] = {"mean": m.mean, "ci95": list(m.ci95), "n": m.n, "sd": m.sd,
                            "ci_clipped": m.clipped}  # fmt: skip
    coded = _reliability(rows, float)
    alpha = stats.krippendorff_alpha(coded, "interval") if coded.size else None
    return {"conditions": conditions, "krippendorff_alpha": alpha}


def _reliability(rows: list[TrialRow], code: Any) -> np.ndarray:
    """A raters × items array of coded answers (NaN where a rater did not rate an item)."""
    people = sorted({r.participant for r in rows})
    items = sorted({r.item_id for r in rows})
    if len(people) < 2 or len(items) < 2:
        return np.empty((0, 0))
    pi = {p: i for i, p in enumerate(people)}
    ii = {it: j for j, it in enumerate(items)}
    data = np.full((len(people), len(items)), np.nan)
    for r in rows:
        data[pi[r.participant], ii[r.item_id]] = code(r.response)
    return data


def _fleiss_on_modal(counts: np.ndarray) -> tuple[float | None, int]:
    """Fleiss' κ over the items that have the most common number of ratings (κ needs equal
    numbers; balanced lists give r or r + 1), and how many items that was."""
    if counts.size == 0:
        return None, 0
    totals = counts.sum(axis=1)
    values, freq = np.unique(totals, return_counts=True)
    modal = values[np.argmax(freq)]
    table = counts[totals == modal]
    if modal < 2 or len(table) < 2:
        return None, len(table)
    return stats.fleiss_kappa(table), len(table)


def _clean(value: Any) -> Any:
    """NaN → None, NumPy scalars → Python, for JSON."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
