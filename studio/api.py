"""The studio's public HTTP API: one named endpoint per task plus a read-only listing.

``/voice``, ``/portrait``, ``/music``, ``/chat``, ``/compose`` and ``/generations`` take plain,
typed parameters (files as uploads) and run through the same generation service as the tabs, so
every call is recorded in a project and shows up in the Library. Everything else the UI does
(buttons, previews, deletes) is private: :func:`hide_ui_handlers` takes it out of the API
listing, and :class:`PublicOnly` refuses calls to it by name over HTTP.

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    wav, srt, info = client.predict("Hello there.", "happy@0.8", api_name="/voice")
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.portrait.request import DEFAULT_IMAGE
from projects_db import GenerationInfo
from studio.settings import Services
from studio.ui import (
    HEAVY,
    SCRATCH_PROJECT,
    USER_ERRORS,
    existing_project,
    follow,
    project_named,
)

ENDPOINTS = ("voice", "portrait", "music", "chat", "compose", "generations")
"""The only API names a client can see or call."""

_BY_NAME = re.compile(r"^(?P<prefix>.*)/gradio_api/(?:call|run|api)/(?:v2/)?(?P<name>[^/]+)/?$")


UI_CHANNEL = "predict"
"""``POST /gradio_api/run/predict`` with a handler index is how the browser UI runs its handlers
that skip the queue (as ``/queue/join`` is for the others); it is not a named endpoint."""


class PublicOnly:
    """ASGI middleware: a call by API name (``POST /gradio_api/call/NAME`` and its older
    spellings) is refused unless NAME is one of :data:`ENDPOINTS` (or the UI's own channel)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("method") == "POST":
            match = _BY_NAME.match(str(scope.get("path", "")))
            if match and match["name"] not in (*ENDPOINTS, UI_CHANNEL):
                await _not_found(send)
                return
        await self.app(scope, receive, send)


async def _not_found(send: Any) -> None:
    body = json.dumps({"detail": "No such API endpoint. See /gradio_api/info."}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def hide_ui_handlers(app: Any) -> None:
    """Make every event handler that is not a named task endpoint private (not listed in
    ``/gradio_api/info``, not callable by API clients)."""
    for fn in app.fns.values():
        if fn.api_name not in ENDPOINTS:
            fn.api_visibility = "private"


class StudioApi:
    """The endpoint functions, bound to the studio's services (no per-user state)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store

    # -- helpers ------------------------------------------------------------------------------
    def _project(self, name: str) -> int:
        return project_named(self.services, name)

    def _asset(self, path: str | None, role: str, assets: dict[str, int]) -> Path | None:
        if not path:
            return None
        src = Path(path)
        asset = self.store.add_asset(src, src.name)
        assets[role] = asset.id
        return asset.path

    def _run(
        self, project: str, task: str, request: dict[str, Any], assets: dict[str, int] | None = None
    ) -> GenerationInfo:
        pid = self._project(project)
        job = self.services.generations.submit(pid, task, request, assets=assets)
        info = follow(job)
        if info.status != "done":
            raise _user_error(f"Generation #{info.id} {info.status}: {info.error}")
        return info

    def _file(self, info: GenerationInfo, name: str) -> str | None:
        return str(self.store.artifact_path(info, name)) if name in info.artifacts else None

    # -- endpoints ----------------------------------------------------------------------------
    def voice(
        self,
        text: str,
        emotion: str = "neutral",
        accent: str = "us",
        voice: str = "joe",
        description: str = "",
        rate: float = 1.0,
        pitch: float = 0.0,
        seed: int = 0,
        project: str = "",
    ) -> tuple[str | None, str | None, dict[str, Any]]:
        """Speech from text. Returns (WAV file, SRT subtitles, generation record)."""
        request = {
            "text": text, "emotion": emotion or "neutral", "accent": accent or "us",
            "voice": voice or "joe", "description": description or "", "rate": rate,
            "pitch": pitch, "seed": seed,
        }  # fmt: skip
        info = self._run(project, "voice", request)
        return self._file(info, "audio"), self._file(info, "subtitles"), record(info)

    def portrait(
        self,
        audio: str,
        image: str | None = None,
        emotion: str = "",
        size: int = 512,
        seed: int = 0,
        project: str = "",
    ) -> tuple[str | None, dict[str, Any]]:
        """A talking portrait from a photo (default: the bundled one) and speech. An empty
        emotion reads it from the speech. Returns (MP4 file, generation record)."""
        assets: dict[str, int] = {}
        request: dict[str, Any] = {
            "audio": str(self._asset(audio, "audio", assets) or ""),
            "size": size, "seed": seed,
        }  # fmt: skip
        if not request["audio"]:
            raise _user_error("Upload a speech recording (WAV, MP3, FLAC, OGG or M4A) as audio.")
        request["image"] = str(self._asset(image, "image", assets) or DEFAULT_IMAGE)
        if emotion:
            request["emotion"] = emotion
        info = self._run(project, "portrait", request, assets)
        return self._file(info, "video"), record(info)

    def music(
        self,
        emotion: str = "neutral",
        bars: int = 16,
        seed: int = 0,
        project: str = "",
    ) -> tuple[str | None, str | None, dict[str, Any]]:
        """Emotion-conditioned music. Returns (MIDI file, WAV file, generation record)."""
        request = {"emotion": emotion or "neutral", "bars": bars, "seed": seed}
        info = self._run(project, "music", request)
        return self._file(info, "midi"), self._file(info, "audio"), record(info)

    def chat(
        self, message: str, conversation: int = 0, seed: int = 0, project: str = ""
    ) -> tuple[str, int, dict[str, Any]]:
        """One turn with the empathetic partner; ``conversation`` 0 starts a new one.
        Returns (reply, conversation id, turn details)."""
        from studio.dialogue import Dialogue

        dialogue = Dialogue(self.services)
        conv_id = int(conversation or 0)
        if conv_id <= 0:
            conv_id = dialogue.start(self._project(project), {}, None).id
        final = None
        for update in dialogue.send(conv_id, message, seed=seed):
            final = update
        if final is None or final.turn is None:
            raise _user_error("The reply could not be made.")
        turn = final.turn
        details = {
            "detected": turn.detected, "planned_emotion": turn.planned_emotion,
            "cause_words": turn.cause_words, "rubric": turn.rubric, "patterns": turn.patterns,
            "generation_id": turn.generation_id,
        }  # fmt: skip
        return turn.reply, conv_id, jsonable(details)

    def compose(
        self,
        text: str,
        emotion: str = "neutral",
        image: str | None = None,
        accent: str = "us",
        music: bool = True,
        size: int = 384,
        seed: int = 0,
        project: str = "",
    ) -> tuple[str | None, str | None, dict[str, Any]]:
        """Text → voice → talking portrait → music bed → one MP4. Returns (MP4 file, SRT
        subtitles, generation record)."""
        assets: dict[str, int] = {}
        request: dict[str, Any] = {
            "text": text, "emotion": emotion or "neutral", "accent": accent or "us",
            "music": music, "size": size, "seed": seed,
        }  # fmt: skip
        if image:
            request["image"] = str(self._asset(image, "image", assets))
        info = self._run(project, "compose", request, assets)
        return self._file(info, "video"), self._file(info, "subtitles"), record(info)

    def generations(
        self, project: str = "", task: str = "", emotion: str = "", limit: int = 50
    ) -> list[dict[str, Any]]:
        """A project's generations, newest first (read only; at most 500)."""
        name = (project or "").strip() or SCRATCH_PROJECT
        if name == SCRATCH_PROJECT and self.store.find_project(name) is None:
            return []  # nothing made yet
        rows = self.store.list_generations(
            existing_project(self.services, name),
            task=task or None,
            emotion=emotion or None,
            limit=max(1, min(int(limit or 50), 500)),
        )
        return [record(g) for g in rows]


def record(info: GenerationInfo) -> dict[str, Any]:
    """A generation as JSON for API clients (artifact names, not server paths)."""
    return jsonable({
        "id": info.id, "project_id": info.project_id, "task": info.task,
        "backend": info.backend, "status": info.status, "error": info.error,
        "emotion": info.emotion, "seed": info.seed, "request": info.request,
        "created_at": info.created_at, "compute_seconds": info.compute_seconds,
        "media_seconds": info.media_seconds, "rtf": info.rtf,
        "artifacts": sorted(info.artifacts), "metadata": info.metadata,
    })  # fmt: skip


def jsonable(value: Any) -> Any:
    from studio.cli import to_jsonable

    return json.loads(json.dumps(to_jsonable(value), default=str))


def _user_error(message: str) -> Exception:
    import gradio as gr

    return gr.Error(message, print_exception=False)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """User errors become a ``gr.Error`` carrying their message (clients raise it)."""
    import functools

    import gradio as gr

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except USER_ERRORS as exc:
            raise _user_error(str(exc)) from None

    return wrapper


FILE_PARAMS = {"image", "audio"}
"""Parameters that are uploads (``handle_file(path)`` in gradio_client)."""

OUTPUTS: dict[str, tuple[str, ...]] = {
    "voice": ("file", "file", "json"),
    "portrait": ("file", "json"),
    "music": ("file", "file", "json"),
    "chat": ("text", "int", "json"),
    "compose": ("file", "file", "json"),
    "generations": ("json",),
}


def _input(name: str, annotation: Any, default: Any) -> Any:
    """The (invisible) component that carries one parameter; its value is the default."""
    import gradio as gr

    value = None if default is inspect.Parameter.empty else default
    if name in FILE_PARAMS:
        return gr.File(label=name)
    if annotation is bool:
        return gr.Checkbox(label=name, value=value)
    if annotation is int:
        return gr.Number(label=name, value=value, precision=0)
    if annotation is float:
        return gr.Number(label=name, value=value)
    return gr.Textbox(label=name, value=value)


def _output(kind: str, index: int) -> Any:
    import gradio as gr

    label = f"{kind} {index + 1}"
    if kind == "file":
        return gr.File(label=label)
    if kind == "int":
        return gr.Number(label=label, precision=0)
    if kind == "json":
        return gr.JSON(label=label)
    return gr.Textbox(label=label)


def build_api(services: Services) -> None:
    """Lay out each endpoint's (invisible) components, built from its function's signature,
    and bind the named endpoints; call inside the app's ``gr.Blocks``."""
    import gradio as gr

    api = StudioApi(services)
    with gr.Column(visible=False, elem_id="api-endpoints"):
        for name in ENDPOINTS:
            fn = getattr(api, name)
            hints = typing.get_type_hints(fn)
            params = inspect.signature(fn).parameters.values()
            inputs = [_input(p.name, hints.get(p.name), p.default) for p in params]
            outputs = [_output(kind, i) for i, kind in enumerate(OUTPUTS[name])]
            heavy = name != "generations"
            gr.Button(visible=False).click(
                _guard(fn),
                inputs,
                outputs,
                api_name=name,
                api_visibility="public",
                queue=heavy,
                concurrency_id=HEAVY if heavy else None,
                concurrency_limit=1 if heavy else None,
            )
