"""Studies: balanced, seeded trial lists; answers imported from a CSV; the report's figures
(checked against the krippendorff package and statsmodels); bad files refused with the line."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from scipy.stats import wilcoxon
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss
from studio_server import cli

from pipelines.base import PipelineError
from pipelines.study import design
from projects_db.stimuli import NewItem
from studio.settings import Services, Settings
from studio.study import Studies

EMOS = ["happy", "sad", "angry", "neutral"]


def test_lists_are_balanced_private_and_stable() -> None:
    items = list(range(100, 110))
    lists = design.assign(items, participants=7, per_participant=4, seed=3)
    assert all(len(set(lst)) == 4 for lst in lists)  # nobody rates an item twice
    counts = Counter(i for lst in lists for i in lst)
    assert set(counts) == set(items) and max(counts.values()) - min(counts.values()) <= 1
    a = design.order(lists[0], 3, "abc-def")
    assert a == design.order(lists[0], 3, "abc-def") and sorted(a) == sorted(lists[0])
    orders = {tuple(design.order(items, 3, f"p{i}")) for i in range(6)}
    assert len(orders) > 1  # different participants, different orders
    with pytest.raises(PipelineError, match="1 to 10"):
        design.assign(items, 2, 11, 0)


def _set(services: Services, factors: list[dict]) -> int:
    pid = services.store.create_project("study").id
    items = [NewItem(i, f, {"text": "x", **f}, 0) for i, f in enumerate(factors)]
    made = services.store.create_stimulus_set(
        pid, name="grid", task="voice", backend="piper", spec={"factors": {}}, items=items
    )
    return made.id


def test_emotion_identification_report(tmp_path: Path) -> None:
    answers = {  # rater → answer per item 1..4 (intended: happy, sad, angry, neutral)
        "r1": ["happy", "sad", "angry", "neutral"],
        "r2": ["happy", "sad", "disgusted", "neutral"],
        "r3": ["surprised", "sad", "angry", "sad"],
    }
    csv_file = tmp_path / "prolific.csv"
    csv_file.write_text("participant,item,response,rt_ms\n" + "".join(
        f"{r},{i + 1},{a},{900 + i}\n" for r, row in answers.items() for i, a in enumerate(row)
    ))  # fmt: skip
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        set_id = _set(services, [{"emotion": e} for e in EMOS])
        studies = Studies(services)
        made = studies.create(set_id, "emotion-id", 2, seed=5)
        assert len(made.participant_codes) == 2 and len(made.participant_codes[0]) == 20
        rows = services.store.study_rows(made.id, made.participant_codes[0])
        assert sorted(r.item_position for r in rows) == [0, 1, 2, 3]
        happy_item = next(r for r in rows if r.item_position == 0)
        assert services.store.answer_trial(happy_item.trial_id, "happy", 1200)
        assert not services.store.answer_trial(happy_item.trial_id, "sad", 10)  # first one stays
        assert studies.import_csv(made.id, csv_file) == 12
        assert studies.import_csv(made.id, csv_file) == 0  # nothing twice
        report = studies.report(made.id)
    assert report["participants"] == 4 and report["answers"] == 13
    imported = [a for row in answers.values() for a in row]
    truth = EMOS * 3
    correct = sum(a == t for a, t in zip(imported, truth, strict=True)) + 1  # + in-house
    assert report["accuracy"] == pytest.approx(correct / 13)
    assert report["binomial_p"] < 0.01
    # Fleiss' kappa needs equal counts: one item has a 4th answer (the in-house participant's
    # first trial), so kappa is over the other three, which the external raters all rated
    labels = design.ID_CHOICES
    coded = np.array([[labels.index(a) for a in row] for row in answers.values()], dtype=float)
    others = [c for i, c in enumerate(coded.T) if i != happy_item.item_position]
    table = np.array([[list(col).count(k) for k in range(len(labels))] for col in others])
    assert report["fleiss_kappa"] == pytest.approx(sm_fleiss(table), abs=1e-6)
    assert report["fleiss_items"] == 3
    assert report["krippendorff_alpha"] is not None
    assert report["unbiased_hit_rate"]["sad"] == pytest.approx(9 / (3 * 4))
    assert report["conditions"]["emotion=sad"] == {"accuracy": 1.0, "n": 3}


def test_mos_report_and_cli(tmp_path: Path) -> None:
    votes = {"a": [5, 4, 2, 1], "b": [4, 4, 1, 2], "c": [5, 3, 2, 2]}
    csv_file = tmp_path / "mos.csv"
    csv_file.write_text("participant,item,response\n" + "".join(
        f"{p},{i + 1},{v}\n" for p, row in votes.items() for i, v in enumerate(row)
    ))  # fmt: skip
    data = tmp_path / "data"
    with Services.open(Settings(data_dir=data)) as services:
        set_id = _set(services, [{"accent": a, "emotion": "happy"} for a in ("us", "rp")]
                      + [{"accent": a, "emotion": "sad"} for a in ("us", "rp")])  # fmt: skip
        study = Studies(services).create(set_id, "mos", 1, seed=1)
    assert "Saved 12 answer(s)" in cli(data, "study", "import", str(study.id), str(csv_file)).stdout
    report = json.loads(cli(data, "study", "report", str(study.id), "--json").stdout)
    cell = report["conditions"]["accent=us, emotion=happy"]
    assert cell["n"] == 3 and cell["mean"] == pytest.approx(14 / 3)
    lo, hi = cell["ci95"]
    assert lo < 14 / 3 < hi <= 5.0
    matrix = np.array(list(votes.values()), dtype=float)
    want = krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval")
    assert report["krippendorff_alpha"] == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("who,item,response\nx,1,happy\n", "needs the columns participant,item,response"),
        ("participant,item,response\nx,9,happy\n", "line 2: no item '9'"),
        ("participant,item,response\nx,1,happy\nx,2,elated\n", "line 3: Answer 'elated'"),
    ],
)
def test_bad_answer_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "answers.csv"
    bad.write_text(text)
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        set_id = _set(services, [{"emotion": e} for e in EMOS])
        studies = Studies(services)
        study = studies.create(set_id, "emotion-id", 1)
        with pytest.raises(PipelineError, match=message):
            studies.import_csv(study.id, bad)
        assert studies.report(study.id)["answers"] == 0  # nothing half-imported


def test_export_then_reimport_reproduces_the_report(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Services.open(Settings(data_dir=data)) as services:
        set_id = _set(services, [{"emotion": e} for e in EMOS])
        studies = Studies(services)
        study = studies.create(set_id, "emotion-id", 3, per_participant=3, seed=4)
        picks = ["happy", "sad", "sad", "angry", "neutral", "happy", "fearful", "sad", "happy"]
        rows = [r for c in study.participant_codes for r in services.store.study_rows(study.id, c)]
        for row, pick in zip(rows, picks, strict=True):
            services.store.answer_trial(row.trial_id, pick, 800, 2000)
        original = studies.report(study.id)
    zpath = tmp_path / "study.zip"
    assert "Exported 9 answer(s)" in cli(data, "study", "export", str(study.id), "-o",
                                         str(zpath)).stdout  # fmt: skip
    with zipfile.ZipFile(zpath) as zf:
        assert set(zf.namelist()) == {"answers.csv", "report.json", "manifest.json",
                                      "soft_labels.csv", "plots/confusion.png"}  # fmt: skip
        assert zf.read("plots/confusion.png").startswith(b"\x89PNG")
        assert json.loads(zf.read("manifest.json"))["seed"] == 4
        assert len(zf.read("answers.csv").decode().strip().splitlines()) == 10
    fresh = json.loads(cli(data, "study", "create", "--stimuli", str(set_id), "--design",
                           "emotion-id", "--participants", "0", "--json").stdout)  # fmt: skip
    new_id = fresh["study"]["id"]
    assert "Saved 9 answer(s)" in cli(data, "study", "import", str(new_id), str(zpath)).stdout
    again = json.loads(cli(data, "study", "report", str(new_id), "--json").stdout)
    skip = {"study", "soft_labels", "progress"}  # progress: per participant code
    assert {k: v for k, v in again.items() if k not in skip} == {
        k: v for k, v in original.items() if k not in skip
    }
    assert list(again["soft_labels"].values()) == list(original["soft_labels"].values())


def test_study_tab_shows_the_headline_figures(tmp_path: Path) -> None:
    from studio.study_tab import links, report_markdown

    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        set_id = _set(services, [{"emotion": e} for e in EMOS])
        studies = Studies(services)
        study = studies.create(set_id, "mos", 2, seed=1)
        for code, vote in zip(study.participant_codes, (4, 2), strict=True):
            for row in services.store.study_rows(study.id, code):
                services.store.answer_trial(row.trial_id, float(vote))
        text = report_markdown(studies.report(study.id))
    assert "8 answers from 2 participants" in text
    assert "emotion=happy: MOS 3.00 [" in text and "(n=2)" in text
    assert links("http://lab:7860/", ["abc"]) == [["abc", "http://lab:7860/study/abc"]]


def test_attention_checks_flag_and_exclude(tmp_path: Path) -> None:
    trials, checks = design.with_attention_checks([1, 2, 3, 4], 0.25, 7, "p1", "emotion-id")
    assert len(trials) == 5 and list(checks.values()) == ["other"]
    assert (trials, checks) == design.with_attention_checks([1, 2, 3, 4], 0.25, 7, "p1",
                                                            "emotion-id")  # fmt: skip
    assert sorted(t for i, t in enumerate(trials) if i not in checks) == [1, 2, 3, 4]
    with pytest.raises(PipelineError, match=r"0 to 0\.5"):
        design.with_attention_checks([1], 0.9, 0, "p", "mos")
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        set_id = _set(services, [{"emotion": e} for e in EMOS])
        studies = Studies(services)
        study = studies.create(set_id, "emotion-id", 2, seed=3, attention_rate=0.25)
        careful, careless = study.participant_codes
        for code in (careful, careless):
            for row in services.store.study_rows(study.id, code):
                answer = "other" if row.check is not None and code == careful else "sad"
                services.store.answer_trial(row.trial_id, answer)
        report = studies.report(study.id)
    assert report["attention_checks"] == 2
    assert report["excluded_participants"] == 1 and report["flagged"] == [careless]
    assert report["participants"] == 1 and report["answers"] == 4  # the careful one's trials
    assert report["accuracy"] == pytest.approx(1 / 4)  # "sad" was right once


def _answer_all(services: Services, study_id: int, pick: object) -> None:
    """Answer every trial of every participant with ``pick(code, row)``."""
    for code in services.store.get_study(study_id).participant_codes:
        for row in services.store.study_rows(study_id, code):
            services.store.answer_trial(row.trial_id, pick(code, row))  # type: ignore[operator]


def test_ab_pairs_are_counterbalanced_and_sign_corrected(tmp_path: Path) -> None:
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        factors = [{"backend": b, "text": t} for t in ("one", "two", "three") for b in ("x", "y")]
        set_id = _set(services, factors)
        studies = Studies(services)
        with pytest.raises(PipelineError, match="MUSHRA"):
            studies.create(set_id, "ab", 2, reference="x")
        study = studies.create(set_id, "ab", 6, seed=5)  # the varying factor: backend
        assert study.config["compare"] == "backend" and study.config["conditions"] == ["x", "y"]
        items = {i.id: i.factors for i in services.store.stimulus_items(set_id)}
        rows = services.store.study_rows(study.id)
        assert all(r.shown and len(r.shown) == 2 for r in rows) and len(rows) == 18
        assert all(items[r.shown[0]]["text"] == items[r.shown[1]]["text"] for r in rows)
        firsts = Counter(items[r.shown[0]]["backend"] for r in rows)
        assert firsts["x"] > 0 and firsts["y"] > 0  # A is sometimes x, sometimes y
        # every participant prefers y (B over A = +2 when B is y, -2 when B is x) ...
        _answer_all(
            services, study.id, lambda c, r: 2.0 if items[r.shown[1]]["backend"] == "y" else -2.0
        )
        report = studies.report(study.id)
    cell = report["conditions"]["y vs x"]
    assert cell["mean"] == 2.0 and cell["n"] == 18 and cell["prefer_later"] == 18
    test = report["wilcoxon"]["y vs x"]  # ... which scipy's Wilcoxon finds significant
    assert test["p"] == pytest.approx(wilcoxon([2.0] * 18).pvalue, abs=1e-9) and test["p"] < 1e-3


def test_mushra_pages_report_and_screen_by_hidden_reference(tmp_path: Path) -> None:
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        factors = [
            {"cond": c, "text": t} for t in ("a", "b", "c", "d") for c in ("ref", "mid", "low")
        ]
        set_id = _set(services, factors)
        studies = Studies(services)
        with pytest.raises(PipelineError, match="not a cond condition"):
            studies.create(set_id, "mushra", 1, reference="nope")
        study = studies.create(set_id, "mushra", 4, seed=2, reference="ref", anchor="low")
        items = {i.id: i.factors for i in services.store.stimulus_items(set_id)}
        rows = services.store.study_rows(study.id)
        assert len(rows) == 16 and all(len(r.shown or ()) == 3 for r in rows)
        scores = {"ref": 95.0, "mid": 60.0, "low": 20.0}
        careless = study.participant_codes[-1]

        def pick(code: str, row: object) -> list[float]:
            shown = [items[i]["cond"] for i in row.shown]  # type: ignore[attr-defined]
            if code == careless:  # rates the hidden reference as bad on every page
                return [10.0 if c == "ref" else 50.0 for c in shown]
            return [scores[c] + (sum(map(ord, code + c)) % 7) for c in shown]  # type: ignore[attr-defined]

        _answer_all(services, study.id, pick)
        report = studies.report(study.id)
        mid = [
            v
            for r in services.store.study_rows(study.id)
            if r.participant != careless and r.shown
            for i, v in zip(r.shown, r.response, strict=True)
            if items[i]["cond"] == "mid"
        ]
    assert (
        report["flagged"] == [careless]
        and "hidden reference" in report["flag_reasons"][careless][0]
    )
    assert list(report["conditions"]) == ["ref", "mid", "low"]
    assert report["conditions"]["mid"]["mean"] == pytest.approx(np.mean(mid))
    assert report["conditions"]["mid"]["n"] == 12
    assert report["wilcoxon"]["ref vs low"]["p_holm"] < 0.01


def test_va_ccc_against_raters_and_the_requested_points(tmp_path: Path) -> None:
    from pipelines.emotion import EmotionSpec
    from pipelines.study.stats import ccc

    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        set_id = _set(services, [{"emotion": e} for e in EMOS])
        studies = Studies(services)
        study = studies.create(set_id, "va", 3, seed=1)
        rng = np.random.default_rng(0)
        target = {e: EmotionSpec.parse(e).vad()[:2] for e in EMOS}
        given: list[tuple[float, float]] = []

        def pick(code: str, row: object) -> list[float]:
            v, a = (float(np.clip(x + rng.normal(0, 0.15), -1, 1))
                    for x in target[row.factors["emotion"]])  # type: ignore[attr-defined]  # fmt: skip
            given.append((v, target[row.factors["emotion"]][0]))  # type: ignore[attr-defined]
            return [v, a]

        _answer_all(services, study.id, pick)
        report = studies.report(study.id)
    assert report["ccc_valence"]["vs_requested"] == pytest.approx(
        ccc(*zip(*given, strict=True)), abs=1e-9
    )
    assert report["ccc_valence"]["vs_requested"] > 0.8
    assert report["ccc_valence"]["raters_vs_rest"] > 0.7
    happy = report["conditions"]["emotion=happy"]
    assert happy["n"] == 3 and happy["requested"] == pytest.approx(list(target["happy"]))


def test_transcription_wer_per_item_and_gold_items(tmp_path: Path) -> None:
    texts = ["the cat sat on the mat", "please call me back", "it is raining again today"]
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        set_id = _set(services, [{"text": t} for t in texts])
        studies = Studies(services)
        with pytest.raises(PipelineError, match="Gold items need a known answer"):
            studies.create(set_id, "mos", 2, gold=[1])
        study = studies.create(set_id, "transcribe", 2, seed=3, gold=[3])
        good, bad = study.participant_codes
        rows = services.store.study_rows(study.id, good)
        assert len(rows) == 3 and sum(r.check is not None for r in rows) == 1  # 2 items + gold

        def pick(code: str, row: object) -> str:
            text = row.factors["text"]  # type: ignore[attr-defined]
            if code == bad and row.check is not None:  # type: ignore[attr-defined]
                return "something else entirely"
            return text.replace("cat", "hat") if code == good else text

        _answer_all(services, study.id, pick)
        report = studies.report(study.id)
    assert report["flagged"] == [bad] and report["gold_checks"] == 2
    assert report["items"]["1"] == {"wer": pytest.approx(1 / 6), "n": 1}  # one word of six
    assert report["items"]["2"] == {"wer": 0.0, "n": 1} and "3" not in report["items"]


def test_cli_comparison_study_links_and_pair_import(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Services.open(Settings(data_dir=data)) as services:
        set_id = _set(services, [{"accent": a, "emotion": e} for e in ("happy", "sad")
                                 for a in ("us", "rp")])  # fmt: skip
    args = ["study", "create", "--stimuli", str(set_id), "--design", "ab", "--participants", "2"]
    vague = cli(data, *args, check=False)
    assert vague.returncode != 0 and "Say which factor" in vague.stderr
    made = json.loads(cli(data, *args, "--compare", "accent", "--json").stdout)
    assert made["study"]["config"]["conditions"] == ["us", "rp"]
    assert [p["url"] for p in made["participants"]] == [
        f"http://127.0.0.1:7860/study/{p['code']}" for p in made["participants"]
    ]
    answers = tmp_path / "ab.csv"  # items 1|2: A = us, B = rp (happy); 4|3: A = rp, B = us (sad)
    answers.write_text("participant,item,response\nx,1|2,3\nx,4|3,-1\ny,1|2,1\ny,4|3,-3\n")
    study = str(made["study"]["id"])
    assert "Saved 4 answer(s)" in cli(data, "study", "import", study, str(answers)).stdout
    report = json.loads(cli(data, "study", "report", study, "--json").stdout)
    assert report["conditions"]["rp vs us"]["mean"] == pytest.approx((3 + 1 + 1 + 3) / 4)


def test_extra_ratings_intensity_and_confidence(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Services.open(Settings(data_dir=data)) as services:
        set_id = _set(services, [{"emotion": e} for e in EMOS])
        studies = Studies(services)
        with pytest.raises(PipelineError, match="cannot also ask strength"):
            studies.create(set_id, "emotion-id", 1, ask=["strength"])
        study = studies.create(set_id, "emotion-id", 2, seed=1, ask=["intensity", "confidence"])
        with pytest.raises(PipelineError, match="Rate confidence from 1 to 5"):
            design.parse_response("emotion-id", {"answer": "sad", "intensity": 3}, 1,
                                  ["intensity", "confidence"])  # fmt: skip
        for n, code in enumerate(study.participant_codes):
            for row in services.store.study_rows(study.id, code):
                answer = design.parse_response(
                    "emotion-id", {"answer": row.factors["emotion"], "intensity": 2 + n,
                                   "confidence": "5"}, 1, ["intensity", "confidence"],
                )  # fmt: skip
                services.store.answer_trial(row.trial_id, answer)
        report = studies.report(study.id)
        assert report["accuracy"] == 1.0
        assert report["ratings"]["intensity"]["all"]["mean"] == 2.5
        sad = report["ratings"]["confidence"]["emotion=sad"]
        assert (sad["mean"], sad["n"], sad["ci95"]) == (5.0, 2, [5.0, 5.0])
        studies.export_zip(study.id, tmp_path / "s.zip")
        again = studies.create(set_id, "emotion-id", 0, ask=["intensity", "confidence"])
        assert studies.import_zip(again.id, tmp_path / "s.zip") == 8
        assert studies.report(again.id)["ratings"] == report["ratings"]


def test_answers_of_the_studys_own_participants_go_to_their_trials(tmp_path: Path) -> None:
    """Answers collected on paper for the study's own participants (their codes in the CSV)
    fill those participants' trials instead of adding new external participants."""
    with Services.open(Settings(data_dir=tmp_path / "data")) as services:
        studies = Studies(services)
        made = studies.create(
            _set(services, [{"emotion": e} for e in EMOS]), "emotion-id", 2, seed=5
        )
        own = made.participant_codes[1]
        rows = services.store.study_rows(made.id, own)
        paper = tmp_path / "paper.csv"
        paper.write_text(
            "participant,item,response\n"
            + "".join(f"{own},{r.item_position + 1},sad\n" for r in rows)
            + "outsider,1,happy\n"
        )
        assert studies.import_csv(made.id, paper) == len(rows) + 1
        assert all(r.response is not None for r in services.store.study_rows(made.id, own))
        assert len(services.store.get_study(made.id).participant_codes) == 3  # + the outsider
        assert studies.report(made.id)["participants"] == 2  # own + outsider answered
