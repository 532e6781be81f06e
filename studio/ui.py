"""Helpers every tab shares: the heavy-job queue name, user-error display, Markdown escaping."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.base import PipelineError
from projects_db import GenerationInfo, StoreError
from studio.service import Job
from studio.settings import Services

HEAVY = "heavy"
"""Concurrency group shared by every heavy job in the studio (one queue)."""

USER_ERRORS: tuple[type[Exception], ...] = (StoreError, PipelineError, ValueError)
"""Errors whose message is meant for the user; anything else is a bug and is logged."""

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~")


def md_escape(text: str) -> str:
    """Escape user text for Markdown so names like ``*x*`` or ``<b>`` show literally."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


def backend_names(task: str) -> tuple[list[str], str]:
    """The backends a tab offers for ``task`` (test-only ones hidden) and the default one."""
    from pipelines import registry

    names = [b.name for b in registry.backends(task)]
    return names, registry.backend_spec(task).name


def backend_info(task: str, name: str | None) -> str:
    """What a backend is, for the picker's info line (and whether it needs setting up)."""
    from pipelines import registry

    if not name:
        return ""
    spec = registry.backend_spec(task, name)
    return spec.description + (
        " Needs setting up first (see the README)." if spec.needs_setup else ""
    )


def problem(exc: BaseException) -> str:
    """A status line for a user error, shown literally."""
    return f"⚠️ {md_escape(str(exc))}"


SCRATCH_PROJECT = "Scratch"
"""Where generations go when no project is chosen (the UI and the CLI alike)."""


def project_or_scratch(services: Services, project_id: int | None) -> int:
    """The chosen project's id, or the "Scratch" project's (created on first use)."""
    return int(project_id) if project_id is not None else project_named(services, None)


def shown_project(services: Services, project_id: int | None) -> int | None:
    """The project a view shows: the chosen one, else "Scratch" (where work goes while none is
    chosen) once it exists. Views never create it."""
    if project_id is not None:
        return int(project_id)
    found = services.store.find_project(SCRATCH_PROJECT)
    return found.id if found else None


def project_named(services: Services, name: str | None) -> int:
    """The id of the project called ``name`` (blank: "Scratch"), created on first use."""
    name = (name or "").strip() or SCRATCH_PROJECT
    found = services.store.find_project(name)
    return found.id if found else services.store.create_project(name).id


def existing_project(services: Services, name: str) -> int:
    """The id of the project called ``name``; a ``StoreError`` listing the projects if none."""
    found = services.store.find_project(name)
    if found is None:
        names = ", ".join(p.name for p in services.store.list_projects()) or "(none yet)"
        raise StoreError(f"No project named {name!r}. Projects: {names}.")
    return found.id


def follow(
    job: Job, progress: Callable[..., Any] | None = None, poll: float = 0.2
) -> GenerationInfo:
    """Wait for a job, forwarding its progress to a ``gr.Progress``; returns the final row."""
    while not job.finished:
        if progress is not None:
            progress(job.fraction, desc=job.stage)
        time.sleep(poll)
    return job.wait()


def outcome(info: GenerationInfo) -> str:
    """One status line for a finished generation."""
    if info.status == "done":
        rtf = f", {info.rtf:.3f}× real time" if info.rtf is not None else ""
        return f"✅ Generation #{info.id} done in {info.compute_seconds or 0:.2f} s{rtf}."
    return f"⚠️ Generation #{info.id} {info.status}: {md_escape(info.error or '')}"


@dataclass(frozen=True)
class TabContext:
    """What every tab's ``build_tab`` receives."""

    services: Services
    project: Any
    """The app-level project ``gr.Dropdown``; its value is a project id or None."""
    app: Any = None
    """The ``gr.Blocks`` being built (for page-load events), when a tab needs it."""
