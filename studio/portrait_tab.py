"""Portrait tab: photo + speech (upload, a Voice generation, or text spoken on the fly) + emotion
→ a talking portrait, with the emotion check. ``PortraitTab`` holds the logic as plain methods
(tested without a browser); ``build_tab`` only lays out components and binds them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pipelines import registry
from pipelines.base import PipelineError
from pipelines.emotion import EMOTIONS, EmotionSpec, label_choices
from pipelines.portrait.request import (
    DEFAULT_IMAGE,
    FRAMINGS,
    SIZES,
    PortraitRequest,
    pack_phonemes,
)
from projects_db import GenerationInfo
from studio.ui import (
    HEAVY,
    USER_ERRORS,
    TabContext,
    backend_info,
    backend_names,
    follow,
    md_escape,
    outcome,
    problem,
    shown_project,
)
from studio.ui import project_or_scratch as _project_or_scratch

NONE = "(none)"
AUTO = "auto (from the voice)"


def build_emotion(
    label: str, blend: str, blend_weight: float, intensity: float
) -> EmotionSpec | None:
    """The picker's emotion; ``AUTO`` = None (the voice's emotion or the audio's prosody)."""
    if label == AUTO:
        return None
    if blend and blend != NONE and blend != label and blend_weight > 0:
        w = min(max(float(blend_weight), 0.0), 1.0)
        return EmotionSpec.blend({label: 1.0 - w, blend: w}, intensity=intensity)
    return EmotionSpec.of(label, intensity)


VOICE_CHOICES = 100


class PortraitTab:
    """Handlers for the Portrait tab; only shared services, no per-user state."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.store = services.store

    def voice_available(self) -> bool:
        return any(t.name == "voice" for t in registry.tasks())

    def store_upload(
        self, path: str | Path | None, original_name: str | None = None
    ) -> Path | None:
        """An uploaded file stored once by content hash; the request references the stored copy."""
        if not path:
            return None
        src = Path(path)
        return self.store.add_asset(src, original_name or src.name).path

    def voice_choices(self, project_id: int | None) -> list[tuple[str, int]]:
        """The newest 100 finished Voice generations of the project, for the audio picker."""
        pid = shown_project(self.services, project_id)
        if pid is None or not self.voice_available():
            return []
        rows = self.store.list_generations(pid, task="voice", status="done", limit=VOICE_CHOICES)
        out = []
        for g in rows:
            text = str(g.request.get("text", ""))[:40]
            out.append((f"#{g.id} {g.emotion or ''}: {text}", g.id))
        return out

    def voice_audio(self, generation_id: int) -> tuple[Path, tuple[Any, ...], EmotionSpec | None]:
        """Audio path, phoneme timings and emotion of a finished Voice generation."""
        info = self.store.get_generation(int(generation_id))
        if info.task != "voice" or info.status != "done":
            raise PipelineError(f"Generation #{generation_id} is not a finished Voice generation.")
        audio = self.store.artifact_path(info, "audio")
        phonemes: tuple[Any, ...] = ()
        if "timings" in info.artifacts:
            raw = json.loads(self.store.artifact_path(info, "timings").read_text("utf-8"))
            phonemes = pack_phonemes(tuple(p) for p in raw.get("phonemes", []))
        emotion = info.request.get("emotion")
        return audio, phonemes, EmotionSpec.parse(emotion) if isinstance(emotion, str) else None

    def speak(
        self, project_id: int, text: str, emotion: EmotionSpec | None, seed: int, progress: Any
    ) -> int:
        """Synthesise ``text`` through the Voice task; returns the voice generation id."""
        if not self.voice_available():
            raise PipelineError(
                "Speaking typed text needs the Voice pipeline, which is not installed in this "
                "studio yet. Upload a speech recording instead."
            )
        if not text.strip():
            raise PipelineError("Type the words the portrait should say, or upload audio.")
        req = {"text": text.strip(), "emotion": str(emotion or EmotionSpec()), "seed": int(seed)}
        job = self.services.generations.submit(project_id, "voice", req)
        info = follow(job, progress)
        if info.status != "done":
            raise PipelineError(f"The voice could not be made: {info.error or info.status}.")
        return info.id

    def build_request(
        self,
        *,
        image: Path | None,
        audio: Path | None,
        emotion: EmotionSpec | None,
        head_motion: float,
        blink_rate: float,
        seed: int,
        size: int = 512,
        phonemes: tuple[Any, ...] = (),
        voice_emotion: EmotionSpec | None = None,
        silence: float = 3.0,
        framing: str = "auto",
    ) -> PortraitRequest:
        return PortraitRequest(
            image=image,
            audio=audio,
            emotion=emotion,
            voice_emotion=voice_emotion,
            phonemes=phonemes,
            size=int(size),
            head_motion=float(head_motion),
            blink_rate=float(blink_rate),
            silence=float(silence),
            framing=framing,
            seed=int(seed),
        )

    def generate(
        self,
        project_id: int | None,
        photo: str | None,
        audio_mode: str,
        audio_file: str | None,
        voice_gen: int | None,
        text: str,
        emotion: EmotionSpec | None,
        head_motion: float,
        blink_rate: float,
        seed: int,
        size: int = 512,
        progress: Callable[..., Any] | None = None,
        framing: str = "auto",
        backend: str | None = None,
    ) -> GenerationInfo:
        """Everything the Generate button does; returns the finished portrait generation."""
        pid = _project_or_scratch(self.services, project_id)
        image = self.store_upload(photo) if photo else None
        audio, phonemes, voice_emotion = None, (), None
        if audio_mode == "upload":
            if not audio_file:
                raise PipelineError("Upload a speech recording (WAV, MP3, FLAC, OGG or M4A).")
            audio = self.store_upload(audio_file)
        elif audio_mode == "voice":
            if voice_gen is None:
                raise PipelineError("Choose a Voice generation from this project.")
            audio, phonemes, voice_emotion = self.voice_audio(voice_gen)
        elif audio_mode == "text":
            gid = self.speak(pid, text, emotion, seed, progress)
            audio, phonemes, voice_emotion = self.voice_audio(gid)
        request = self.build_request(
            image=image, audio=audio, emotion=emotion, head_motion=head_motion,
            blink_rate=blink_rate, seed=seed, size=size, phonemes=phonemes,
            voice_emotion=voice_emotion, framing=framing,
        )  # fmt: skip
        job = self.services.generations.submit(pid, "portrait", request, backend=backend or None)
        return follow(job, progress)

    def outputs(self, info: GenerationInfo) -> tuple[str | None, str | None, str]:
        """Video path, stills path and the status + emotion-check Markdown."""
        if info.status != "done":
            return None, None, outcome(info)
        video = str(self.store.artifact_path(info, "video"))
        stills = str(self.store.artifact_path(info, "stills"))
        return video, stills, outcome(info) + "\n\n" + emotion_check_markdown(info.metadata)


def emotion_check_markdown(meta: dict[str, Any]) -> str:
    """The emotion check as a small Markdown table (face units: 1 = distance between the eyes)."""
    lines = [f"**Emotion:** {md_escape(str(meta.get('emotion', '?')))} "
             f"(from {md_escape(str(meta.get('emotion_source', '?')))})"]  # fmt: skip
    lines += [f"- {md_escape(str(n))}" for n in meta.get("notes", [])]
    check = meta.get("emotion_check")
    if not check:
        return "\n".join(lines)
    if "error" in check:
        return "\n".join([*lines, f"Emotion check: {md_escape(str(check['error']))}"])
    lines += [
        "",
        f"Lip sync r = {check['lip_sync_r']:.2f} (lag {check['lip_sync_lag_frames']} frames) · "
        f"blinks {check['blinks']} · head roll range {check['head_range']['roll_deg']:.1f}°",
        "",
        "| vs neutral render | value |",
        "|---|---|",
    ]
    names = {
        "corner_lift": "lip-corner lift",
        "inner_brow": "inner brow height",
        "outer_brow": "outer brow height",
        "eye_open": "eye opening",
        "mouth_open": "mouth opening",
    }
    for key, label in names.items():
        value = check.get("vs_neutral", {}).get(key)
        if value is not None:
            lines.append(f"| {label} | {value:+.3f} |")
    return "\n".join(lines)


def build_tab(ctx: TabContext) -> None:
    import gradio as gr

    tab = PortraitTab(ctx.services)
    labels = [(AUTO, AUTO), *label_choices()]
    with gr.Tab("Portrait", id="portrait") as pane:
        status = gr.Markdown(elem_id="portrait-status")
        with gr.Row():
            with gr.Column():
                photo = gr.Image(value=str(DEFAULT_IMAGE), type="filepath", label="Photo")
                start = "text" if tab.voice_available() else "upload"
                mode = gr.Radio(
                    [("Upload audio", "upload"), ("Voice generation", "voice"),
                     ("Type text (spoken by the Voice pipeline)", "text"),
                     ("Silent (breathing portrait)", "silent")],
                    value=start, label="Speech", elem_id="portrait-speech",
                )  # fmt: skip
                audio = gr.Audio(
                    type="filepath", label="Speech recording", visible=start == "upload"
                )
                voice_gen = gr.Dropdown(
                    [], label="Voice generation", allow_custom_value=False, visible=False,
                    elem_id="portrait-voice-gen",
                )  # fmt: skip
                text = gr.Textbox(
                    label="Text", placeholder="Hello! Nice to meet you.", elem_id="portrait-text",
                    visible=start == "text",
                )  # fmt: skip
            with gr.Column():
                label = gr.Dropdown(labels, value="neutral", label="Emotion")
                blend = gr.Dropdown([NONE, *EMOTIONS], value=NONE, label="Blend with")
                blend_w = gr.Slider(0, 1, 0.3, step=0.05, label="Blend weight")
                intensity = gr.Slider(0, 1, 0.8, step=0.05, label="Intensity")
                head = gr.Slider(0, 2, 1, step=0.1, label="Head motion")
                blinks = gr.Slider(0, 40, 17, step=1, label="Blinks per minute")
                size = gr.Dropdown(list(SIZES), value=512, label="Size (short side, px)")
                framing = gr.Radio(
                    list(FRAMINGS), value="auto", label="Framing",
                    info="full = the whole photo, face = a crop around the head, auto = full "
                    "unless the photo is over twice the face crop",
                )  # fmt: skip
                seed = gr.Number(0, precision=0, label="Seed")
                names, default = backend_names("portrait")
                backend = gr.Dropdown(
                    names, value=default, label="Backend", elem_id="portrait-backend",
                    info=backend_info("portrait", default),
                )  # fmt: skip
                go = gr.Button("Generate", variant="primary", elem_id="portrait-generate")
        with gr.Row():
            video = gr.Video(label="Talking portrait", interactive=False)
            stills = gr.Image(label="Stills", interactive=False)

        def on_generate(
            pid: int | None, photo_v: str | None, mode_v: str, audio_v: str | None,
            gen_v: int | None, text_v: str, label_v: str, blend_v: str, bw: float, inten: float,
            head_v: float, blink_v: float, size_v: int, framing_v: str, seed_v: float,
            backend_v: str | None, progress: gr.Progress = gr.Progress(),
        ) -> Iterator[list[Any]]:  # fmt: skip
            yield ["Working…", gr.skip(), gr.skip()]
            try:
                emotion = build_emotion(label_v, blend_v, bw, inten)
                info = tab.generate(
                    pid, photo_v, mode_v, audio_v, gen_v, text_v, emotion, head_v, blink_v,
                    int(seed_v or 0), int(size_v), progress, framing_v or "auto", backend_v,
                )  # fmt: skip
            except USER_ERRORS as exc:
                yield [problem(exc), gr.skip(), gr.skip()]
                return
            v, s, msg = tab.outputs(info)
            yield [msg, v, s]

        go.click(
            on_generate,
            [ctx.project, photo, mode, audio, voice_gen, text, label, blend, blend_w, intensity,
             head, blinks, size, framing, seed, backend],
            [status, video, stills],
            concurrency_id=HEAVY,
            concurrency_limit=1,
        )  # fmt: skip

        def on_project(pid: int | None) -> Any:
            return gr.update(choices=tab.voice_choices(pid), value=None)

        def on_backend(name: str | None) -> Any:
            return gr.update(info=backend_info("portrait", name))

        backend.change(on_backend, backend, backend, queue=False)
        ctx.project.change(on_project, ctx.project, voice_gen, queue=False)
        mode.change(on_project, ctx.project, voice_gen)

        def on_mode(m: str) -> list[Any]:  # only the chosen kind of speech's input shows
            return [gr.update(visible=m == kind) for kind in ("upload", "voice", "text")]

        mode.change(on_mode, mode, [audio, voice_gen, text], queue=False)

        def on_open(pid: int | None, chosen: int | None) -> Any:  # new voices made meanwhile
            choices = tab.voice_choices(pid)
            return gr.update(
                choices=choices, value=chosen if chosen in dict(choices).values() else None
            )

        pane.select(on_open, [ctx.project, voice_gen], voice_gen, queue=False)
