"""Stimuli tab: write a grid, check it (item count, estimated time), make it, look at and listen
to every cell, exclude/include, re-make one cell with another seed, export a ZIP.

Handlers are plain functions over plain values (tested without a browser); ``build_tab`` only
lays out components and wires events to them.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from pipelines.base import CancelToken
from studio.library import AUDIO_SUFFIXES, VIDEO_SUFFIXES
from studio.stimuli import Stimuli, default_workers
from studio.ui import HEAVY, USER_ERRORS, TabContext, md_escape, problem, project_or_scratch

EXAMPLE_SPEC = {
    "name": "Emotion x accent",
    "task": "voice",
    "base": {"text": "Please take a seat by the window."},
    "factors": {"emotion": ["neutral", "happy", "sad", "angry"], "accent": ["us", "rp"]},
    "seed": 1,
    "repeats": 1,
    "loudness": -23,
}
COLUMNS = ["item", "#", "factors", "status", "generation", "seed", "included"]


def check_spec(stimuli: Stimuli, text: str) -> str:
    """Markdown: the grid's size and an estimated time, or what is wrong with it."""
    spec, count = stimuli.plan(_load(text), confirm_large=True)
    line = f"**{md_escape(spec.name)}**: {count} {spec.task} item(s), all valid."
    seconds = stimuli.estimate_seconds(spec.task, count)
    if seconds is not None:
        line += f" About {_duration(seconds)} on {default_workers()} worker(s)."
    if count > 5000:
        line += " Over 5,000 items: making it asks for a confirmation (tick the box)."
    return line


def rows(stimuli: Stimuli, set_id: int | None) -> list[list[Any]]:
    if set_id is None:
        return []
    return [
        [i["id"], i["position"] + 1, ", ".join(f"{k}={v}" for k, v in i["factors"].items()),
         i["status"], i["generation"] or "", i["seed"], "yes" if i["included"] else "no"]
        for i in stimuli.summary(set_id)["items"]
    ]  # fmt: skip


def set_choices(stimuli: Stimuli, project_id: int | None) -> list[tuple[str, int]]:
    sets = stimuli.store.list_stimulus_sets(project_id) if project_id is not None else []
    return [(f"#{s.id} {s.name} ({s.item_count} items)", s.id) for s in sets]


def media_of(stimuli: Stimuli, item_id: int | None) -> tuple[str | None, str | None]:
    """(audio, video) paths of a finished item, for the players."""
    if item_id is None:
        return None, None
    item = stimuli.store.get_stimulus_item(int(item_id))
    if item.status != "done" or item.generation_id is None:
        return None, None
    gen = stimuli.store.get_generation(item.generation_id)
    names = sorted(gen.artifacts, key=lambda n: (n != "audio_matched", n))  # matched level first
    paths = [stimuli.store.artifact_path(gen, n) for n in names]
    audio = next((str(p) for p in paths if p.suffix in AUDIO_SUFFIXES), None)
    video = next((str(p) for p in paths if p.suffix in VIDEO_SUFFIXES), None)
    return audio, video


def _load(text: str) -> object:
    try:
        return json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise ValueError(f"The grid is not valid JSON (line {exc.lineno}): {exc.msg}.") from None


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def build_tab(ctx: TabContext) -> None:
    stimuli = Stimuli(ctx.services)
    with gr.Tab("Stimuli", id="stimuli"):
        gr.Markdown(
            "A **stimulus set** is every combination of a few factors (any request field), with "
            "everything else fixed — made as ordinary generations, ready for a study."
        )
        status = gr.Markdown(elem_id="stimuli-status")
        with gr.Row():
            with gr.Column(scale=3):
                spec = gr.Code(
                    json.dumps(EXAMPLE_SPEC, indent=2), language="json", label="Grid (JSON)",
                    elem_id="stimuli-spec",
                )  # fmt: skip
            with gr.Column(scale=2):
                check = gr.Button("Check the grid", elem_id="stimuli-check")
                confirm = gr.Checkbox(label="Allow more than 5,000 items")
                make = gr.Button("Make the set", variant="primary", elem_id="stimuli-make")
                cancel = gr.Button("Cancel", elem_id="stimuli-cancel")
                chosen = gr.Dropdown(label="Set", choices=[], elem_id="stimuli-set")
                resume = gr.Button("Resume (make what is missing)")
                export = gr.Button("Export ZIP (media + manifest.csv)")
                zip_file = gr.File(label="Export", interactive=False)
        table = gr.Dataframe(headers=COLUMNS, value=[], interactive=False, label="Items",
                             elem_id="stimuli-items")  # fmt: skip
        item = gr.State(None)
        with gr.Row():
            audio = gr.Audio(label="Item audio", interactive=False, elem_id="stimuli-audio")
            video = gr.Video(label="Item video", interactive=False, elem_id="stimuli-video")
        with gr.Row():
            toggle = gr.Button("Exclude / include this item")
            new_seed = gr.Number(value=1000, precision=0, label="Another seed")
            reseed = gr.Button("Make this cell again with that seed")
        active: dict[int, CancelToken] = {}
        """Sets being made by this studio → their cancel flags (like the service's jobs)."""

        def on_check(text: str) -> str:
            try:
                return check_spec(stimuli, text)
            except USER_ERRORS as exc:
                return problem(exc)

        check.click(on_check, [spec], [status], queue=False)

        def run_set(set_id: int, pid: int | None, progress: Any) -> Iterator[list[Any]]:
            cancel_token = active.setdefault(set_id, CancelToken())
            yield [f"Making set #{set_id}…", rows(stimuli, set_id)]

            def report(done: int, total: int, eta: float | None) -> None:
                left = f", about {_duration(eta)} left" if eta is not None else ""
                progress(done / max(1, total), desc=f"{done}/{total} items{left}")

            try:
                result = stimuli.run(set_id, progress=report, cancel=cancel_token)
            finally:
                active.pop(set_id, None)
            failed = "".join(
                f"\n- item {i}: {md_escape(e)}" for i, e in result.failed.items()
            )  # fmt: skip
            verb = "Cancelled" if result.cancelled else "Done"
            msg = f"{verb}: {len(result.done)} made, {result.skipped} already there.{failed}"
            yield [msg, rows(stimuli, set_id)]

        def on_make(
            text: str, ok: bool, pid: int | None, progress: gr.Progress = gr.Progress()
        ) -> Iterator[list[Any]]:
            try:
                project = project_or_scratch(ctx.services, pid)
                made = stimuli.create(_load(text), project, confirm_large=bool(ok))
            except USER_ERRORS as exc:
                yield [problem(exc), gr.skip(), gr.skip()]
                return
            choices = gr.update(choices=set_choices(stimuli, project), value=made.id)
            for msg, table_rows in run_set(made.id, project, progress):
                yield [msg, table_rows, choices]

        make.click(
            on_make, [spec, confirm, ctx.project], [status, table, chosen],
            concurrency_id=HEAVY, concurrency_limit=1,
        )  # fmt: skip

        def on_resume(
            set_id: int | None, pid: int | None, progress: gr.Progress = gr.Progress()
        ) -> Iterator[list[Any]]:
            if set_id is None:
                yield ["⚠️ Choose a set first.", gr.skip()]
                return
            yield from run_set(int(set_id), pid, progress)

        resume.click(
            on_resume, [chosen, ctx.project], [status, table],
            concurrency_id=HEAVY, concurrency_limit=1,
        )  # fmt: skip

        def on_cancel(set_id: int | None) -> str:
            tok = active.get(int(set_id)) if set_id is not None else None
            if tok is None:
                return "This set is not being made."
            tok.cancel()
            return "Cancelling (items already running finish as cancelled)…"

        cancel.click(on_cancel, [chosen], [status], queue=False)

        def on_project(pid: int | None) -> Any:
            return gr.update(choices=set_choices(stimuli, pid), value=None)

        ctx.project.change(on_project, [ctx.project], [chosen], queue=False)

        def on_choose(set_id: int | None) -> list[Any]:
            try:
                return [rows(stimuli, set_id), None, None, None]
            except USER_ERRORS as exc:
                return [[], None, None, problem(exc)]

        chosen.change(on_choose, [chosen], [table, audio, video, status])

        def on_select(evt: gr.SelectData) -> list[Any]:
            row = evt.row_value or []
            item_id = int(row[0]) if row and str(row[0]).isdigit() else None
            a, v = media_of(stimuli, item_id)
            return [item_id, a, v]

        table.select(on_select, None, [item, audio, video])

        def on_toggle(item_id: int | None, set_id: int | None) -> list[Any]:
            try:
                if item_id is None:
                    raise ValueError("Click an item in the table first.")
                current = stimuli.store.get_stimulus_item(int(item_id))
                stimuli.store.set_item_included(current.id, not current.included)
                state = "excluded" if current.included else "included"
                return [f"Item {current.position + 1} {state}.", rows(stimuli, set_id)]
            except USER_ERRORS as exc:
                return [problem(exc), gr.skip()]

        toggle.click(on_toggle, [item, chosen], [status, table])

        def on_reseed(
            item_id: int | None,
            seed: float,
            set_id: int | None,
            pid: int | None,
            progress: gr.Progress = gr.Progress(),
        ) -> Iterator[list[Any]]:
            try:
                if item_id is None or set_id is None:
                    raise ValueError("Choose a set and click an item in the table first.")
                stimuli.reseed(int(item_id), int(seed or 0))
            except USER_ERRORS as exc:
                yield [problem(exc), gr.skip()]
                return
            yield from run_set(int(set_id), pid, progress)

        reseed.click(
            on_reseed, [item, new_seed, chosen, ctx.project], [status, table],
            concurrency_id=HEAVY, concurrency_limit=1,
        )  # fmt: skip

        def on_export(set_id: int | None) -> list[Any]:
            try:
                if set_id is None:
                    raise ValueError("Choose a set first.")
                cache = ctx.services.settings.data_dir.resolve() / "cache"  # the UI's own
                cache.mkdir(parents=True, exist_ok=True)
                folder = Path(tempfile.mkdtemp(prefix="export-", dir=cache))
                target = folder / f"stimulus-set-{int(set_id)}.zip"
                n = stimuli.export_zip(int(set_id), target)
                return [f"Exported {n} item(s).", str(target)]
            except USER_ERRORS as exc:
                return [problem(exc), None]

        export.click(on_export, [chosen], [status, zip_file])
