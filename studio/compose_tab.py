"""Compose tab: text + emotion + photo → one finished MP4 (voice, talking portrait, music bed).

``build_request``, ``start`` and ``present`` are plain functions over plain values, so tests call
them without a browser; ``build_tab`` only lays out components and wires events to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipelines.base import PipelineError
from pipelines.compose import ComposeRequest
from pipelines.emotion import EMOTIONS, EmotionSpec, label_choices
from pipelines.portrait.request import DEFAULT_IMAGE, SIZES
from pipelines.voice.accents import accent_choices
from pipelines.voice.auto import AUTO
from projects_db import GenerationInfo
from studio.portrait_tab import NONE, build_emotion
from studio.service import Job
from studio.settings import Services
from studio.ui import (
    HEAVY,
    USER_ERRORS,
    TabContext,
    follow,
    md_escape,
    outcome,
    problem,
    project_or_scratch,
)
from studio.voice_tab import AUTO_CHOICE


def build_request(
    text: str,
    label: str,
    blend: str | None,
    blend_weight: float,
    intensity: float,
    accent: str,
    size: int,
    music: bool,
    music_db: float,
    duck_db: float,
    pad: float,
    seed: float,
    image: Path | None = None,
) -> ComposeRequest:
    """The request the controls describe (PipelineError with the reason if they can't)."""
    auto = label == AUTO
    emotion = build_emotion(
        "neutral" if auto else label or "neutral", blend or NONE, blend_weight, float(intensity)
    )
    return ComposeRequest(
        text=text or "",
        emotion=EmotionSpec() if auto else emotion or EmotionSpec(),
        auto_emotion=auto,
        accent=accent,
        image=image,
        size=int(size),
        music=bool(music),
        music_db=float(music_db),
        duck_db=float(duck_db),
        pad=float(pad),
        seed=int(seed or 0),
    )


def start(
    services: Services, project_id: int | None, request: ComposeRequest, photo: str | None
) -> Job:
    """Store an uploaded photo as a project asset (the bundled one is used as is) and submit."""
    assets: dict[str, int] = {}
    if photo and Path(photo).resolve() != DEFAULT_IMAGE.resolve():
        asset = services.store.add_asset(Path(photo), Path(photo).name)
        request = request.replace(image=asset.path)
        assets["image"] = asset.id
    pid = project_or_scratch(services, project_id)
    return services.generations.submit(pid, "compose", request, assets=assets)


def present(services: Services, info: GenerationInfo) -> dict[str, Any]:
    """Status Markdown, video, stills and files of a finished Compose generation."""
    out: dict[str, Any] = {
        "status": outcome(info), "video": None, "subtitles": None, "stills": None, "files": []
    }  # fmt: skip
    if info.status != "done":
        return out
    paths = {n: str(services.store.artifact_path(info, n)) for n in info.artifacts}
    out["video"], out["stills"] = paths.get("video"), paths.get("stills")
    out["subtitles"] = paths.get("subtitles_vtt")
    names = ("video", "soundtrack", "speech", "subtitles", "subtitles_vtt")
    out["files"] = [paths[n] for n in names if n in paths]
    meta = info.metadata
    lines = [f"Speech {meta.get('speech_seconds', 0):.1f} s of {info.media_seconds or 0:.1f} s."]
    if "ducking_db" in meta:
        lines.append(
            f"Measured in the mix: music {meta['music_vs_speech_db']:+.1f} dB against the voice "
            f"while it speaks, {meta['ducking_db']:.1f} dB lower than between phrases (the "
            "sliders set the music's level and ducking; the music's own dynamics move these)."
        )
    music = meta.get("music") or {}
    if music.get("key"):
        lines.append(f"Music in {md_escape(str(music['key']))}.")
    voice = meta.get("voice_measures") or {}
    if voice:
        lines.append(
            f"Voice F0 median {voice.get('f0_median_hz', 0):.0f} Hz, "
            f"{voice.get('rate_phones_s', 0):.1f} phones/s."
        )
    out["status"] += " " + " ".join(lines)
    notes = [*meta.get("voice_notes", []), *meta.get("portrait_notes", [])]
    if notes:
        out["status"] += "\n\n" + "\n".join(f"- {md_escape(str(n))}" for n in notes)
    return out


def build_tab(ctx: TabContext) -> None:
    import gradio as gr

    services = ctx.services
    with gr.Tab("Compose", id="compose"):
        gr.Markdown(
            "Text → emotional voice → talking portrait → music bed in the same emotion → one MP4."
        )
        status = gr.Markdown(elem_id="compose-status")
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(
                    label="What the portrait says",
                    lines=4,
                    placeholder="It is so good to see you again!",
                    elem_id="compose-text",
                )
                photo = gr.Image(value=str(DEFAULT_IMAGE), type="filepath", label="Photo")
            with gr.Column():
                label = gr.Dropdown([AUTO_CHOICE, *label_choices()], value="happy", label="Emotion")
                with gr.Row():
                    blend = gr.Dropdown([NONE, *EMOTIONS], value=NONE, label="Blend with")
                    blend_w = gr.Slider(0, 1, 0.3, step=0.05, label="Blend weight")
                intensity = gr.Slider(0, 1, 0.8, step=0.05, label="Intensity")
                accent = gr.Dropdown(accent_choices(), value="us", label="Accent")
                with gr.Row():
                    music = gr.Checkbox(True, label="Music bed in the same emotion")
                    pad = gr.Slider(0, 5, 1, step=0.25, label="Music before/after (s)")
                with gr.Row():
                    music_db = gr.Slider(-40, 0, -16, step=1, label="Music vs voice (dB)")
                    duck_db = gr.Slider(0, 30, 8, step=1, label="Duck under speech (dB)")
                with gr.Row():
                    size = gr.Dropdown(list(SIZES), value=384, label="Size (short side, px)")
                    seed = gr.Number(0, precision=0, label="Seed")
                go = gr.Button("Compose", variant="primary", elem_id="compose-generate")
        with gr.Row():
            video = gr.Video(label="Finished video", interactive=False)
            stills = gr.Image(label="Stills", interactive=False)
        files = gr.File(label="MP4, soundtrack, speech and subtitles", file_count="multiple")

        def on_compose(
            pid: int | None,
            text_v: str,
            photo_v: str | None,
            *controls: Any,
            progress: gr.Progress = gr.Progress(),
        ) -> Iterator[list[Any]]:
            try:
                if not photo_v:
                    raise PipelineError("Choose a photo (or keep the bundled portrait).")
                req = build_request(text_v, *controls)
                job = start(services, pid, req, photo_v)
            except USER_ERRORS as exc:
                yield [problem(exc), gr.skip(), gr.skip(), gr.skip()]
                return
            yield ["Composing…", gr.skip(), gr.skip(), gr.skip()]
            shown = present(services, follow(job, progress))
            film = gr.Video(value=shown["video"], subtitles=shown["subtitles"])
            yield [shown["status"], film, shown["stills"], shown["files"]]

        go.click(
            on_compose,
            [ctx.project, text, photo, label, blend, blend_w, intensity, accent, size, music,
             music_db, duck_db, pad, seed],
            [status, video, stills, files],
            concurrency_id=HEAVY,
            concurrency_limit=1,
        )  # fmt: skip
