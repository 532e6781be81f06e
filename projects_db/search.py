"""What the Library's text search looks in: a request's words, flattened to one lower-case
string (every text value: what was said or typed, prompts, descriptions, file names)."""

from __future__ import annotations

from typing import Any

MAX_SEARCH_CHARS = 2000


def search_text(request: Any) -> str:
    """Every string in ``request`` (nested dicts and lists too), joined, lower case, capped."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(request)
    return " ".join(" ".join(parts).split()).lower()[:MAX_SEARCH_CHARS]


def like_pattern(text: str) -> str:
    """A LIKE pattern that finds ``text`` anywhere (its own % and _ taken literally)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
