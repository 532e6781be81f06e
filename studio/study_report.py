"""A study's report: quality control (attention checks, gold items, MUSHRA's hidden-reference
screening) and each design's statistics (:mod:`pipelines.study.stats`), as JSON-able data,
plus its plots as PNG bytes."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pipelines.emotion import EMOTIONS, EmotionError, EmotionSpec
from pipelines.study import design as designs
from pipelines.study import plots, stats
from pipelines.voice.measure import wer
from projects_db.stimuli import StimulusItemInfo
from projects_db.studies import StudyInfo, TrialRow

GOLD_MAX_FAIL = 0.25
"""A participant who gets more than this share of the gold items wrong is flagged."""
HIDDEN_REFERENCE_MIN, HIDDEN_REFERENCE_MAX_MISS = 90.0, 0.15
"""MUSHRA post-screening (ITU-R BS.1534-3): flag an assessor who rates the hidden reference
below 90 on more than 15 % of the pages."""
SCALES = {"mos": (1.0, 5.0), "ab": (-3.0, 3.0), "mushra": (0.0, 100.0)}


@dataclass(frozen=True)
class Rating:
    """One participant's answer about one item (a MUSHRA page gives one per condition)."""

    participant: str
    item: int
    value: Any
    row: TrialRow


def build(
    study: StudyInfo, rows: list[TrialRow], items: Mapping[int, StimulusItemInfo]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The report and its plots (file name → PNG)."""
    full = [r for r in rows if r.response is not None]
    answered = [replace(r, response=designs.main_answer(r.response)) for r in full]
    reasons = _flags(study, answered, items)
    kept = [r for r in answered if r.check is None and r.participant not in reasons]
    out: dict[str, Any] = {
        "study": {"id": study.id, "name": study.name, "design": study.design,
                  "set_id": study.set_id},
        "participants": len({r.participant for r in kept}),
        "answers": len(kept),
        "attention_checks": sum(_is_attention(r) for r in answered),
        "gold_checks": sum(designs.is_gold(r.check) for r in answered),
        "excluded_participants": len(reasons),
        "flagged": sorted(reasons),
        "flag_reasons": {p: reasons[p] for p in sorted(reasons)},
        "progress": _progress(rows),
    }  # fmt: skip
    builder = {
        "emotion-id": _emotion_id, "mos": _mos, "ab": _ab, "mushra": _mushra, "va": _va,
        "transcribe": _transcribe,
    }[study.design]  # fmt: skip
    figures, images = builder(study, kept, items)
    out.update(figures)
    asked = study.config.get("ask") or []
    if asked:
        out["ratings"] = _extra_ratings(
            [r for r in full if r.check is None and r.participant not in reasons], asked
        )
    return clean(out), images


def _extra_ratings(rows: list[TrialRow], asked: list[str]) -> dict[str, Any]:
    """The extra 1-5 ratings (intensity, confidence, emotion strength) per condition."""
    out: dict[str, Any] = {}
    for key in asked:
        groups: dict[str, list[float]] = defaultdict(list)
        for r in rows:
            if isinstance(r.response, dict) and key in r.response:
                groups[condition(r)].append(float(r.response[key]))
                groups["all"].append(float(r.response[key]))
        out[key] = _mean_cells(groups, 1.0, 5.0)
    return out


def _is_attention(row: TrialRow) -> bool:
    return row.check is not None and not designs.is_gold(row.check)


def _flags(
    study: StudyInfo, answered: list[TrialRow], items: Mapping[int, StimulusItemInfo]
) -> dict[str, list[str]]:
    reasons: dict[str, list[str]] = defaultdict(list)
    gold: dict[str, list[bool]] = defaultdict(list)
    for r in answered:
        failed = _is_attention(r) and not designs.passed_check(study.design, r.check, r.response)
        if failed and "failed an attention check" not in reasons[r.participant]:
            reasons[r.participant].append("failed an attention check")
        if designs.is_gold(r.check):
            gold[r.participant].append(designs.passed_check(study.design, r.check, r.response))
    for person, results in gold.items():
        wrong = results.count(False)
        if wrong > GOLD_MAX_FAIL * len(results):
            reasons[person].append(f"{wrong} of {len(results)} gold items wrong")
    reference = study.config.get("reference")
    if study.design == "mushra" and reference is not None:
        factor = study.config["compare"]
        pages: dict[str, list[bool]] = defaultdict(list)
        for rating in _ratings([r for r in answered if r.check is None]):
            if str(items[rating.item].factors.get(factor)) == reference:
                pages[rating.participant].append(float(rating.value) < HIDDEN_REFERENCE_MIN)
        for person, misses in pages.items():
            if sum(misses) > HIDDEN_REFERENCE_MAX_MISS * len(misses):
                reasons[person].append(
                    f"rated the hidden reference below {HIDDEN_REFERENCE_MIN:g} on "
                    f"{sum(misses)} of {len(misses)} pages"
                )
    return {p: v for p, v in reasons.items() if v}


def _progress(rows: list[TrialRow]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        cell = out.setdefault(r.participant, {"answered": 0, "trials": 0})
        cell["trials"] += 1
        cell["answered"] += r.response is not None
    return out


def condition(row: TrialRow | None, factors: Mapping[str, Any] | None = None) -> str:
    """The condition an answer belongs to: the item's factor values, without text and seed."""
    values = factors if factors is not None else (row.factors if row else {})
    keep = {k: v for k, v in sorted(values.items()) if k not in ("text", "seed")}
    return ", ".join(f"{k}={v}" for k, v in keep.items()) or "all"


def _ratings(rows: list[TrialRow]) -> list[Rating]:
    """Per-item answers: a MUSHRA page's list of scores is split over the items it showed."""
    out = []
    for r in rows:
        if r.shown is not None and isinstance(r.response, list):
            out += [
                Rating(r.participant, i, v, r) for i, v in zip(r.shown, r.response, strict=True)
            ]
        else:
            out.append(Rating(r.participant, r.item_id, r.response, r))
    return out


def _emotion_id(
    study: StudyInfo, rows: list[TrialRow], items: Mapping[int, StimulusItemInfo]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    labels = list(designs.ID_CHOICES)
    scored = [(designs.truth_of(r.factors), str(r.response), r) for r in rows]
    scored = [(t, a, r) for t, a, r in scored if t is not None]
    matrix = stats.confusion([t for t, _, _ in scored], [a for _, a, _ in scored], labels)
    correct, n = int(np.trace(matrix)), int(matrix.sum())
    hu = stats.unbiased_hit_rates(matrix)
    per_item: dict[int, list[str]] = defaultdict(list)
    for _t, answer, r in scored:
        per_item[r.item_id].append(answer)
    counts = np.array([[votes.count(lab) for lab in labels] for votes in per_item.values()])
    kappa = _fleiss_on_modal(counts)
    coded = _reliability(_ratings(rows), lambda v: float(labels.index(str(v))))
    per_condition: dict[str, dict[str, float]] = defaultdict(lambda: {"correct": 0, "n": 0})
    for truth, answer, r in scored:
        cell = per_condition[condition(r)]
        cell["n"] += 1
        cell["correct"] += int(answer == truth)
    figures = {
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
    return figures, {"confusion.png": plots.confusion_png(matrix, labels)}


def _mean_cells(groups: Mapping[str, list[float]], low: float, high: float) -> dict[str, Any]:
    cells = {}
    for name, votes in sorted(groups.items()):
        m = stats.mos(votes, low, high)
        cells[name] = {"mean": m.mean, "ci95": list(m.ci95), "n": m.n, "sd": m.sd,
                       "ci_clipped": m.clipped}  # fmt: skip
    return cells


def _mos(
    study: StudyInfo, rows: list[TrialRow], items: Mapping[int, StimulusItemInfo]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    low, high = SCALES["mos"]
    groups: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        groups[condition(r)].append(float(r.response))
    cells = _mean_cells(groups, low, high)
    coded = _reliability(_ratings(rows), float)
    alpha = stats.krippendorff_alpha(coded, "interval") if coded.size else None
    image = plots.means_png(cells, low, high, "MOS per condition (95 % CI)")
    return {"conditions": cells, "krippendorff_alpha": alpha}, {"mos.png": image}


def _value_of(study: StudyInfo, items: Mapping[int, StimulusItemInfo], item: int) -> str:
    return str(items[item].factors.get(study.config["compare"]))


def _ab(
    study: StudyInfo, rows: list[TrialRow], items: Mapping[int, StimulusItemInfo]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Preference of the later condition (in the set's order) over the earlier one, −3..+3:
    the page's answer is B over A as shown, so a pair shown the other way round is negated."""
    order = list(study.config["conditions"])
    prefs: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r.shown is None or len(r.shown) != 2:
            continue
        a, b = (_value_of(study, items, i) for i in r.shown)
        value = float(r.response)
        if order.index(a) > order.index(b):
            a, b, value = b, a, -value
        prefs[f"{b} vs {a}"].append(value)
    cells = _mean_cells(prefs, *SCALES["ab"])
    for name, votes in prefs.items():
        cells[name].update(prefer_later=sum(v > 0 for v in votes),
                           prefer_earlier=sum(v < 0 for v in votes),
                           ties=sum(v == 0 for v in votes))  # fmt: skip
    tests = _wilcoxon({k: (v, [0.0] * len(v)) for k, v in prefs.items()})
    image = plots.means_png(cells, *SCALES["ab"], "Preference, later vs earlier (95 % CI)")
    return {"conditions": cells, "wilcoxon": tests, "compare": study.config["compare"]}, {
        "preference.png": image
    }


def _mushra(
    study: StudyInfo, rows: list[TrialRow], items: Mapping[int, StimulusItemInfo]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    low, high = SCALES["mushra"]
    ratings = _ratings(rows)
    groups: dict[str, list[float]] = defaultdict(list)
    paired: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for rating in ratings:
        value = _value_of(study, items, rating.item)
        groups[value].append(float(rating.value))
        rest = condition(None, {k: v for k, v in items[rating.item].factors.items()
                                if k != study.config["compare"]})  # fmt: skip
        rest += "|" + str(items[rating.item].factors.get("text"))
        paired[(rating.participant, rest)][value] = float(rating.value)
    order = [v for v in study.config["conditions"] if v in groups]
    pairs = {}
    for i, a in enumerate(order):
        for b in order[i + 1 :]:
            both = [(cell[a], cell[b]) for cell in paired.values() if a in cell and b in cell]
            pairs[f"{a} vs {b}"] = ([x for x, _ in both], [y for _, y in both])
    cells = _mean_cells(groups, low, high)
    coded = _reliability(ratings, float)
    figures = {
        "conditions": {k: cells[k] for k in order},
        "wilcoxon": _wilcoxon(pairs),
        "krippendorff_alpha": stats.krippendorff_alpha(coded, "interval") if coded.size else None,
        "compare": study.config["compare"],
        "reference": study.config.get("reference"),
        "anchor": study.config.get("anchor"),
    }
    image = plots.means_png({k: cells[k] for k in order}, low, high, "MUSHRA (95 % CI)")
    return figures, {"mushra.png": image}


def _wilcoxon(pairs: Mapping[str, tuple[list[float], list[float]]]) -> dict[str, Any]:
    """Paired Wilcoxon tests, Holm-corrected; a comparison without any non-zero difference
    has no test (reported with p = None)."""
    testable = {k: v for k, v in pairs.items() if any(a != b for a, b in zip(*v, strict=True))}
    out: dict[str, Any] = {k: {"p": None, "p_holm": None, "n": len(v[0])} for k, v in pairs.items()}
    if testable:
        out.update(stats.wilcoxon_holm(testable))
    return out


def requested_va(factors: Mapping[str, Any]) -> tuple[float, float] | None:
    """The valence and arousal an item was made to express (its emotion factor's VAD)."""
    value = factors.get("emotion")
    if not isinstance(value, str):
        return None
    try:
        v, a, _d = EmotionSpec.parse(value).vad()
    except EmotionError:
        return None
    return float(v), float(a)


def _va(
    study: StudyInfo, rows: list[TrialRow], items: Mapping[int, StimulusItemInfo]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    ratings = _ratings(rows)
    figures: dict[str, Any] = {}
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    requested: dict[str, tuple[float, float]] = {}
    for rating in ratings:
        name = condition(rating.row)
        points[name].append((float(rating.value[0]), float(rating.value[1])))
        target = requested_va(rating.row.factors)
        if target is not None:
            requested[name] = target
    cells: dict[str, Any] = {}
    for name, pts in sorted(points.items()):
        arr = np.array(pts)
        v, a = stats.mos(arr[:, 0], -1, 1), stats.mos(arr[:, 1], -1, 1)
        cells[name] = {
            "mean": [v.mean, a.mean], "ci95": {"valence": list(v.ci95), "arousal": list(a.ci95)},
            "n": v.n, "requested": list(requested[name]) if name in requested else None,
        }  # fmt: skip
    figures["conditions"] = cells
    for k, dim in enumerate(("valence", "arousal")):
        coded = _reliability(ratings, lambda value, k=k: float(value[k]))
        rest = [c for c in stats.ccc_each_vs_rest(coded) if not math.isnan(c)] if coded.size else []
        pairs = [(r.value[k], requested_va(r.row.factors)) for r in ratings]
        given = [(float(x), t[k]) for x, t in pairs if t is not None]
        figures[f"ccc_{dim}"] = {
            "raters_vs_rest": float(np.mean(rest)) if rest else None,
            "per_rater": rest,
            "vs_requested": stats.ccc(*zip(*given, strict=True)) if len(given) > 1 else None,
            "krippendorff_alpha": stats.krippendorff_alpha(coded, "interval")
            if coded.size
            else None,
        }
    return figures, {"va.png": plots.va_png(points, requested)}


def _transcribe(
    study: StudyInfo, rows: list[TrialRow], items: Mapping[int, StimulusItemInfo]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    per_item: dict[int, list[float]] = defaultdict(list)
    groups: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        text = r.factors.get("text")
        if not isinstance(text, str):
            continue
        error = wer(text, str(r.response))
        per_item[r.item_id].append(error)
        groups[condition(r)].append(error)
    items_out = {
        str(items[i].position + 1): {"wer": float(np.mean(v)), "n": len(v)}
        for i, v in sorted(per_item.items())
    }
    everything = [e for v in per_item.values() for e in v]
    cells = {k: {"wer": float(np.mean(v)), "n": len(v)} for k, v in sorted(groups.items())}
    bars = {k: {"mean": v["wer"] * 100, "n": v["n"]} for k, v in cells.items()}
    figures = {"wer": float(np.mean(everything)) if everything else None, "items": items_out,
               "conditions": cells}  # fmt: skip
    return figures, {"wer.png": plots.means_png(bars, 0, 100, "Word error rate, % (per condition)")}


def _reliability(ratings: list[Rating], code: Callable[[Any], float]) -> np.ndarray:
    """A raters × items array of coded answers (NaN where a rater did not rate an item)."""
    people = sorted({r.participant for r in ratings})
    rated = sorted({r.item for r in ratings})
    if len(people) < 2 or len(rated) < 2:
        return np.empty((0, 0))
    pi = {p: i for i, p in enumerate(people)}
    ii = {it: j for j, it in enumerate(rated)}
    data = np.full((len(people), len(rated)), np.nan)
    for r in ratings:
        data[pi[r.participant], ii[r.item]] = code(r.value)
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


def clean(value: Any) -> Any:
    """NaN → None, NumPy scalars → Python, for JSON."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
