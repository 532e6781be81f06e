"""The Gradio app: ``build_app(services)`` lays out the tabs; it never loads a model."""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio import (
    compose_tab,
    dialogue_tab,
    library_tab,
    music_tab,
    portrait_tab,
    stimuli_tab,
    study_tab,
    voice_tab,
)
from studio.api import build_api, hide_ui_handlers
from studio.library import project_choices
from studio.settings import Services
from studio.ui import SCRATCH_PROJECT, TabContext, md_escape

TITLE = "Affect Studio"


def theme() -> gr.themes.Base:
    """System fonts only: the default theme fetches web fonts, which an offline laptop lacks."""
    return gr.themes.Soft(
        primary_hue="violet",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def build_app(services: Services) -> gr.Blocks:
    """The whole studio UI, bound to ``services`` (no module-level state, nothing loaded)."""
    data_dir = md_escape(str(services.settings.data_dir))
    # UI cache files (copies of what was shown or uploaded) go after a day, checked hourly
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as app:
        with gr.Row(equal_height=True):
            gr.Markdown(f"# {TITLE}\nEmotional media, made offline · data in {data_dir}")
            project = gr.Dropdown(
                label="Project",
                choices=project_choices(services),
                value=None,
                info=f"Where new work goes; none chosen: “{SCRATCH_PROJECT}”.",
                elem_id="project-picker",
            )
        ctx = TabContext(services, project, app)
        with gr.Tabs():
            voice_tab.build_tab(ctx)
            portrait_tab.build_tab(ctx)
            music_tab.build_tab(ctx)
            dialogue_tab.build_tab(ctx)
            compose_tab.build_tab(ctx)
            stimuli_tab.build_tab(ctx)
            study_tab.build_tab(ctx)
            library_tab.build_tab(ctx)
        build_api(services)

        def reload_projects(pid: int | None, request: gr.Request) -> Any:
            """Fresh choices; the project named in the address (``?project=ID``) if any."""
            choices = project_choices(services)
            wanted = dict(request.query_params or {}).get("project", "") if request else ""
            if wanted.isdigit() and int(wanted) in {c[1] for c in choices}:
                pid = int(wanted)
            return gr.update(choices=choices, value=pid)

        app.load(reload_projects, project, project)
    hide_ui_handlers(app)
    app.queue(default_concurrency_limit=4)
    return app
