"""Voice tab: text + emotion + accent + description → speech, F0 plot, emotion check, files.

Handlers are plain module functions over plain values (``emotion_text``, ``preview``,
``build_request``, ``start``, ``present``) so tests call them without a browser; ``build_tab``
only lays out components and wires events to them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import gradio as gr

from pipelines import registry
from pipelines.base import coerce_emotion
from pipelines.emotion import SYNTAX, label_choices
from pipelines.voice.accents import accent_choices
from pipelines.voice.auto import AUTO
from pipelines.voice.prosody import VOICE_PRESETS
from pipelines.voice.request import VoiceRequest, plan
from projects_db import GenerationInfo
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

CHECK_HEADERS = ["measure", "value", "intended change vs neutral"]
_CHECKS = (
    ("f0_median_hz", "F0 median (Hz)", "pitch_shift", "{:+.1f} semitones"),
    ("f0_range_st", "F0 range (semitones)", "pitch_range", "× {:.2f}"),
    ("energy_db", "Energy (dBFS)", "gain_db", "{:+.1f} dB"),
    ("rate_phones_s", "Speaking rate (phones/s)", "rate", "× {:.2f}"),
    ("pause_ratio", "Pause share", "pause", "pauses × {:.2f}"),
    ("f0_instability_st", "F0 instability (semitones)", "variability", "tremor {:.2f}"),
)


AUTO_CHOICE = ("Auto (from the text)", AUTO)
"""The picker's choice that reads the emotion and intensity from the text."""

SPEAKER_NAMES = {"joe-light": ("joe-light (the male voice shifted up)", "joe-light")}
"""Speaker labels that say plainly what a preset is."""


def emotion_text(labels: Sequence[str] | None, blend: str, intensity: float) -> str:
    """The emotion spec from the picker: blend text if given, else the labels in equal parts;
    "auto" when the picker holds the Auto choice (and no blend)."""
    at = "" if float(intensity) >= 1.0 else f"@{float(intensity):g}"
    text = (blend or "").strip()
    if not text and AUTO in (labels or []):
        return AUTO
    if not text:
        return str(coerce_emotion("+".join(labels or ["neutral"]) + at))
    return str(coerce_emotion(text if "@" in text else text + at))


def build_request(
    text: str,
    emotion: str,
    accent: str,
    voice: str,
    description: str,
    rate: float,
    pitch: float,
    seed: float | None,
    check: bool = False,
) -> VoiceRequest:
    """A validated request (PipelineError with a readable message if anything is off).
    ``emotion`` "auto" reads the emotion from the text."""
    auto = (emotion or "").strip().lower() == AUTO
    return VoiceRequest(
        text=text or "",
        emotion=coerce_emotion("neutral" if auto else emotion),
        auto_emotion=auto,
        accent=accent or "us",
        voice=voice or "joe",
        description=description or "",
        rate=float(rate),
        pitch=float(pitch),
        seed=int(seed or 0),
        check_intelligibility=bool(check),
    )


def preview(description: str, emotion: str, accent: str, voice: str) -> str:
    """Markdown: what the description was read as, and which setting wins where they differ."""
    auto = (emotion or "").strip().lower() == AUTO
    req = VoiceRequest(
        text="preview", emotion=coerce_emotion("neutral" if auto else emotion), accent=accent,
        voice=voice, description=description or "",
    )  # fmt: skip
    p = plan(req)  # "auto" is read from the text at generation, not from this placeholder
    lines = [f"**Read as:** {md_escape(p.parse.summary())}"] if description.strip() else []
    shown = "the emotion read from the text" if auto else md_escape(str(p.emotion))
    lines.append(f"**Will use:** {shown} · accent {p.accent} · voice {p.voice}")
    lines += [f"- {md_escape(n)}" for n in p.notes]
    return "\n".join(lines)


def start(services: Services, project_id: int | None, request: VoiceRequest, backend: str) -> Job:
    """Submit the request to the shared generation queue."""
    pid = project_or_scratch(services, project_id)
    return services.generations.submit(pid, "voice", request, backend=backend or None)


def present(services: Services, info: GenerationInfo) -> dict[str, Any]:
    """What the result area shows for a finished generation."""
    out: dict[str, Any] = {"status": outcome(info), "audio": None, "plot": None, "files": []}
    out["checks"], out["parse"] = [], ""
    if info.status != "done":
        return out
    paths = {n: str(services.store.artifact_path(info, n)) for n in info.artifacts}
    out["audio"], out["plot"] = paths.get("audio"), paths.get("f0_plot")
    names = ("audio", "subtitles", "subtitles_vtt", "timings")
    out["files"] = [paths[n] for n in names if n in paths]
    meta = info.metadata
    measures, pros = meta.get("measures", {}), meta.get("prosody", {})
    out["checks"] = [
        [title, f"{measures[key]:.2f}", fmt.format(pros[target]) if target in pros else ""]
        for key, title, target, fmt in _CHECKS
        if key in measures
    ]
    if "wer" in meta:
        out["checks"].append(["Word error rate (pocketsphinx)", f"{meta['wer']:.1%}", ""])
        out["checks"].append(["Heard", meta.get("transcript", ""), ""])
    for key, title in (("p808", "Naturalness, DNSMOS P.808 (1-5)"), ("sig", "DNSMOS SIG"),
                       ("bak", "DNSMOS BAK"), ("ovrl", "DNSMOS OVRL")):  # fmt: skip
        if key in meta.get("dnsmos", {}):
            out["checks"].append([title, f"{meta['dnsmos'][key]:.2f}", ""])
    read = meta.get("emotion_read")
    auto = [f"**Emotion (auto, read from the text):** {md_escape(meta.get('emotion', ''))}"]
    out["parse"] = "\n".join(
        (auto if read else [])
        + [f"**Description read as:** {md_escape(meta.get('description_summary', ''))}"]
        + [f"- {md_escape(n)}" for n in meta.get("notes", [])]
    )
    return out


def build_tab(ctx: TabContext) -> None:
    services = ctx.services
    backends = [b.name for b in registry.backends("voice")]
    with gr.Tab("Voice", id="voice"):
        status = gr.Markdown(elem_id="voice-status")
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(
                    label="Text",
                    lines=5,
                    placeholder="Namaste, let's talk about it. English and हिन्दी can be mixed.",
                    elem_id="voice-text",
                )
                description = gr.Textbox(
                    label="Voice description (optional, Parler-TTS words)",
                    placeholder="A female speaker speaks slightly slowly and sadly, "
                    "with an Indian accent, in a very close-sounding environment",
                    lines=2,
                )
                parsed = gr.Markdown(elem_id="voice-parse")
            with gr.Column(scale=2):
                labels = gr.Dropdown(
                    [AUTO_CHOICE, *label_choices()],
                    value=["neutral"],
                    multiselect=True,
                    label="Emotion(s)",
                    info="Auto (from the text): the emotion and intensity are read from the text.",
                )
                blend = gr.Textbox(
                    label="Blend (optional)", placeholder="happy:0.7+surprised:0.3", info=SYNTAX
                )
                intensity = gr.Slider(0, 1, value=1, step=0.05, label="Intensity")
                with gr.Row():
                    accent = gr.Dropdown(
                        accent_choices(), value="us", label="Accent", min_width=200
                    )
                    voice = gr.Dropdown(
                        [SPEAKER_NAMES.get(v, (v, v)) for v in VOICE_PRESETS],
                        value="joe",
                        label="Speaker",
                    )
                    backend = gr.Dropdown(
                        backends, value=backends[0] if backends else None, label="Backend"
                    )
                with gr.Row():
                    rate = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Speed ×")
                    pitch = gr.Slider(-12, 12, value=0, step=0.5, label="Pitch (semitones)")
                with gr.Row():
                    seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
                    check = gr.Checkbox(
                        label="Check intelligibility (WER) and naturalness (DNSMOS)", value=False
                    )
                generate = gr.Button("Generate", variant="primary", elem_id="voice-generate")
        with gr.Row():
            audio = gr.Audio(label="Speech", interactive=False)
            plot = gr.Image(label="F0 contour", interactive=False)
        checks = gr.Dataframe(headers=CHECK_HEADERS, value=[], label="Emotion check")
        parse_out = gr.Markdown()
        files = gr.File(label="WAV, subtitles (SRT, VTT) and timings", file_count="multiple")

        def on_describe(d: str, labs: list[str], bl: str, inten: float, acc: str, vo: str) -> str:
            try:
                return preview(d, emotion_text(labs, bl, inten), acc, vo)
            except USER_ERRORS as exc:
                return problem(exc)

        preview_inputs: list[Any] = [description, labels, blend, intensity, accent, voice]
        for comp in preview_inputs:
            comp.change(on_describe, preview_inputs, [parsed], queue=False)

        def on_generate(
            pid: int | None, txt: str, d: str, labs: list[str], bl: str, inten: float,
            acc: str, vo: str, be: str, rt: float, pt: float, sd: float, chk: bool,
            progress: gr.Progress = gr.Progress(),
        ) -> Iterator[list[Any]]:  # fmt: skip
            skip = [gr.skip()] * 5
            try:
                req = build_request(txt, emotion_text(labs, bl, inten), acc, vo, d, rt, pt, sd, chk)
                job = start(services, pid, req, be)
            except USER_ERRORS as exc:
                yield [problem(exc), *skip]
                return
            yield ["Speaking…", *skip]
            shown = present(services, follow(job, progress))
            yield [shown[k] for k in ("status", "audio", "plot", "checks", "parse", "files")]

        generate.click(
            on_generate,
            [ctx.project, text, description, labels, blend, intensity, accent, voice, backend,
             rate, pitch, seed, check],
            [status, audio, plot, checks, parse_out, files],
            concurrency_id=HEAVY,
            concurrency_limit=1,
        )  # fmt: skip
