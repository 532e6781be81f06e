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
from projects_db.stimuli import StimulusItemInfo
from projects_db.studies import TrialRow
from studio.participant_page import page
from studio.settings import Services

PLAY_GRACE_SECONDS = 0.75
"""Slack for the browser's buffering between the media request and the end of playback."""
_CODE = re.compile(r"^[0-9a-f]{6}(-[0-9a-f]{6}){2}$")
PROMPTS = {
    "emotion-id": "Which emotion does this express?",
    "ab": "Listen to A and B. How does B compare with A?",
    "mushra": "Rate each sample from 0 (bad) to 100 (excellent); the reference, when there is "
    "one, is excellent, and one of the samples is the reference itself.",
    "mos": "How would you rate the overall quality of what you just heard or saw?",
    "transcribe": "Type exactly what you heard.",
    "va": "How pleasant (valence) and how activated (arousal) was it? Click the square: right "
    "is pleasant, up is activated.",
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
        row = pending[0]
        token = self.token(code, row.trial_id)
        shown = self._shown(row)
        kind = "video" if self._media(shown[0]).suffix in (".mp4", ".webm") else "audio"
        choices = (
            list(designs.ID_CHOICES) if study.design == "emotion-id"
            else MOS_LABELS if study.design == "mos" else []
        )  # fmt: skip
        prompt = PROMPTS[study.design] if row.check is None else designs.ATTENTION[study.design][0]
        if designs.is_gold(row.check):
            prompt = PROMPTS[study.design]  # a gold item looks like any other trial
        clips = [f"/study/{code}/media/{token}"]
        clips += [f"/study/{code}/media/{token}/{k}" for k in range(1, len(shown))]
        reference = None
        if study.design == "mushra" and self._reference(study, shown) is not None:
            reference = f"/study/{code}/media/{token}/ref"
        return {
            "done": False, "index": total - len(pending) + 1, "total": total,
            "design": study.design, "prompt": prompt, "choices": choices, "token": token,
            "kind": kind, "media": clips[0], "clips": clips, "reference": reference,
            "ask": [{"key": k, "prompt": designs.ASK[study.design][k]}
                    for k in study.config.get("ask") or []],
        }  # fmt: skip

    def _shown(self, row: TrialRow) -> list[StimulusItemInfo]:
        ids = row.shown or (row.item_id,)
        return [self.store.get_stimulus_item(i) for i in ids]

    def _reference(self, study: Any, shown: list[StimulusItemInfo]) -> StimulusItemInfo | None:
        value, factor = study.config.get("reference"), study.config.get("compare")
        found = [i for i in shown if value is not None and str(i.factors.get(factor)) == value]
        return found[0] if found else None

    def _media(self, item: StimulusItemInfo) -> Path:
        if item.generation_id is None:
            raise NotFound("This stimulus is not made yet — tell the researcher.")
        gen = self.store.get_generation(item.generation_id)
        for name in ("audio_matched", "audio", "video"):
            if name in gen.artifacts:
                return self.store.artifact_path(gen, name)
        raise NotFound("This stimulus has no audio or video — tell the researcher.")

    def media(self, code: str, token: str, which: str = "0") -> Path:
        """A stimulus file of one of the participant's trials: its ``which``-th clip, or "ref"
        (a MUSHRA page's labelled reference). The trial's first fetch is recorded."""
        study, row = self._trial(code, token)
        shown = self._shown(row)
        if which == "ref":
            item = self._reference(study, shown)
        else:
            k = int(which) if which.isdigit() else -1
            item = shown[k] if 0 <= k < len(shown) else None
        if item is None:
            raise NotFound("No such clip in this trial.")
        path = self._media(item)
        self.store.mark_served(row.trial_id)
        return path

    def answer(
        self, code: str, token: str, raw: object, rt_ms: int | None, played_ms: int | None
    ) -> dict[str, Any]:
        study, row = self._trial(code, token)
        if row.response is not None:
            return {"saved": False, "message": "Already answered."}
        shown = self._shown(row)
        asked = study.config.get("ask") or []
        if asked and isinstance(raw, dict):
            raw = {**raw, "answer": _mos_value(study.design, raw.get("answer"))}
        else:
            raw = _mos_value(study.design, raw)
        answer = designs.parse_response(study.design, raw, len(shown), asked)
        if study.design == "mushra" and not isinstance(answer, list):
            raise PipelineError(f"Rate all {len(shown)} samples.")
        served = self.store.mark_served(row.trial_id) if row.served_at is None else row.served_at
        waited = (datetime.now(UTC) - served).total_seconds()
        durations = [self._seconds(i) for i in shown]
        # the clips may play side by side, but each to its end: the longest bounds the wait
        needed = max(d - min(PLAY_GRACE_SECONDS, 0.25 * d) for d in durations)
        all_played = sum(d - min(PLAY_GRACE_SECONDS, 0.25 * d) for d in durations)
        if waited < needed or (played_ms is not None and played_ms < all_played * 1000):
            clips = "every clip" if len(shown) > 1 else "the whole clip"
            raise PipelineError(f"Please play {clips} before answering.")
        saved = self.store.answer_trial(row.trial_id, answer, rt_ms, played_ms)
        return {"saved": saved}

    def _seconds(self, item: StimulusItemInfo) -> float:
        if item.generation_id is None:
            return 0.0
        return self.store.get_generation(item.generation_id).media_seconds or 0.0


def _mos_value(design: str, raw: object) -> object:
    if design == "mos" and isinstance(raw, str) and raw[:1].isdigit():
        return raw[:1]
    return raw


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
    @router.get("/study/{code}/media/{token}/{which}")
    def media(code: str, token: str, which: str = "0") -> FileResponse:
        path = guard(lambda: pages.media(code, token, which))
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
