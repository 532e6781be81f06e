"""Explicit registry of tasks and backends, keyed by (task, backend name), with lazy imports.

Nothing here imports a backend module until it is asked for, so listing backends (UI dropdowns,
``launch.py --help``) stays instant. Add a backend by adding one ``BackendSpec`` line.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from pipelines.base import Backend, PipelineError, Request


@dataclass(frozen=True)
class TaskSpec:
    """A task the studio can run."""

    name: str
    """Short id used in the DB, the CLI and URLs ("voice", "portrait", …)."""
    title: str
    """What the UI shows."""
    request: str
    """``"module:Class"`` of the task's Request dataclass."""
    test_only: bool = False
    """Hidden from the UI and CLI unless asked for (the contract-test task)."""


@dataclass(frozen=True)
class BackendSpec:
    """One backend of a task."""

    task: str
    name: str
    target: str
    """``"module:Class"`` implementing ``pipelines.base.Backend``."""
    description: str
    default: bool = False
    """The task's embedded default (offline, CPU, weights from packages)."""
    test_only: bool = False
    needs_setup: bool = False
    """Needs something the user provides (a server, a checkpoint and its environment); its own
    tests provide one and run the contract checks, so the generic contract test skips it."""


TASKS: tuple[TaskSpec, ...] = (
    TaskSpec("voice", "Voice", "pipelines.voice.request:VoiceRequest"),
    TaskSpec("portrait", "Portrait", "pipelines.portrait.request:PortraitRequest"),
    TaskSpec("music", "Music", "pipelines.music.request:MusicRequest"),
    TaskSpec("dialogue", "Dialogue", "pipelines.dialogue.request:DialogueRequest"),
    TaskSpec("compose", "Compose", "pipelines.compose:ComposeRequest"),
    TaskSpec("tiny", "Tiny test tone", "pipelines.tiny:TinyRequest", test_only=True),
)
"""Every task, in UI order."""

BACKENDS: tuple[BackendSpec, ...] = (
    BackendSpec(
        "voice",
        "piper",
        "pipelines.voice.piper:PiperBackend",
        "Neural Piper voice (offline, CPU) with emotion prosody and phoneme-level accents.",
        default=True,
    ),
    BackendSpec(
        "voice",
        "parler",
        "pipelines.voice.parler:ParlerBackend",
        "Parler-TTS from a local checkpoint, in its own environment "
        "(python launch.py backends install parler).",
        needs_setup=True,
    ),
    BackendSpec(
        "voice",
        "tiny",
        "pipelines.voice.tiny:TinyVoiceBackend",
        "Formant buzz built in code, for tests.",
        test_only=True,
    ),
    BackendSpec(
        "portrait",
        "warp",
        "pipelines.portrait.landmark_warp:WarpBackend",
        "Landmark-driven 2-D warp animation (dlib 68 points + OpenCV), offline, real time on CPU.",
        default=True,
    ),
    BackendSpec(
        "portrait",
        "dice",
        "pipelines.portrait.dice.backend:DiceBackend",
        "DICE-Talk diffusion (GPU, ~20 GB) from your own weights in --model-dir, in its own "
        "environment (python launch.py backends install dice). Weights: DICE-Talk CC BY-NC-SA "
        "4.0 (non-commercial); Stable Video Diffusion under its own licence.",
        needs_setup=True,
    ),
    BackendSpec(
        "portrait",
        "tiny",
        "pipelines.portrait.tiny:TinyPortraitBackend",
        "A drawn cartoon face animated in code, for tests.",
        test_only=True,
    ),
    BackendSpec(
        "music",
        "rules",
        "pipelines.music.rules:RulesBackend",
        "Attribute-following composer (EmoGen stage 1 targets → seeded multi-track MIDI).",
        default=True,
    ),
    BackendSpec(
        "music",
        "emogen",
        "pipelines.music.learned.backend:EmoGenBackend",
        "Learned EmoGen stage 2: a small decoder (bundled, trained here on public-domain folk "
        "tunes and chorales) follows attribute controls (best of 4), with the rule composer's "
        "performance and accompaniment; or your own model, trained in the Music tab.",
    ),
    BackendSpec(
        "dialogue",
        "smollm",
        "pipelines.dialogue.smollm:SmolLMBackend",
        "Bundled SmolLM2-135M-Instruct (offline, CPU), guided by emotion understanding and a "
        "personality-driven reply emotion.",
        default=True,
    ),
    BackendSpec(
        "dialogue",
        "openai",
        "pipelines.dialogue.openai_compat:OpenAIBackend",
        "Any OpenAI-compatible chat server (Ollama, llama.cpp server, vLLM): base URL + model "
        "+ optional key.",
        needs_setup=True,
    ),
    BackendSpec(
        "dialogue",
        "tiny",
        "pipelines.dialogue.tiny:TinyDialogueBackend",
        "Seeded template replies built in code, for tests.",
        test_only=True,
    ),
    BackendSpec(
        "music",
        "tiny",
        "pipelines.music.tiny:TinyMusicBackend",
        "A few notes built in code, for tests.",
        test_only=True,
    ),
    BackendSpec(
        "tiny",
        "tiny",
        "pipelines.tiny:TinyBackend",
        "Seeded emotional tone sequence built in code; exercises the contract in tests.",
        default=True,
        test_only=True,
    ),
    BackendSpec(
        "compose",
        "chain",
        "pipelines.compose:ComposeBackend",
        "Text → the Voice, Portrait and Music defaults → one MP4 with the music ducked under "
        "the speech.",
        default=True,
    ),
    BackendSpec(
        "compose",
        "tiny",
        "pipelines.compose:TinyComposeBackend",
        "The same chain over the tiny voice, portrait and music backends, for tests.",
        test_only=True,
    ),
)
"""Every backend; a task's first ``default=True`` entry is its default."""


def _load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PipelineError(
            f"Backend module {module_name} could not be imported ({exc}). "
            "Install the studio's dependencies again (see README)."
        ) from exc
    return getattr(module, attr)


def tasks(*, include_test: bool = False) -> list[TaskSpec]:
    """The tasks, in UI order."""
    return [t for t in TASKS if include_test or not t.test_only]


def task(name: str) -> TaskSpec:
    """The task called ``name`` or a PipelineError listing the valid ones."""
    for t in TASKS:
        if t.name == name:
            return t
    valid = ", ".join(t.name for t in tasks())
    raise PipelineError(f"Unknown task {name!r}. Valid tasks: {valid or '(none yet)'}.")


def backends(task_name: str | None = None, *, include_test: bool = False) -> list[BackendSpec]:
    """Registered backends, optionally for one task."""
    return [
        b
        for b in BACKENDS
        if (task_name is None or b.task == task_name) and (include_test or not b.test_only)
    ]


def backend_spec(task_name: str, name: str | None = None) -> BackendSpec:
    """The spec for (task, name); ``name=None`` gives the task's default."""
    task(task_name)
    candidates = [b for b in BACKENDS if b.task == task_name]
    if name is None:
        for b in candidates:
            if b.default:
                return b
        if candidates:
            return candidates[0]
    for b in candidates:
        if b.name == name:
            return b
    valid = ", ".join(b.name for b in candidates)
    raise PipelineError(f"Unknown backend {name!r} for {task_name}. Valid backends: {valid}.")


def request_type(task_name: str) -> type[Request]:
    """The Request class of a task (imports its module)."""
    cls = _load(task(task_name).request)
    assert isinstance(cls, type) and issubclass(cls, Request)
    return cls


def backend_class(task_name: str, name: str | None = None) -> type[Backend]:
    """The backend class (imports its module; does not load any model)."""
    cls = _load(backend_spec(task_name, name).target)
    assert isinstance(cls, type)
    return cls
