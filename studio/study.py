"""Studies in the studio: make one over a stimulus set (participant codes and their balanced,
seeded trial lists), import answers collected elsewhere (Prolific/jsPsych CSV), and the report
a paper needs (statistics from :mod:`pipelines.study.stats`)."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines.base import PipelineError, validate_seed
from pipelines.study import design as designs
from projects_db.studies import StudyInfo, TrialItems, TrialRow
from studio import study_report
from studio.settings import Services

MAX_PARTICIPANTS = 2000
TrialKey = int | tuple[int, ...]
"""A trial's item id, or the ids a multi-stimulus trial shows (in order)."""


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
        gold: Sequence[int] = (),
        compare: str | None = None,
        reference: str | None = None,
        anchor: str | None = None,
        ask: Sequence[str] = (),
    ) -> StudyInfo:
        """A study with ``participants`` codes, each with their own ordered trial list.

        ``gold``: set item numbers (1-based) with a known answer, shown to everyone as quality
        checks (not counted in the figures). A/B and MUSHRA trials show the ``compare`` factor's
        conditions of one content; a MUSHRA page also offers the ``reference`` condition as the
        labelled reference (and hides it among the others), ``anchor`` names the low anchor.
        ``ask``: extra 1-5 ratings on every trial (:data:`pipelines.study.design.ASK`)."""
        designs.check_design(design)
        extras = designs.check_ask(design, ask)
        seed = validate_seed(seed)
        if not 0 <= participants <= MAX_PARTICIPANTS:
            raise PipelineError(
                f"Participants must be 1 to {MAX_PARTICIPANTS}, got {participants}."
            )
        info = self.store.get_stimulus_set(set_id)
        included = [i for i in self.store.stimulus_items(set_id) if i.included]
        by_number = {i.position + 1: i for i in included}
        gold_items = []
        numbers = list(dict.fromkeys(int(n) for n in gold))
        for number in numbers:
            if number not in by_number:
                raise PipelineError(f"Gold item {number} is not an included item of the set.")
            item = by_number[number]
            gold_items.append((item.id, designs.gold_answer(design, item.factors)))
        gold_ids = {g for g, _ in gold_items}
        pool_items = [i for i in included if i.id not in gold_ids]
        config: dict[str, Any] = {
            "per_participant": per_participant, "participants": participants,
            "attention_rate": attention_rate, "gold": sorted(numbers),
            "ask": extras,
        }  # fmt: skip
        units: list[tuple[int, ...]] = [(i.id,) for i in pool_items]
        if design in designs.MULTI:
            factor = designs.compared_factor([i.factors for i in pool_items], compare)
            values, units = designs.comparison_units(
                [(i.id, i.factors) for i in pool_items], design, factor
            )
            for what, value in (("reference", reference), ("anchor", anchor)):
                if value is not None and design != "mushra":
                    raise PipelineError(f"A {what} condition belongs to MUSHRA studies.")
                if value is not None and value not in values:
                    raise PipelineError(
                        f"The {what} {value!r} is not a {factor} condition ({', '.join(values)})."
                    )
            config.update(compare=factor, conditions=values, reference=reference, anchor=anchor)
        elif compare or reference or anchor:
            raise PipelineError("compare, reference and anchor belong to A/B and MUSHRA studies.")
        pool = list(range(len(units)))
        # zero participants: a study whose answers will all be imported
        lists = designs.assign(pool, participants, per_participant, seed) if participants else []
        codes = [new_code() for _ in lists]
        ordered, checks = [], {}
        for code, lst in zip(codes, lists, strict=True):
            plain: list[tuple[TrialItems, Any]] = []
            for place, u in enumerate(designs.order(lst, seed, code)):
                unit = units[u]
                shown = designs.shown_order(unit, seed, code, place) if len(unit) > 1 else unit[0]
                plain.append((shown, None))
            golds = [((g, {"gold": answer}), answer) for g, answer in gold_items]
            with_gold, _ = designs.with_gold(plain, golds, seed, code)
            trials, attention = designs.with_attention_checks(
                with_gold, attention_rate, seed, code, design
            )
            ordered.append((code, [t for t, _ in trials]))
            checks[code] = {
                p: attention.get(p, mark)
                for p, (_, mark) in enumerate(trials)
                if p in attention or mark is not None
            }
        return self.store.create_study(
            set_id, name=name or f"{info.name} ({design})", design=design, seed=seed,
            config=config, participants=ordered, checks=checks,
        )  # fmt: skip

    def import_csv(self, study_id: int, path: Path) -> int:
        """Answers from a ``participant,item,response[,rt_ms]`` CSV (item = the set's item
        number, 1-based, as in the set's manifest). A row with one of the study's own participant
        codes answers that participant's trial; other participants are added as external ones;
        answers already given are kept. Returns the answers saved."""
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
        own = set(study.participant_codes)  # answers for the study's own participants (on paper)
        parsed: list[tuple[str, TrialKey, Any, int | None]] = []
        for n, row in enumerate(rows, start=2):
            try:
                shown = tuple(positions[int(p)] for p in str(row["item"]).split("|"))
            except (KeyError, ValueError):
                raise PipelineError(
                    f"{path.name} line {n}: no item {row['item']!r} in the set."
                ) from None
            item: TrialKey = shown if len(shown) > 1 else shown[0]
            raw: Any = row["response"]
            if study.design == "mushra" and len(shown) > 1:
                raw = str(raw).split(",")
            asked = study.config.get("ask") or []
            if asked:
                raw = {"answer": raw, **{k: row.get(k) for k in asked}}
            try:
                if study.design == "ab" and len(shown) != 2:
                    raise PipelineError("an A/B answer's item is a pair, e.g. 3|5 (B over A).")
                answer = designs.parse_response(study.design, raw, len(shown), asked)
            except PipelineError as exc:
                raise PipelineError(f"{path.name} line {n}: {exc}") from None
            rt = row.get("rt_ms") or None
            code = row["participant"].strip()
            person = code if code in own else f"{study.id}:{code}"
            parsed.append((person, item, answer, int(float(rt)) if rt else None))
        by_person: dict[str, list[tuple[TrialKey, Any, int | None]]] = defaultdict(list)
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
        report, images = self.report_and_plots(study_id)
        excluded = set(report["flagged"])
        answers = io.StringIO()
        writer = csv.writer(answers)
        asked = list(study.config.get("ask") or [])
        writer.writerow(["participant", "trial", "item", "factors", "response", *asked, "rt_ms",
                         "played_ms", "excluded"])  # fmt: skip
        items = {i.id: i for i in self.store.stimulus_items(study.set_id)}
        for r in rows:
            shown = r.shown or (r.item_id,)
            factors = [items[i].factors for i in shown]
            writer.writerow([
                r.participant, r.position + 1, "|".join(str(items[i].position + 1) for i in shown),
                json.dumps(factors if r.shown else factors[0], ensure_ascii=False, sort_keys=True),
                "" if r.response is None else answer_text(designs.main_answer(r.response)),
                *(r.response.get(k, "") if isinstance(r.response, dict) else "" for k in asked),
                r.rt_ms or "",
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
            for name, png in images.items():
                zf.writestr(f"plots/{name}", png)
        os.replace(tmp, target)
        return sum(r.response is not None for r in rows)

    def import_zip(self, study_id: int, path: Path) -> int:
        """The answers of an exported study (its ``answers.csv``) into ``study_id``."""
        try:
            with zipfile.ZipFile(path) as zf:
                text = zf.read("answers.csv").decode("utf-8")
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise PipelineError(f"{path.name} is not a study export ({exc}).") from None
        # the participants the report excluded stay out, so the figures come out the same
        rows = [
            r for r in csv.DictReader(io.StringIO(text))
            if r["response"] != "" and r.get("excluded") != "true"
        ]  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            flat = Path(tmp) / f"{path.stem}.csv"
            with flat.open("w", newline="", encoding="utf-8") as handle:
                out = csv.writer(handle)
                extra = [k for k in designs.ASK.get(self.store.get_study(study_id).design, {})
                         if k in (rows[0] if rows else {})]  # fmt: skip
                out.writerow(["participant", "item", "response", "rt_ms", *extra])
                out.writerows([r["participant"], r["item"], r["response"], r["rt_ms"],
                               *(r[k] for k in extra)] for r in rows)  # fmt: skip
            return self.import_csv(study_id, flat)

    def _trials_by_item(self, study_id: int, person: str) -> dict[TrialKey, TrialRow]:
        rows = self.store.study_rows(study_id, person)
        # not the attention checks and gold items
        return {r.shown or r.item_id: r for r in rows if r.check is None}

    def report(self, study_id: int) -> dict[str, Any]:
        """The study's figures as JSON-able data."""
        return self.report_and_plots(study_id)[0]

    def report_and_plots(self, study_id: int) -> tuple[dict[str, Any], dict[str, bytes]]:
        """The figures and their plots (file name → PNG)."""
        study = self.store.get_study(study_id)
        items = {i.id: i for i in self.store.stimulus_items(study.set_id)}
        return study_report.build(study, self.store.study_rows(study_id), items)


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
