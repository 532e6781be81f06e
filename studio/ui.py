"""Helpers every tab shares: the heavy-job queue name, user-error display, Markdown escaping."""

from __future__ import annotations

from pipelines.base import PipelineError
from projects_db import StoreError

HEAVY = "heavy"
"""Concurrency group shared by every heavy job in the studio (one queue)."""

USER_ERRORS: tuple[type[Exception], ...] = (StoreError, PipelineError, ValueError)
"""Errors whose message is meant for the user; anything else is a bug and is logged."""

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~")


def md_escape(text: str) -> str:
    """Escape user text for Markdown so names like ``*x*`` or ``<b>`` show literally."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


def problem(exc: BaseException) -> str:
    """A status line for a user error, shown literally."""
    return f"⚠️ {md_escape(str(exc))}"
