"""Validation and normalisation of project names."""

from __future__ import annotations

import unicodedata

from projects_db.errors import ProjectNameError

MAX_PROJECT_NAME_LENGTH = 80
"""Longest project name accepted, in Unicode code points after normalisation."""

# Cc: C0/C1 control characters (newline, tab, NUL, ESC ...); Zl/Zp: line/paragraph separators.
# Format characters (Cf) stay allowed: emoji sequences need the zero-width joiner.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def normalise_project_name(raw: str) -> str:
    """Return ``raw`` stripped and NFC-normalised, or raise :class:`ProjectNameError`.

    Quotes, SQL-looking text, emoji and any other Unicode are allowed: names are only ever
    stored as bound parameters and displayed, never used as paths or SQL.
    """
    if not isinstance(raw, str):
        raise ProjectNameError(f"Project name must be text, got {type(raw).__name__}")
    name = unicodedata.normalize("NFC", raw.strip())
    if not name:
        raise ProjectNameError("Project name is empty — type a name")
    if len(name) > MAX_PROJECT_NAME_LENGTH:
        raise ProjectNameError(
            f"Project name is too long — use at most {MAX_PROJECT_NAME_LENGTH} characters "
            f"(got {len(name)})"
        )
    for char in name:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise ProjectNameError(
                f"Project name contains a control character ({_describe(char)}) — "
                "use a single line of visible text"
            )
        if char in "/\\":
            raise ProjectNameError(
                f"Project name contains '{char}' — slashes are not allowed, use '-' or ' ' instead"
            )
    if name.strip(".") == "":
        raise ProjectNameError(f"Project name '{name}' is only dots — add letters or digits")
    return name


def project_name_key(name: str) -> str:
    """Key under which names are unique: case-insensitive (casefold) and NFC-normalised."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else code
