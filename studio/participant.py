"""The participant page of a study: ``/study/<code>``, opened with the participant's code alone.

Blind: the page and its JSON carry only "trial i of n", the answer choices and an opaque media
URL (a keyed hash of code and trial) — no file name, factor, backend or emotion. It reaches
nothing but that participant's trials, also when the studio itself needs a login (``--auth``):
these routes sit beside Gradio's, without its login check. Every answer is saved the moment it
is given, so a reload (or a restarted server) resumes at the first unanswered trial. An answer
is refused until the stimulus has had time to play through since the page fetched it.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from pipelines.base import PipelineError
from pipelines.study import design as designs
from projects_db import NotFound
from projects_db.studies import TrialRow
from studio.settings import Services

PLAY_GRACE_SECONDS = 0.75
"""Slack for the browser's buffering between the media request and the end of playback."""
_CODE = re.compile(r"^[0-9a-f]{6}(-[0-9a-f]{6}){2}$")
PROMPTS = {
    "emotion-id": "Which emotion does this express?",
    "mos": "How would you rate the overall quality of what you just heard or saw?",
    "transcribe": "Type exactly what you heard.",
    "va": "How pleasant (valence) and how activated (arousal) was it? Both from -1 to 1.",
}
MOS_LABELS = ["1 Bad", "2 Poor", "3 Fair", "4 Good", "5 Excellent"]  # ITU-T P.800 ACR wording


class ParticipantPages:
    """The logic behind the participant routes (plain methods, tested without a browser)."""

    def __init__(self, services: Services, key: bytes | None = None) -> None:
        self.services = services
        self.store = services.store
        self._key = key or secrets.token_bytes(32)

    def _rows(self, code: str) -> tuple[Any, list[TrialRow]]:
        if not _CODE.fullmatch(code):
            raise NotFound("No such participant.")
        study_id = self.store.study_of_participant(code)
        if study_id is None:
            raise NotFound("No such participant.")
        return self.store.get_study(study_id), self.store.study_rows(study_id, code)

    def token(self, code: str, trial_id: int) -> str:
        return hmac.new(self._key, f"{code}:{trial_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def _trial(self, code: str, token: str) -> tuple[Any, TrialRow]:
        study, rows = self._rows(code)
        for row in rows:
            if hmac.compare_digest(self.token(code, row.trial_id), token):
                return study, row
        raise NotFound("This trial is not yours or has expired — reload the page.")

    def next_trial(self, code: str) -> dict[str, Any]:
        """What the page shows next (only what the participant may see)."""
        study, rows = self._rows(code)
        total = len(rows)
        pending = [r for r in rows if r.response is None]
        if not pending:
            return {"done": True, "total": total}
        if study.design not in PROMPTS:
            raise PipelineError(
                f"The {study.design} design has no participant page yet; the researcher imports "
                "its answers instead."
            )
        row = pending[0]
        token = self.token(code, row.trial_id)
        kind = "video" if self._media(row).suffix in (".mp4", ".webm") else "audio"
        choices = (
            list(designs.ID_CHOICES) if study.design == "emotion-id"
            else MOS_LABELS if study.design == "mos" else []
        )  # fmt: skip
        prompt = PROMPTS[study.design] if row.check is None else designs.ATTENTION[study.design][0]
        return {
            "done": False, "index": total - len(pending) + 1, "total": total,
            "design": study.design, "prompt": prompt, "choices": choices,
            "token": token, "kind": kind, "media": f"/study/{code}/media/{token}",
        }  # fmt: skip

    def _media(self, row: TrialRow) -> Path:
        if row.generation_id is None:
            raise NotFound("This stimulus is not made yet — tell the researcher.")
        gen = self.store.get_generation(row.generation_id)
        for name in ("audio_matched", "audio", "video"):
            if name in gen.artifacts:
                return self.store.artifact_path(gen, name)
        raise NotFound("This stimulus has no audio or video — tell the researcher.")

    def media(self, code: str, token: str) -> Path:
        """The stimulus file of one of the participant's trials (its first fetch is recorded)."""
        _study, row = self._trial(code, token)
        path = self._media(row)
        self.store.mark_served(row.trial_id)
        return path

    def answer(
        self, code: str, token: str, raw: object, rt_ms: int | None, played_ms: int | None
    ) -> dict[str, Any]:
        study, row = self._trial(code, token)
        if row.response is not None:
            return {"saved": False, "message": "Already answered."}
        answer = designs.parse_answer(study.design, _mos_value(study.design, raw))
        gen = self.store.get_generation(row.generation_id or 0)
        served = self.store.mark_served(row.trial_id) if row.served_at is None else row.served_at
        waited = (datetime.now(UTC) - served).total_seconds()
        duration = gen.media_seconds or 0.0
        needed = duration - min(PLAY_GRACE_SECONDS, 0.25 * duration)
        if waited < needed or (played_ms is not None and played_ms < needed * 1000):
            raise PipelineError("Please play the whole clip before answering.")
        saved = self.store.answer_trial(row.trial_id, answer, rt_ms, played_ms)
        return {"saved": saved}


def _mos_value(design: str, raw: object) -> object:
    if design == "mos" and isinstance(raw, str) and raw[:1].isdigit():
        return raw[:1]
    return raw


def page(code: str) -> str:
    """The participant page: plain HTML and script, nothing about the stimuli in it."""
    safe = html.escape(code)
    return _PAGE.replace("__CODE__", json.dumps(code)).replace("__SAFE__", safe)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Listening study</title>
<style>
body{font-family:system-ui,sans-serif;max-width:720px;margin:2rem auto;padding:0 1rem;color:#222}
button{font-size:1rem;margin:.25rem;padding:.5rem .9rem;border-radius:.4rem;border:1px solid #999;
background:#f4f2ff;cursor:pointer}button:disabled{opacity:.4;cursor:default}
#player audio,#player video{width:100%;margin:1rem 0}#msg{color:#a00;min-height:1.5em}
</style></head><body>
<h1>Listening study</h1><p id="progress"></p><p id="prompt"></p><div id="player"></div>
<div id="answers"></div><p id="msg"></p>
<script>
const code = __CODE__;
let trial = null, shownAt = 0, played = 0, ended = false;
const $ = (id) => document.getElementById(id);
async function load() {
  const r = await fetch(`/study/${code}/next`); const t = await r.json();
  if (!r.ok) { $("msg").textContent = t.detail || "Something went wrong."; return; }
  trial = t; ended = false; played = 0; $("msg").textContent = "";
  if (t.done) { $("progress").textContent = `All ${t.total} done — thank you!`;
    $("prompt").textContent = ""; $("player").innerHTML = ""; $("answers").innerHTML = ""; return; }
  $("progress").textContent = `Trial ${t.index} of ${t.total}`; $("prompt").textContent = t.prompt;
  const m = document.createElement(t.kind); m.src = t.media; m.controls = true;
  m.controlsList = "nodownload"; m.addEventListener("ended", () => { ended = true;
    played = Math.round(m.duration * 1000); enable(true); });
  $("player").replaceChildren(m); shownAt = performance.now();
  const box = $("answers"); box.replaceChildren();
  if (t.choices.length) { for (const c of t.choices) { const b = document.createElement("button");
    b.textContent = c; b.onclick = () => send(c); box.appendChild(b); } }
  else { const i = document.createElement("input"); i.id = "free"; i.size = 50;
    const b = document.createElement("button"); b.textContent = "Next";
    b.onclick = () => send(i.value); box.append(i, b); }
  enable(false);
}
function enable(on) { for (const b of $("answers").querySelectorAll("button")) b.disabled = !on; }
async function send(value) {
  if (!ended) { $("msg").textContent = "Please play the whole clip first."; return; }
  enable(false);
  const body = {token: trial.token, response: value, played_ms: played,
                rt_ms: Math.round(performance.now() - shownAt)};
  const r = await fetch(`/study/${code}/answer`, {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const out = await r.json();
  if (!r.ok) { $("msg").textContent = out.detail || "Not saved."; enable(true); return; }
  load();
}
load();
</script><noscript>This page needs JavaScript.</noscript>
<p style="color:#888;font-size:.8rem">Participant __SAFE__ — keep this link to come back later.</p>
</body></html>"""


def add_routes(fastapi_app: Any, services: Services) -> None:
    """Put the participant routes in front of Gradio's (they need no studio login)."""
    pages = ParticipantPages(services)
    router = APIRouter()

    def guard(fn: Any) -> Any:
        try:
            return fn()
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except (PipelineError, ValueError) as exc:
            raise HTTPException(409, str(exc)) from None

    @router.get("/study/{code}", response_class=HTMLResponse)
    def study_page(code: str) -> HTMLResponse:
        guard(lambda: pages._rows(code))
        return HTMLResponse(page(code), headers={"Cache-Control": "no-store"})

    @router.get("/study/{code}/next")
    def next_trial(code: str) -> dict[str, Any]:
        return guard(lambda: pages.next_trial(code))  # type: ignore[no-any-return]

    @router.get("/study/{code}/media/{token}")
    def media(code: str, token: str) -> FileResponse:
        path = guard(lambda: pages.media(code, token))
        kind = {".wav": "audio/wav", ".mp4": "video/mp4", ".mp3": "audio/mpeg"}
        return FileResponse(
            path, media_type=kind.get(path.suffix, "application/octet-stream"),
            headers={"Cache-Control": "no-store", "Content-Disposition": "inline"},
        )  # fmt: skip

    @router.post("/study/{code}/answer")
    async def answer(code: str, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(400, "The answer must be JSON.") from None
        if not isinstance(body, dict):
            raise HTTPException(400, "The answer must be a JSON object.")

        def save() -> dict[str, Any]:
            return pages.answer(
                code, str(body.get("token", "")), body.get("response"),
                _int(body.get("rt_ms")), _int(body.get("played_ms")),
            )  # fmt: skip

        return guard(save)  # type: ignore[no-any-return]

    routes = list(router.routes)
    fastapi_app.router.routes[0:0] = routes


def _int(value: object) -> int | None:
    try:
        return None if value is None else max(0, int(float(str(value))))
    except ValueError:
        return None
