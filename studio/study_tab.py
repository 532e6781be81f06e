"""Study tab (researchers): make a study over a stimulus set, hand out the participant links,
import answers collected elsewhere, and read the report."""

from __future__ import annotations

import io
import json
from typing import Any

import gradio as gr

from pipelines.study.design import ASK, DESIGNS
from studio.stimuli import Stimuli
from studio.stimuli_tab import set_choices
from studio.study import Studies
from studio.ui import USER_ERRORS, TabContext, md_escape, problem


def links(base: str, codes: list[str]) -> list[list[str]]:
    return [[code, f"{base.rstrip('/')}/study/{code}"] for code in codes]


def report_markdown(report: dict[str, Any]) -> str:
    """The headline figures of a report as Markdown (the full JSON is shown beside it)."""
    design = report["study"]["design"]
    lines = [f"**{md_escape(report['study']['name'])}** — {report['answers']} answers from "
             f"{report['participants']} participants."]  # fmt: skip
    if report.get("excluded_participants"):
        lines.append(f"- Excluded by quality control: {report['excluded_participants']}")
    for key, title in (
        ("accuracy", "Accuracy"),
        ("fleiss_kappa", "Fleiss' κ"),
        ("krippendorff_alpha", "Krippendorff's α"),
        ("binomial_p", "p vs chance"),
        ("wer", "Word error rate"),
    ):
        if report.get(key) is not None:
            lines.append(f"- {title}: {report[key]:.3g}")
    for dim in ("valence", "arousal"):
        cell = report.get(f"ccc_{dim}") or {}
        if cell.get("vs_requested") is not None:
            lines.append(f"- CCC {dim} vs requested: {cell['vs_requested']:.3f}")
    what = {"mos": "MOS", "mushra": "score", "ab": "preference"}.get(design, "")
    tests = report.get("wilcoxon", {})
    for name, cell in report.get("conditions", {}).items():
        label = md_escape(name)
        if isinstance(cell.get("mean"), int | float):
            lo, hi = cell["ci95"]
            ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None else ""
            lines.append(f"- {label}: {what} {cell['mean']:.2f}{ci} (n={cell['n']})")
        elif isinstance(cell.get("mean"), list) and cell["mean"][0] is not None:
            v, a = cell["mean"]
            lines.append(f"- {label}: valence {v:.2f}, arousal {a:.2f} (n={cell['n']})")
        elif "accuracy" in cell:
            lines.append(f"- {label}: {cell['accuracy']:.0%} correct (n={cell['n']})")
        elif "wer" in cell:
            lines.append(f"- {label}: WER {cell['wer']:.1%} (n={cell['n']})")
    for name, test in tests.items():
        if test.get("p_holm") is not None:
            lines.append(f"- Wilcoxon {md_escape(name)}: p = {test['p_holm']:.3g} (Holm)")
    return "\n".join(lines)


def plot_images(images: dict[str, bytes]) -> list[tuple[Any, str]]:
    """The report's PNG plots as gallery entries (decoded images, captioned)."""
    from PIL import Image

    out = []
    for name, png in images.items():
        img = Image.open(io.BytesIO(png))
        img.load()
        out.append((img, name.removesuffix(".png")))
    return out


def progress_rows(report: dict[str, Any]) -> list[list[Any]]:
    """One row per participant: answered, trials, and whether the report excludes them."""
    flagged = report.get("flag_reasons", {})
    return [
        [code, cell["answered"], cell["trials"], "; ".join(flagged.get(code, [])) or "no"]
        for code, cell in report.get("progress", {}).items()
    ]


def build_tab(ctx: TabContext) -> None:
    studies, stimuli = Studies(ctx.services), Stimuli(ctx.services)
    with gr.Tab("Study", id="study"):
        gr.Markdown(
            "A **study** shows each participant their own, seeded order of a stimulus set's items "
            "on a page opened with their code alone (blind: no file names or conditions), saves "
            "every answer at once, and reports the statistics."
        )
        status = gr.Markdown(elem_id="study-status")
        with gr.Row():
            chosen_set = gr.Dropdown(label="Stimulus set", choices=[], elem_id="study-set")
            design = gr.Dropdown(list(DESIGNS), value="emotion-id", label="Design")
            people = gr.Number(value=10, precision=0, minimum=1, label="Participants")
            per = gr.Number(value=0, precision=0, minimum=0, label="Items each (0 = all)")
            seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
        with gr.Row():
            attention = gr.Slider(0, 0.5, value=0.0, step=0.05, label="Attention-check rate")
            gold = gr.Textbox(
                label="Gold items (item numbers, e.g. 3,7)",
                value="",
                info="emotion-id / transcribe: known answers; >25 % wrong = excluded",
            )
            compare = gr.Textbox(
                label="Compare factor (A/B, MUSHRA)",
                value="",
                info="empty: the one factor that varies",
            )
            reference = gr.Textbox(label="MUSHRA reference condition", value="")
            anchor = gr.Textbox(label="MUSHRA anchor condition", value="")
            ask = gr.CheckboxGroup(
                sorted({k for extra in ASK.values() for k in extra}), label="Also ask (1-5)",
                info="emotion-id: intensity, confidence; mos: strength (emotion-strength MOS)",
            )  # fmt: skip
        create = gr.Button("Create the study", variant="primary", elem_id="study-create")
        table = gr.Dataframe(headers=["code", "link"], value=[], interactive=False,
                             label="Participant links (the code is their only key)",
                             elem_id="study-links")  # fmt: skip
        with gr.Row():
            chosen = gr.Dropdown(label="Study", choices=[], elem_id="study-pick")
            upload = gr.File(label="Import answers (participant,item,response CSV)",
                             file_types=[".csv"])  # fmt: skip
            refresh = gr.Button("Report", elem_id="study-report")
        summary = gr.Markdown(elem_id="study-summary")
        with gr.Row():
            gallery = gr.Gallery(label="Plots", columns=2, height=460, object_fit="contain",
                                 elem_id="study-plots")  # fmt: skip
            progress = gr.Dataframe(headers=["participant", "answered", "trials", "excluded"],
                                    value=[], interactive=False, label="Progress")  # fmt: skip
        full = gr.JSON(label="Report")

        def study_choices(set_id: int | None) -> list[tuple[str, int]]:
            if set_id is None:
                return []
            return [(f"#{s.id} {s.name}", s.id) for s in studies.store.list_studies(int(set_id))]

        def on_project(pid: int | None) -> Any:
            return gr.update(choices=set_choices(stimuli, pid), value=None)

        ctx.project.change(on_project, [ctx.project], [chosen_set], queue=False)

        def on_set(set_id: int | None) -> Any:
            return gr.update(choices=study_choices(set_id), value=None)

        chosen_set.change(on_set, [chosen_set], [chosen])

        def on_create(
            set_id: int | None, d: str, n: float, k: float, s: float, rate: float, gold_text: str,
            factor: str, ref: str, low: str, extras: list[str], request: gr.Request,
        ) -> list[Any]:  # fmt: skip
            try:
                if set_id is None:
                    raise ValueError("Choose a stimulus set (make one in the Stimuli tab).")
                numbers = [int(x) for x in gold_text.replace(" ", "").split(",") if x]
                study = studies.create(
                    int(set_id), d, int(n or 0), per_participant=int(k or 0) or None,
                    seed=int(s or 0), attention_rate=float(rate or 0), gold=numbers,
                    compare=factor.strip() or None, reference=ref.strip() or None,
                    anchor=low.strip() or None, ask=extras or [],
                )  # fmt: skip
            except USER_ERRORS as exc:
                return [problem(exc), gr.skip(), gr.skip()]
            host = request.headers.get("host", "127.0.0.1:7860")
            msg = f"Study #{study.id} made with {len(study.participant_codes)} participants."
            pick = gr.update(choices=study_choices(set_id), value=study.id)
            return [msg, links(f"http://{host}", study.participant_codes), pick]

        create.click(
            on_create,
            [
                chosen_set,
                design,
                people,
                per,
                seed,
                attention,
                gold,
                compare,
                reference,
                anchor,
                ask,
            ],
            [status, table, chosen],
        )

        def on_report(study_id: int | None) -> list[Any]:
            try:
                if study_id is None:
                    raise ValueError("Choose a study.")
                report, images = studies.report_and_plots(int(study_id))
            except USER_ERRORS as exc:
                return [problem(exc), gr.skip(), gr.skip(), None]
            return [report_markdown(report), plot_images(images), progress_rows(report),
                    json.loads(json.dumps(report))]  # fmt: skip

        refresh.click(on_report, [chosen], [summary, gallery, progress, full])

        def on_upload(study_id: int | None, path: str | None) -> list[Any]:
            from pathlib import Path

            try:
                if study_id is None or not path:
                    raise ValueError("Choose a study, then the CSV file.")
                saved = studies.import_csv(int(study_id), Path(path))
            except USER_ERRORS as exc:
                return [problem(exc), gr.skip(), gr.skip()]
            report, images = studies.report_and_plots(int(study_id))
            return [f"Imported {saved} answer(s).", report_markdown(report), plot_images(images),
                    progress_rows(report), report]  # fmt: skip

        upload.upload(on_upload, [chosen, upload], [status, summary, gallery, progress, full])
