"""Music tab: emotion → editable attribute targets → a piece (audio, piano roll, MIDI, report).

The handlers are plain module functions over plain values (``emotion_text``, ``implied``,
``build_request``, ``start``, ``present``) so tests call them without a browser; ``build_tab``
only lays out components and wires events to them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from pipelines.base import coerce_emotion
from pipelines.emotion import SYNTAX, label_choices
from pipelines.music.mapping import targets_for
from pipelines.music.request import MusicRequest
from projects_db import GenerationInfo
from studio.music_training import Training, midi_folder, model_choices, model_path
from studio.service import Job
from studio.settings import Services
from studio.ui import (
    HEAVY,
    USER_ERRORS,
    TabContext,
    backend_info,
    backend_names,
    follow,
    outcome,
    problem,
    project_or_scratch,
)

SOURCES = ("Labels", "Blend text", "Valence–arousal")
TARGET_FIELDS = ("tempo", "mode", "density", "register", "dynamics", "articulation")
TABLE_HEADERS = ["attribute", "requested", "measured", "tolerance", "hit"]


def instrument_choices() -> list[tuple[str, int]]:
    """(label, GM program) pairs for the instrument dropdowns."""
    import pretty_midi

    return [(f"{i} {pretty_midi.program_to_instrument_name(i)}", i) for i in range(128)]


def emotion_text(
    source: str,
    labels: Sequence[str] | None,
    blend: str,
    valence: float,
    arousal: float,
    intensity: float,
) -> str:
    """The emotion spec text the picker describes (validated; ValueError/PipelineError if bad)."""
    at = "" if float(intensity) >= 1.0 else f"@{float(intensity):g}"
    if source == SOURCES[2]:
        text = f"vad:{float(valence):g},{float(arousal):g},0{at}"
    elif source == SOURCES[1]:
        text = (blend or "").strip()
        if "@" not in text and at:
            text += at
    else:
        chosen = list(labels or [])
        if not chosen:
            raise ValueError("Pick at least one emotion label (or switch to blend text).")
        text = "+".join(chosen) + at
    return str(coerce_emotion(text))


def implied(emotion: str) -> list[Any]:
    """The targets an emotion implies, in the order of the editable fields + 3 instruments."""
    t = targets_for(coerce_emotion(emotion))
    values = [t.tempo, t.mode, t.note_density, t.register, t.velocity, t.articulation]
    return [*values, *t.instruments]


def build_request(
    emotion: str,
    length_unit: str,
    length: float,
    seed: float,
    edited: Sequence[Any],
    instruments: Sequence[Any],
    reference: str | Path | None = None,
    model: str | None = None,
) -> MusicRequest:
    """A request with only the edits that differ from what the emotion implies as overrides."""
    spec = coerce_emotion(emotion)
    base = implied(str(spec))
    fields: dict[str, Any] = {"emotion": spec, "seed": int(seed or 0)}
    if length_unit == "seconds":
        fields["seconds"] = float(length)
    else:
        fields["bars"] = int(length)
    if reference is None:  # with a reference its attributes rule; edits still override below
        for name, value, default in zip(TARGET_FIELDS, edited, base, strict=False):
            if value is not None and value != "" and _differs(value, default):
                fields[name] = value if name == "mode" else float(value)
    progs = tuple(int(p) for p in instruments if p is not None)
    if progs and progs != tuple(base[6:9]):
        fields["instruments"] = progs
    if reference:
        fields["reference_midi"] = Path(reference)
    if model:
        fields["model"] = Path(model)
    return MusicRequest(**fields)


def _differs(value: Any, default: Any) -> bool:
    if isinstance(default, str):
        return bool(value != default)
    return abs(float(value) - float(default)) > 1e-3 * max(1.0, abs(float(default)))


def start(
    services: Services,
    project_id: int | None,
    request: MusicRequest,
    upload: str | None = None,
    backend: str | None = None,
) -> Job:
    """Submit the request (storing an uploaded reference MIDI as a project asset first)."""
    assets: dict[str, int] = {}
    if upload:
        asset = services.store.add_asset(Path(upload), Path(upload).name)
        request = request.replace(reference_midi=asset.path)
        assets["reference_midi"] = asset.id
    pid = project_or_scratch(services, project_id)
    return services.generations.submit(
        pid, "music", request, assets=assets, backend=backend or None
    )


def present(services: Services, info: GenerationInfo) -> dict[str, Any]:
    """What the result area shows for a finished generation."""
    out: dict[str, Any] = {"status": outcome(info), "audio": None, "roll": None, "files": []}
    out["table"] = []
    if info.status != "done":
        return out
    paths = {n: str(services.store.artifact_path(info, n)) for n in info.artifacts}
    out["audio"], out["roll"] = paths.get("audio"), paths.get("pianoroll")
    out["files"] = [paths[n] for n in ("midi", "audio", "tokens") if n in paths]
    meta = info.metadata
    out["table"] = [
        [c["attribute"], str(c["requested"]), str(c["measured"]), c["tolerance"],
         "✅" if c["hit"] else "❌"]
        for c in meta.get("attribute_checks", [])
    ]  # fmt: skip
    if "attribute_accuracy" in meta:
        out["status"] += f" Key {meta.get('key', '?')}; attribute control "
        out["status"] += f"{meta['attribute_accuracy']:.0%}."
    for note in meta.get("relaxed", []):
        out["status"] += f"\n\nℹ️ {note}"
    return out


TRAIN_HELP = (
    "The learned (emogen) backend writes its melody with a small model. Train one on your own "
    "MIDI files (at least 4 pieces in 4/4, 3/4, 2/4 or 6/8; tens to hundreds work best) and it "
    "picks up their style: the emotion controls (key, mode, density, register) still steer it. "
    "Starting from the bundled model (fine-tuning) works with a handful of pieces. "
    "The first run builds the training environment (torch, about 3 minutes). The run saves its "
    "state every few minutes: cancel any time and tick *Resume* to go on. The model is saved in "
    "the studio's data folder under models/music/."
)


def begin_training(
    services: Services,
    folder: str | None,
    uploads: list[Any] | None,
    name: str,
    minutes: float,
    resume: bool,
    from_bundled: bool = False,
) -> Training:
    """Start training a music model on the user's MIDI (a background thread); from the
    bundled model's weights (fine-tuning) or from scratch."""
    data_dir = services.settings.data_dir
    out = model_path(data_dir, name)
    source = midi_folder(data_dir, name, folder, uploads)
    run = Training(out)
    from pipelines.music.learned.backend import SHIPPED

    run.start(source, float(minutes), bool(resume), SHIPPED if from_bundled else None)
    return run


def build_tab(ctx: TabContext) -> None:
    services = ctx.services
    first = implied("happy")
    gm = instrument_choices()
    with gr.Tab("Music", id="music"):
        status = gr.Markdown(elem_id="music-status")
        with gr.Row():
            with gr.Column():
                source = gr.Radio(list(SOURCES), value=SOURCES[0], label="Emotion from")
                labels = gr.Dropdown(
                    label_choices(), value=["happy"], multiselect=True, label="Labels (equal blend)"
                )
                blend = gr.Textbox(
                    label="Blend", placeholder="happy:0.7+surprised:0.3", info=SYNTAX,
                    visible=False,
                )  # fmt: skip
                with gr.Row():
                    valence = gr.Slider(-1, 1, value=0.6, step=0.05, label="Valence", visible=False)
                    arousal = gr.Slider(-1, 1, value=0.4, step=0.05, label="Arousal", visible=False)
                intensity = gr.Slider(0, 1, value=1, step=0.05, label="Intensity")
                with gr.Row():
                    unit = gr.Radio(["bars", "seconds"], value="bars", label="Length in")
                    length = gr.Number(value=8, label="Length", minimum=1, maximum=600)
                    seed = gr.Number(value=0, precision=0, label="Seed", minimum=0)
                reference = gr.File(label="Reference MIDI (optional)", file_types=[".mid", ".midi"])
            with gr.Column():
                gr.Markdown("**Attribute targets** — implied by the emotion; edit to override.")
                with gr.Row():
                    tempo = gr.Number(first[0], label="Tempo (BPM)", minimum=30, maximum=240)
                    mode = gr.Dropdown(["major", "minor"], value=first[1], label="Mode")
                    density = gr.Number(first[2], label="Note density (notes/s)")
                with gr.Row():
                    register = gr.Number(first[3], label="Register (mean MIDI pitch)")
                    dynamics = gr.Number(first[4], label="Dynamics (mean velocity)")
                    articulation = gr.Slider(
                        0.3, 1, value=first[5], step=0.01, label="Articulation"
                    )
                with gr.Row():
                    insts = [
                        gr.Dropdown(gm, value=first[6 + i], label=name, min_width=210)
                        for i, name in enumerate(("Melody", "Accompaniment", "Bass"))
                    ]
                with gr.Row():
                    names, default = backend_names("music")
                    backend = gr.Dropdown(
                        names, value=default, label="Backend", elem_id="music-backend",
                        info=backend_info("music", default), scale=2,
                    )  # fmt: skip
                    model = gr.Dropdown(
                        model_choices(services.settings.data_dir), value="", label="Model",
                        info="For the emogen backend: the bundled model or one you trained.",
                        elem_id="music-model", scale=2, min_width=300,
                    )  # fmt: skip
                generate = gr.Button("Generate", variant="primary", elem_id="music-generate")
        audio = gr.Audio(label="Audio", interactive=False)
        roll = gr.Image(label="Piano roll", interactive=False, show_label=False)
        table = gr.Dataframe(headers=TABLE_HEADERS, value=[], label="Requested vs measured")
        files = gr.File(label="MIDI, WAV and REMI tokens", file_count="multiple")
        with gr.Accordion("Your own style: train the learned model on your MIDI", open=False):
            gr.Markdown(TRAIN_HELP)
            with gr.Row():
                train_folder = gr.Textbox(
                    label="MIDI folder on this computer", placeholder="/home/me/midi",
                    elem_id="music-train-folder", scale=3,
                )  # fmt: skip
                train_files = gr.File(
                    label="…or upload .mid files", file_count="multiple",
                    file_types=[".mid", ".midi"], scale=2,
                )  # fmt: skip
            with gr.Row():
                train_name = gr.Textbox(value="my-style", label="Model name", scale=2)
                train_minutes = gr.Slider(1, 240, value=20, step=1, label="Minutes of training")
                train_resume = gr.Checkbox(False, label="Resume this model's last run")
                train_base = gr.Checkbox(
                    True, label="Start from the bundled model (fine-tune: best for a few pieces)"
                )
            with gr.Row():
                train_go = gr.Button("Train", variant="primary", elem_id="music-train")
                train_stop = gr.Button("Cancel training", elem_id="music-train-cancel")
            train_log = gr.Textbox(label="Training", lines=6, max_lines=12, interactive=False)
        training = gr.State(None)

        picker: list[Any] = [source, labels, blend, valence, arousal, intensity]
        target_boxes = [tempo, mode, density, register, dynamics, articulation, *insts]

        def on_emotion(*values: Any) -> list[Any]:
            try:
                return ["", *implied(emotion_text(*values))]
            except USER_ERRORS as exc:
                return [problem(exc), *([gr.skip()] * len(target_boxes))]

        for comp in picker:
            comp.change(on_emotion, picker, [status, *target_boxes], queue=False)

        def on_source(src: str) -> list[Any]:  # only the chosen way of giving the emotion shows
            shown = [src == SOURCES[0], src == SOURCES[1], src == SOURCES[2], src == SOURCES[2]]
            return [gr.update(visible=v) for v in shown]

        source.change(on_source, source, [labels, blend, valence, arousal], queue=False)

        def on_generate(
            pid: int | None,
            src: str,
            labs: list[str] | None,
            text: str,
            v: float,
            a: float,
            i: float,
            u: str,
            n: float,
            s: float,
            bpm: float | None,
            md: str | None,
            dens: float | None,
            reg: float | None,
            dyn: float | None,
            art: float | None,
            mel: int | None,
            acc: int | None,
            bass: int | None,
            ref: str | None,
            backend_v: str | None,
            model_v: str | None,
            progress: gr.Progress = gr.Progress(),
        ) -> Iterator[list[Any]]:
            try:
                emo = emotion_text(src, labs, text, v, a, i)
                edits = [bpm, md, dens, reg, dyn, art]
                chosen = model_v if backend_v == "emogen" else None
                req = build_request(emo, u, n, s, edits, [mel, acc, bass], ref, chosen)
                job = start(services, pid, req, ref, backend_v)
            except USER_ERRORS as exc:
                yield [problem(exc), gr.skip(), gr.skip(), gr.skip(), gr.skip()]
                return
            yield ["Composing…", gr.skip(), gr.skip(), gr.skip(), gr.skip()]
            shown = present(services, follow(job, progress))
            yield [shown[k] for k in ("status", "audio", "roll", "table", "files")]

        generate.click(
            on_generate,
            [ctx.project, *picker, unit, length, seed, *target_boxes, reference, backend, model],
            [status, audio, roll, table, files],
            concurrency_id=HEAVY,
            concurrency_limit=1,
        )

        def on_backend(name: str | None) -> Any:
            return gr.update(info=backend_info("music", name))

        backend.change(on_backend, backend, backend, queue=False)

        def on_train(
            folder: str,
            uploads: list[Any] | None,
            name: str,
            minutes: float,
            resume: bool,
            from_bundled: bool = True,
        ) -> Iterator[list[Any]]:
            try:
                run = begin_training(services, folder, uploads, name, minutes, resume, from_bundled)
            except USER_ERRORS as exc:
                yield [problem(exc), None, gr.skip()]
                return
            yield ["Training…", run, gr.skip()]
            while not run.done.wait(1.0):
                yield ["\n".join(run.lines[-12:]), run, gr.skip()]
            choices = model_choices(services.settings.data_dir)
            log = "\n".join([*run.lines[-11:], run.summary()])
            yield [
                log,
                None,
                gr.update(choices=choices, value=str(run.out) if not run.error else ""),
            ]

        def on_stop(run: Training | None) -> str:
            if run is None:
                return "No training is running."
            run.token.cancel()
            return "Cancelling — the last saved state can be resumed."

        train_go.click(
            on_train,
            [train_folder, train_files, train_name, train_minutes, train_resume, train_base],
            [train_log, training, model],
            concurrency_id="music-train",
            concurrency_limit=1,
        )
        train_stop.click(on_stop, training, train_log, queue=False)
