"""Library tab layout: projects; the generations table in pages with filters and search (kept
in the address); bulk export / re-run / delete; details, re-run / fork / delete of one."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from studio import library_bulk
from studio.library import ALL, COLUMNS, DATATYPES, PAGE_SIZES, Library
from studio.library_bulk import MAX_RERUN
from studio.ui import HEAVY, USER_ERRORS, TabContext, problem, shown_project


def build_tab(ctx: TabContext) -> None:
    services = ctx.services
    lib = Library(services)
    project = ctx.project

    with gr.Tab("Library", id="library") as pane:
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
            status_f = gr.Dropdown(lib.status_filter_choices(), value=ALL, label="Status")
            backend_f = gr.Dropdown([ALL], value=ALL, label="Backend", allow_custom_value=True)
            set_f = gr.Dropdown([(ALL, ALL)], value=ALL, label="Stimulus set")
        with gr.Row(equal_height=True):
            text_f = gr.Textbox(
                label="Search the requests",
                elem_id="library-search",
                placeholder="words said or typed, prompts, file names",
                scale=3,
            )
            since_f = gr.Textbox(label="From (YYYY-MM-DD)", elem_id="library-since")
            until_f = gr.Textbox(label="To (YYYY-MM-DD)", elem_id="library-until")
            size_f = gr.Dropdown(PAGE_SIZES, value=50, label="Rows per page")  # fmt: skip
        with gr.Row(equal_height=True):
            prev_b = gr.Button("← Newer", elem_id="library-prev", size="sm")
            page_info = gr.Markdown(elem_id="library-page")
            next_b = gr.Button("Older →", elem_id="library-next", size="sm")
            refresh = gr.Button("Refresh", size="sm")
        table = gr.Dataframe(
            headers=COLUMNS,
            datatype=DATATYPES,
            value=[],
            interactive=False,
            label="Generations (newest first)",
            elem_id="generations-table",
            wrap=True,
            column_widths=["7%", "31%", "10%", "9%", "10%", "9%", "16%", "8%"],
        )
        nav = gr.State(new_nav())
        with gr.Accordion("Bulk actions: everything the filter matches, or a selection",
                          open=False):  # fmt: skip
            with gr.Row(equal_height=True):
                pick = gr.Textbox(
                    label="Selection (empty = every match)",
                    elem_id="bulk-ids",
                    placeholder="generation numbers, e.g. 12, 15-20",
                    scale=2,
                )
                bulk_export = gr.Button("Export ZIP (files + manifest.csv)", elem_id="bulk-export")
                bulk_zip = gr.File(label="Export", interactive=False)
            with gr.Row(equal_height=True):
                seed_step = gr.Number(value=1, precision=0, label="Re-run with seed + …")
                bulk_rerun = gr.Button(f"Re-run (at most {MAX_RERUN})", elem_id="bulk-rerun")
                bulk_ok = gr.Checkbox(label="Yes, delete them and their files")
                bulk_delete = gr.Button("Delete", variant="stop", elem_id="bulk-delete")
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

        filters = [task_f, emotion_f, status_f, backend_f, text_f, since_f, until_f, set_f]
        view = [project, *filters, size_f, nav]
        """What a table refresh reads: the project, the filters, the page size, the page."""
        detail_outputs = [panel, heading, audio, video, files, request_json, timings, fork_json]

        def show(gid: int | None) -> list[Any]:
            d = lib.details(gid)
            if d is None:
                hidden = gr.update(value=None, visible=False)
                return [gr.update(visible=False), "", hidden, hidden, None, "", None, ""]
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

        def table_of(pid: int | None, values: list[Any], size: Any, state: Nav) -> list[Any]:
            """[rows, page line, nav] for the page ``state`` points at."""
            rows, info, following = lib.page(
                pid, values, size=int(size or 50), cursor=state["cursor"], first=state["first"]
            )
            return [rows, info, {**state, "next": following, "view": view_key(pid, values, size)}]

        def split(args: tuple[Any, ...]) -> tuple[int | None, list[Any], Any, Nav]:
            pid = shown_project(services, args[0])
            return pid, list(args[1 : 1 + len(filters)]), args[-2], args[-1]

        def guarded(fn: Callable[..., list[Any]], n_out: int) -> Callable[..., list[Any]]:
            def wrapper(*args: Any) -> list[Any]:
                try:
                    return fn(*args)
                except USER_ERRORS as exc:
                    return [problem(exc), *([gr.skip()] * (n_out - 1))]

            return wrapper

        table_outputs = [table, page_info, nav]

        def refresh_all(gid: int | None, *args: Any) -> list[Any]:
            pid, values, size, state = split(args)
            return [
                gr.update(choices=lib.project_choices(), value=pid),
                *table_of(pid, values, size, state),
                *show(gid),
            ]

        everything = [status, project, *table_outputs, *detail_outputs]

        def on_create(name: str, *args: Any) -> list[Any]:
            pid, msg = lib.create_project(name)
            _, values, size, _state = split(args)
            return [msg, "", *refresh_all(None, pid, *values, size, new_nav())]

        for trigger in (create.click, new_name.submit):
            trigger(guarded(on_create, len(everything) + 1), [new_name, *view],
                    [status, new_name, *everything[1:]])  # fmt: skip

        def on_rename(new: str, *args: Any) -> list[Any]:
            msg = lib.rename_project(args[0], new)
            return [msg, "", *refresh_all(None, *args)]

        rename.click(guarded(on_rename, len(everything) + 1), [rename_to, *view],
                     [status, rename_to, *everything[1:]])  # fmt: skip

        def on_delete(ok: bool, *args: Any) -> list[Any]:
            msg = lib.delete_project(args[0], ok)
            _, values, size, _state = split(args)
            return [msg, False, *refresh_all(None, None, *values, size, new_nav())]

        delete.click(guarded(on_delete, len(everything) + 1), [confirm, *view],
                     [status, confirm, *everything[1:]])  # fmt: skip

        def on_project(pid: int | None, backend: Any, chosen_set: Any) -> list[Any]:
            """The project's backends and sets; a filter value is reset only when the project
            has no such choice (a reset is a change, which would reload the table again)."""
            out = []
            for choices, value in ((lib.backend_filter_choices(pid), backend),
                                   (lib.set_filter_choices(pid), chosen_set)):  # fmt: skip
                values = [c[1] if isinstance(c, tuple) else c for c in choices]
                out.append(gr.update(choices=choices, value=value if value in values else ALL))
            return out

        project.change(on_project, [project, backend_f, set_f], [backend_f, set_f], queue=False)

        def on_filter(*args: Any) -> list[Any]:
            pid, values, size, state = split(args)
            if state.get("view") == view_key(pid, values, size):
                # nothing changed (a field left without an edit, a repeated event): keep the
                # page the user is on
                return [gr.skip()] * len(filter_outputs)
            # the status line is left alone: it may be telling about a click just made
            return [gr.skip(), *table_of(pid, values, size, new_nav()), None, *show(None)]

        filter_outputs = [status, *table_outputs, selected, *detail_outputs]
        for component in (project, *filters, size_f):
            trigger = (
                component.submit if component in (text_f, since_f, until_f) else component.change
            )
            trigger(guarded(on_filter, len(filter_outputs)), view, filter_outputs, js=KEEP_IN_URL,
                    queue=False)  # fmt: skip
        for box in (text_f, since_f, until_f):  # typed filters also apply when left
            box.blur(guarded(on_filter, len(filter_outputs)), view, filter_outputs, js=KEEP_IN_URL)

        def on_page(step: int) -> Callable[..., list[Any]]:
            def turn(*args: Any) -> list[Any]:
                pid, values, size, state = split(args)
                if step > 0 and state["next"]:
                    ahead = state["first"] + int(size or 50)
                    state = {**state, "cursor": state["next"], "first": ahead,
                             "stack": [*state["stack"], state["cursor"]], "next": None}  # fmt: skip
                elif step < 0 and state["stack"]:
                    back = max(1, state["first"] - int(size or 50))
                    state = {**state, "cursor": state["stack"][-1], "stack": state["stack"][:-1],
                             "first": back, "next": None}  # fmt: skip
                return [gr.skip(), *table_of(pid, values, size, state)]

            return guarded(turn, 1 + len(table_outputs))

        next_b.click(on_page(1), view, [status, *table_outputs], queue=False)
        prev_b.click(on_page(-1), view, [status, *table_outputs], queue=False)

        def on_refresh(gid: int | None, *args: Any) -> list[Any]:
            return ["", *refresh_all(gid, *args)]

        refresh.click(guarded(on_refresh, len(everything)), [selected, *view], everything)

        def on_open(gid: int | None, *args: Any) -> list[Any]:
            """Opening the tab shows what was made meanwhile; with no project chosen (perhaps
            only not yet: the page's address may still be choosing one), only once "Scratch"
            exists, so a project being restored is never replaced by an empty view."""
            if args[0] is None and shown_project(services, None) is None:
                return [gr.skip()] * len(everything)
            return on_refresh(gid, *args)

        pane.select(guarded(on_open, len(everything)), [selected, *view], everything)

        def restore(request: gr.Request) -> list[Any]:
            """The filters kept in the address (``?emotion=sad&q=storm``), after a reload."""
            query = dict(request.query_params or {}) if request else {}
            keys = ["task", "emotion", "status", "backend", "q", "from", "to", "set"]
            values = [query.get(k) or (ALL if k in ("task", "emotion", "status", "backend",
                                                     "set") else "") for k in keys]  # fmt: skip
            size = int(query["size"]) if query.get("size", "").isdigit() else 50
            if values[-1] != ALL and str(values[-1]).isdigit():
                values[-1] = int(values[-1])
            return [*values, size if size in PAGE_SIZES else 50]

        if ctx.app is not None:  # then the table, whichever of the page's loads ends last
            ctx.app.load(restore, None, [*filters, size_f]).then(
                guarded(on_filter, len(filter_outputs)), view, filter_outputs, queue=False
            )

        def on_select(evt: gr.SelectData) -> list[Any]:
            row = evt.row_value or []
            gid = int(row[0]) if row and str(row[0]).isdigit() else None
            return [gid, *show(gid)]

        table.select(on_select, None, [selected, *detail_outputs])

        def watch(start: Callable[[], int], args: tuple[Any, ...], progress: gr.Progress
                  ) -> Iterator[list[Any]]:  # fmt: skip
            pid, values, size, state = split(args)
            skip = [gr.skip()] * len(detail_outputs)
            try:
                gid = start()
            except USER_ERRORS as exc:
                yield [problem(exc), gr.skip(), *([gr.skip()] * len(table_outputs)), *skip]
                return
            yield [f"Running generation #{gid}…", gid, *table_of(pid, values, size, state), *skip]
            job = services.generations.job(gid)
            while job is not None and not job.finished:
                progress(job.fraction, desc=job.stage)
                time.sleep(0.2)
            info = services.store.get_generation(gid)
            msg = f"Generation #{gid}: {info.status}." + (f" {info.error}" if info.error else "")
            yield [msg, gid, *table_of(pid, values, size, state), *show(gid)]

        watch_outputs = [status, selected, *table_outputs, *detail_outputs]

        def on_rerun(gid: int | None, *args: Any, progress: gr.Progress = gr.Progress()
                     ) -> Iterator[list[Any]]:  # fmt: skip
            yield from watch(lambda: lib.rerun(gid), args, progress)

        def on_fork(gid: int | None, text: str, *args: Any, progress: gr.Progress = gr.Progress()
                    ) -> Iterator[list[Any]]:  # fmt: skip
            yield from watch(lambda: lib.fork(gid, text), args, progress)

        rerun.click(on_rerun, [selected, *view], watch_outputs, concurrency_id=HEAVY,
                    concurrency_limit=1)  # fmt: skip
        fork.click(on_fork, [selected, fork_json, *view], watch_outputs, concurrency_id=HEAVY,
                   concurrency_limit=1)  # fmt: skip

        def on_cancel(gid: int | None) -> str:
            try:
                return lib.cancel(gid)
            except USER_ERRORS as exc:
                return problem(exc)

        cancel.click(on_cancel, [selected], [status], queue=False)

        def on_delete_gen(gid: int | None, *args: Any) -> list[Any]:
            msg = lib.delete_generation(gid)
            pid, values, size, state = split(args)
            return [msg, None, *table_of(pid, values, size, state), *show(None)]

        delete_gen.click(guarded(on_delete_gen, len(watch_outputs)), [selected, *view],
                         watch_outputs)  # fmt: skip

        def matches(ids: str, args: tuple[Any, ...]) -> Any:
            pid, values, _size, _state = split(args)
            if pid is None:
                raise ValueError("Choose a project first.")
            return lib.query(int(pid), values, ids)

        def on_bulk_export(ids: str, *args: Any) -> list[Any]:
            f = matches(ids, args)
            cache = services.settings.data_dir.resolve() / "cache"  # the UI's own
            cache.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="export-", dir=cache))
            target = folder / f"library-p{f.project_id}.zip"
            n = library_bulk.export_zip(services, f, target)
            return [f"Exported {n:,} generation(s).", str(target)]

        bulk_export.click(guarded(on_bulk_export, 2), [pick, *view], [status, bulk_zip])

        def on_bulk_rerun(ids: str, step: float, *args: Any) -> list[Any]:
            made = library_bulk.rerun_matching(services, matches(ids, args), int(step or 1))
            pid, values, size, _state = split(args)
            msg = f"Queued {len(made)} re-run(s) with seed + {int(step or 1)}."
            return [msg, *table_of(pid, values, size, new_nav())]

        bulk_rerun.click(guarded(on_bulk_rerun, 1 + len(table_outputs)),
                         [pick, seed_step, *view], [status, *table_outputs])  # fmt: skip

        def on_bulk_delete(ids: str, ok: bool, *args: Any) -> list[Any]:
            f = matches(ids, args)
            if not ok:
                n = services.store.count_generations(f)
                raise ValueError(f"That deletes {n:,} generation(s) and their files: tick "
                                 "“Yes, delete them” and press Delete again.")  # fmt: skip
            n = library_bulk.delete_matching(services, f)
            pid, values, size, _state = split(args)
            return [f"Deleted {n:,} generation(s) and their files.", False,
                    *table_of(pid, values, size, new_nav()), None, *show(None)]  # fmt: skip

        bulk_delete.click(
            guarded(on_bulk_delete, 3 + len(table_outputs) + len(detail_outputs)),
            [pick, bulk_ok, *view],
            [status, bulk_ok, *table_outputs, selected, *detail_outputs],
        )


Nav = dict[str, Any]
"""A table's place: the cursor of the page shown, the cursors before it, the next one."""


def new_nav() -> Nav:
    return {"cursor": None, "stack": [], "next": None, "first": 1, "view": None}


def view_key(pid: int | None, values: list[Any], size: Any) -> str:
    """What a table shows, as one string (the same filters give the same key)."""
    return json.dumps([pid, [str(v).strip() for v in values], str(size)])


KEEP_IN_URL = """(...v) => {
  const keys = ["project", "task", "emotion", "status", "backend", "q", "from", "to", "set",
                "size"];
  const p = new URLSearchParams(location.search);
  keys.forEach((k, i) => { const x = v[i];
    if (x === null || x === undefined || x === "" || x === "All" || (k === "size" && x == 50))
      p.delete(k); else p.set(k, x); });
  const q = p.toString();
  history.replaceState(null, "", location.pathname + (q ? "?" + q : ""));
  return v; }"""
"""Keeps the project and the filters in the address, so a reload shows the same view."""
