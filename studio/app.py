"""The Gradio app: ``build_app(services)`` lays out the tabs; it never loads a model."""

from __future__ import annotations

import gradio as gr

from studio import library_tab
from studio.settings import Services

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
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(
            f"# {TITLE}\nEmotional media, made offline. Data: `{services.settings.data_dir}`"
        )
        with gr.Tabs():
            library_tab.build_tab(services)
    app.queue(default_concurrency_limit=4)
    return app
