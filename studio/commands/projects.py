"""``launch.py projects delete NAME [--yes]``: say what a delete removes, and refuse without --yes.

(Not a task command: ``studio.cli`` builds the ``projects`` parser and calls :func:`delete`.)
"""

from __future__ import annotations

import sys

from studio.settings import Services
from studio.ui import existing_project


def _plural(n: int, noun: str, nouns: str | None = None) -> str:
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def contents(services: Services, project_id: int) -> list[str]:
    """What deleting the project also deletes, one phrase each (empty for an empty project):
    its generations, stimulus sets, studies on those sets with their answers, conversations."""
    store = services.store
    parts = []
    count = store.get_project(project_id).generation_count
    if count:
        parts.append(_plural(count, "generation") + " and their files")
    sets = store.list_stimulus_sets(project_id)
    if sets:
        parts.append(
            f"{_plural(len(sets), 'stimulus set')} (#{', #'.join(str(s.id) for s in sets)})"
        )
    for s in sets:
        for study in store.list_studies(s.id):
            answers = sum(1 for r in store.study_rows(study.id) if r.response is not None)
            parts.append(f"study #{study.id} {study.name!r} with {_plural(answers, 'answer')}")
    conversations = store.list_conversations(project_id)
    if conversations:
        parts.append(_plural(len(conversations), "conversation"))
    return parts


def delete(services: Services, name: str, *, yes: bool) -> int:
    """Delete project ``name`` with everything in it when ``yes``; otherwise, unless it is empty,
    list what would go and ask for ``--yes`` (exit status 2, nothing deleted)."""
    pid = existing_project(services, name)
    parts = contents(services, pid)
    if parts and not yes:
        print(
            f"error: project {name!r} holds {'; '.join(parts)}. Deleting it deletes them too "
            "— run again with --yes to confirm.",
            file=sys.stderr,
        )
        return 2
    services.generations.delete_project(pid, with_generations=True)
    print(f"Deleted project {name!r}" + (f" with {'; '.join(parts)}." if parts else "."))
    return 0
