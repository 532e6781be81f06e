"""Library tab layout: projects, the generations table, details, re-run / fork / delete."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from studio.library import ALL, COLUMNS, Library
from studio.ui import HEAVY, USER_ERRORS, TabContext, problem


def build_tab(ctx: TabContext) -> None:
    services = ctx.services
    lib = Library(services)
    project = ctx.project

    with gr.Tab("Library", id="library"):
        status = gr.Markdown(elem_id="library-status")
        with gr.Row(equal_height=True):
            new_name = gr.Textbox(
                label="New project name",
                placeholder="e.g. Sad monologue study",
                scale=2,
                elem_id="new-project-name",
            )
            create = gr.Button("Create project", variant="primary", elem_id="create-project")
        with gr.Accordion("Rename or delete this project", open=False):
            with gr.Row(equal_height=True):
                rename_to = gr.Textbox(label="Rename to", elem_id="rename-to")
                rename = gr.Button("Rename", elem_id="rename-project")
            with gr.Row(equal_height=True):
                confirm = gr.Checkbox(label="Also delete its generations and their files")
                delete = gr.Button("Delete project", variant="stop", elem_id="delete-project")
        with gr.Row(equal_height=True):
            task_f = gr.Dropdown(lib.task_filter_choices(), value=ALL, label="Task")
            emotion_f = gr.Dropdown(lib.emotion_filter_choices(), value=ALL, label="Emotion")
            refresh = gr.Button("Refresh")
        table = gr.Dataframe(
            headers=COLUMNS,
            value=[],
            interactive=False,
            label="Generations (newest first)",
            elem_id="generations-table",
        )
        selected = gr.State(None)
        with gr.Column(visible=False) as panel:
            heading = gr.Markdown()
            with gr.Row():
                audio = gr.Audio(label="Audio", interactive=False, visible=False)
                video = gr.Video(label="Video", interactive=False, visible=False)
            files = gr.File(label="Artifacts", file_count="multiple", interactive=False)
            with gr.Row():
                request_json = gr.Code(label="Request", language="json", interactive=False)
                timings = gr.JSON(label="Timings")
            with gr.Row():
                rerun = gr.Button("Re-run (same seed)", elem_id="rerun")
                cancel = gr.Button("Cancel", elem_id="cancel")
                delete_gen = gr.Button("Delete generation", variant="stop")
            with gr.Accordion("Fork: edit the request and run it as a new generation", open=False):
                fork_json = gr.Code(label="Request to run", language="json", interactive=True)
                fork = gr.Button("Run fork", variant="primary", elem_id="run-fork")

        table_inputs = [project, task_f, emotion_f]
        detail_outputs = [panel, heading, audio, video, files, request_json, timings, fork_json]

        def show(gid: int | None) -> list[Any]:
            d = lib.details(gid)
            if d is None:
                return [
                    gr.update(visible=False),
                    "",
                    gr.update(value=None, visible=False),
                    gr.update(value=None, visible=False),
                    None,
                    "",
                    None,
                    "",
                ]
            return [
                gr.update(visible=True),
                d.heading,
                gr.update(value=d.audio, visible=d.audio is not None),
                gr.update(value=d.video, visible=d.video is not None),
                d.files or None,
                d.request_json,
                d.timings,
                d.request_json,
            ]

        def refresh_all(pid: int | None, task: str, emotion: str, gid: int | None) -> list[Any]:
            return [
                gr.update(choices=lib.project_choices(), value=pid),
                lib.rows(pid, task, emotion),
                *show(gid),
            ]

        def guarded(fn: Callable[..., list[Any]], n_out: int) -> Callable[..., list[Any]]:
            def wrapper(*args: Any) -> list[Any]:
                try:
                    return fn(*args)
                except USER_ERRORS as exc:
                    return [problem(exc), *([gr.skip()] * (n_out - 1))]

            return wrapper

        everything = [status, project, table, *detail_outputs]

        def on_create(name: str, task: str, emotion: str) -> list[Any]:
            pid, msg = lib.create_project(name)
            return [msg, "", *refresh_all(pid, task, emotion, None)]

        create.click(
            guarded(on_create, len(everything) + 1),
            [new_name, task_f, emotion_f],
            [status, new_name, project, table, *detail_outputs],
        )
        new_name.submit(
            guarded(on_create, len(everything) + 1),
            [new_name, task_f, emotion_f],
            [status, new_name, project, table, *detail_outputs],
        )

        def on_rename(pid: int | None, new: str, task: str, emotion: str) -> list[Any]:
            msg = lib.rename_project(pid, new)
            return [msg, "", *refresh_all(pid, task, emotion, None)]

        rename.click(
            guarded(on_rename, len(everything) + 1),
            [project, rename_to, task_f, emotion_f],
            [status, rename_to, project, table, *detail_outputs],
        )

        def on_delete(pid: int | None, ok: bool, task: str, emotion: str) -> list[Any]:
            msg = lib.delete_project(pid, ok)
            return [msg, False, *refresh_all(None, task, emotion, None)]

        delete.click(
            guarded(on_delete, len(everything) + 1),
            [project, confirm, task_f, emotion_f],
            [status, confirm, project, table, *detail_outputs],
        )

        def on_filter(pid: int | None, task: str, emotion: str) -> list[Any]:
            return [lib.rows(pid, task, emotion), None, *show(None)]

        for trigger in (project.change, task_f.change, emotion_f.change):
            trigger(on_filter, table_inputs, [table, selected, *detail_outputs])

        def on_refresh(pid: int | None, task: str, emotion: str, gid: int | None) -> list[Any]:
            return ["", *refresh_all(pid, task, emotion, gid)]

        refresh.click(guarded(on_refresh, len(everything)), [*table_inputs, selected], everything)

        def on_select(evt: gr.SelectData) -> list[Any]:
            row = evt.row_value or []
            gid = int(row[0]) if row and str(row[0]).isdigit() else None
            return [gid, *show(gid)]

        table.select(on_select, None, [selected, *detail_outputs])

        def watch(
            start: Callable[[], int],
            pid: int | None,
            task: str,
            emotion: str,
            progress: gr.Progress,
        ) -> Iterator[list[Any]]:
            skip = [gr.skip()] * len(detail_outputs)
            try:
                gid = start()
            except USER_ERRORS as exc:
                yield [problem(exc), gr.skip(), gr.skip(), *skip]
                return
            yield [f"Running generation #{gid}…", gid, lib.rows(pid, task, emotion), *skip]
            job = services.generations.job(gid)
            while job is not None and not job.finished:
                progress(job.fraction, desc=job.stage)
                time.sleep(0.2)
            info = services.store.get_generation(gid)
            msg = f"Generation #{gid}: {info.status}." + (f" {info.error}" if info.error else "")
            yield [msg, gid, lib.rows(pid, task, emotion), *show(gid)]

        watch_outputs = [status, selected, table, *detail_outputs]

        def on_rerun(
            gid: int | None,
            pid: int | None,
            task: str,
            emotion: str,
            progress: gr.Progress = gr.Progress(),
        ) -> Iterator[list[Any]]:
            yield from watch(lambda: lib.rerun(gid), pid, task, emotion, progress)

        def on_fork(
            gid: int | None,
            text: str,
            pid: int | None,
            task: str,
            emotion: str,
            progress: gr.Progress = gr.Progress(),
        ) -> Iterator[list[Any]]:
            yield from watch(lambda: lib.fork(gid, text), pid, task, emotion, progress)

        rerun.click(
            on_rerun,
            [selected, *table_inputs],
            watch_outputs,
            concurrency_id=HEAVY,
            concurrency_limit=1,
        )
        fork.click(
            on_fork,
            [selected, fork_json, *table_inputs],
            watch_outputs,
            concurrency_id=HEAVY,
            concurrency_limit=1,
        )

        def on_cancel(gid: int | None) -> str:
            try:
                return lib.cancel(gid)
            except USER_ERRORS as exc:
                return problem(exc)

        cancel.click(on_cancel, [selected], [status], queue=False)

        def on_delete_gen(gid: int | None, pid: int | None, task: str, emotion: str) -> list[Any]:
            msg = lib.delete_generation(gid)
            return [msg, None, lib.rows(pid, task, emotion), *show(None)]

        delete_gen.click(
            guarded(on_delete_gen, len(watch_outputs)), [selected, *table_inputs], watch_outputs
        )
