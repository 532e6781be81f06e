"""Study tab (researchers): make a study over a stimulus set, hand out the participant links,
import answers collected elsewhere, and read the report."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from pipelines.study.design import DESIGNS
from studio.stimuli import Stimuli
from studio.stimuli_tab import set_choices
from studio.study import Studies
from studio.ui import USER_ERRORS, TabContext, md_escape, problem


def links(base: str, codes: list[str]) -> list[list[str]]:
    return [[code, f"{base.rstrip('/')}/study/{code}"] for code in codes]


def report_markdown(report: dict[str, Any]) -> str:
    """The headline figures of a report as Markdown (the full JSON is shown beside it)."""
    lines = [f"**{md_escape(report['study']['name'])}** — {report['answers']} answers from "
             f"{report['participants']} participants."]  # fmt: skip
    for key, title in (
        ("accuracy", "Accuracy"),
        ("fleiss_kappa", "Fleiss' κ"),
        ("krippendorff_alpha", "Krippendorff's α"),
        ("binomial_p", "p vs chance"),
    ):
        if report.get(key) is not None:
            lines.append(f"- {title}: {report[key]:.3g}")
    for name, cell in report.get("conditions", {}).items():
        if "mean" in cell and cell["mean"] is not None:
            lo, hi = cell["ci95"]
            ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None else ""
            lines.append(f"- {md_escape(name)}: MOS {cell['mean']:.2f}{ci} (n={cell['n']})")
        elif "accuracy" in cell:
            lines.append(f"- {md_escape(name)}: {cell['accuracy']:.0%} correct (n={cell['n']})")
    return "\n".join(lines)


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
        full = gr.JSON(label="Report")

        def study_choices(set_id: int | None) -> list[tuple[str, int]]:
            if set_id is None:
                return []
            return [(f"#{s.id} {s.name}", s.id) for s in studies.store.list_studies(int(set_id))]

        def on_project(pid: int | None) -> Any:
            return gr.update(choices=set_choices(stimuli, pid), value=None)

        ctx.project.change(on_project, [ctx.project], [chosen_set])

        def on_set(set_id: int | None) -> Any:
            return gr.update(choices=study_choices(set_id), value=None)

        chosen_set.change(on_set, [chosen_set], [chosen])

        def on_create(
            set_id: int | None, d: str, n: float, k: float, s: float, request: gr.Request
        ) -> list[Any]:
            try:
                if set_id is None:
                    raise ValueError("Choose a stimulus set (make one in the Stimuli tab).")
                study = studies.create(int(set_id), d, int(n or 0), per_participant=int(k) or None,
                                       seed=int(s or 0))  # fmt: skip
            except USER_ERRORS as exc:
                return [problem(exc), gr.skip(), gr.skip()]
            host = request.headers.get("host", "127.0.0.1:7860")
            msg = f"Study #{study.id} made with {len(study.participant_codes)} participants."
            pick = gr.update(choices=study_choices(set_id), value=study.id)
            return [msg, links(f"http://{host}", study.participant_codes), pick]

        create.click(on_create, [chosen_set, design, people, per, seed], [status, table, chosen])

        def on_report(study_id: int | None) -> list[Any]:
            try:
                if study_id is None:
                    raise ValueError("Choose a study.")
                report = studies.report(int(study_id))
            except USER_ERRORS as exc:
                return [problem(exc), None]
            return [report_markdown(report), json.loads(json.dumps(report))]

        refresh.click(on_report, [chosen], [summary, full])

        def on_upload(study_id: int | None, path: str | None) -> list[Any]:
            from pathlib import Path

            try:
                if study_id is None or not path:
                    raise ValueError("Choose a study, then the CSV file.")
                saved = studies.import_csv(int(study_id), Path(path))
            except USER_ERRORS as exc:
                return [problem(exc), gr.skip(), gr.skip()]
            report = studies.report(int(study_id))
            return [f"Imported {saved} answer(s).", report_markdown(report), report]

        upload.upload(on_upload, [chosen, upload], [status, summary, full])
