"""The study report's plots as PNG bytes (Pillow only): a confusion matrix, means with their
95 % intervals, and valence–arousal answers against the requested points."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

INK, GRID, BAR, WARN = (34, 34, 34), (205, 205, 205), (92, 84, 196), (196, 84, 84)
PALETTE = [(92, 84, 196), (214, 122, 46), (60, 150, 90), (196, 70, 110), (70, 140, 200),
           (160, 120, 60), (120, 120, 120), (150, 90, 190), (40, 170, 170)]  # fmt: skip


def _png(img: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")  # type: ignore[attr-defined]
    return out.getvalue()


def _short(text: str, n: int = 22) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def confusion_png(matrix: np.ndarray, labels: Sequence[str], title: str = "") -> bytes:
    """Rows = intended, columns = answered; each cell shaded by its share of the row."""
    from PIL import Image, ImageDraw

    m = np.asarray(matrix, dtype=float)
    k, cell, left, top = len(labels), 44, 104, 134
    img = Image.new("RGB", (left + k * cell + 16, top + k * cell + 40), "white")
    draw = ImageDraw.Draw(img)
    draw.text((8, 8), title or "Confusion (rows: intended, columns: answered)", fill=INK)
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    for j, label in enumerate(labels):  # column labels, written downwards letter by letter
        x = left + j * cell + cell // 2 - 3
        for n, ch in enumerate(_short(label, 12)):  # "contemptuous" whole
            draw.text((x, 30 + 8 * n), ch, fill=INK)
    for i, label in enumerate(labels):
        y = top + i * cell
        draw.text((8, y + cell // 2 - 6), _short(label, 14), fill=INK)
        for j in range(k):
            x = left + j * cell
            level = int(255 - 200 * share[i, j])
            fill = (level, level, 255) if i != j else (level, 255, level)
            draw.rectangle([x, y, x + cell - 2, y + cell - 2], fill=fill, outline=GRID)
            if m[i, j]:
                draw.text((x + 6, y + cell // 2 - 6), f"{int(m[i, j])}", fill=INK)
    return _png(img)


def means_png(
    cells: Mapping[str, Mapping[str, object]], low: float, high: float, title: str
) -> bytes:
    """One horizontal bar per condition: its mean, the 95 % CI as a whisker (red when the CI
    was clipped to the scale), and n."""
    from PIL import Image, ImageDraw

    names = list(cells)
    left, width, row = 200, 420, 30
    img = Image.new("RGB", (left + width + 90, 50 + row * max(1, len(names))), "white")
    draw = ImageDraw.Draw(img)
    draw.text((8, 8), title, fill=INK)

    def x_of(v: float) -> int:
        return left + round((v - low) / (high - low) * width)

    for tick in np.linspace(low, high, 5):
        draw.line([x_of(tick), 30, x_of(tick), img.height - 6], fill=GRID)
        draw.text((x_of(tick) - 8, img.height - 16), f"{tick:g}", fill=INK)
    zero = x_of(min(max(0.0, low), high))
    for n, name in enumerate(names):
        cell = cells[name]
        y = 34 + n * row
        draw.text((8, y + 4), _short(name, 30), fill=INK)
        mean = cell.get("mean")
        if not isinstance(mean, int | float) or math.isnan(mean):
            continue
        draw.rectangle([min(zero, x_of(mean)), y + 4, max(zero, x_of(mean)), y + row - 8], fill=BAR)
        ci: Any = cell.get("ci95") or (None, None)
        lo, hi = ci[0], ci[1]
        if isinstance(lo, int | float) and isinstance(hi, int | float):
            colour = WARN if cell.get("ci_clipped") else INK
            mid = y + (row - 4) // 2
            draw.line([x_of(lo), mid, x_of(hi), mid], fill=colour, width=2)
            for end in (lo, hi):
                draw.line([x_of(end), mid - 5, x_of(end), mid + 5], fill=colour, width=2)
        draw.text((left + width + 8, y + 4), f"{mean:.2f} (n={cell.get('n')})", fill=INK)
    return _png(img)


def va_png(
    answers: Mapping[str, Sequence[tuple[float, float]]],
    requested: Mapping[str, tuple[float, float]],
    title: str = "Valence-arousal answers (dots) and requested points (rings)",
) -> bytes:
    """The [-1, 1]² plane: each condition's answers as dots, its requested point as a ring."""
    from PIL import Image, ImageDraw

    size, pad = 420, 40
    img = Image.new("RGB", (size + 2 * pad + 170, size + 2 * pad), "white")
    draw = ImageDraw.Draw(img)
    draw.text((8, 8), title, fill=INK)

    def xy(v: float, a: float) -> tuple[int, int]:
        return pad + int((v + 1) / 2 * size), pad + int((1 - a) / 2 * size)

    draw.rectangle([pad, pad, pad + size, pad + size], outline=GRID)
    draw.line([*xy(-1, 0), *xy(1, 0)], fill=GRID)
    draw.line([*xy(0, -1), *xy(0, 1)], fill=GRID)
    draw.text((pad + size - 50, pad + size // 2 + 4), "valence", fill=INK)
    draw.text((pad + size // 2 + 4, pad + 2), "arousal", fill=INK)
    for n, name in enumerate(sorted(set(answers) | set(requested))):
        colour = PALETTE[n % len(PALETTE)]
        for v, a in answers.get(name, ()):
            x, y = xy(v, a)
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        if name in requested:
            x, y = xy(*requested[name])
            draw.ellipse([x - 8, y - 8, x + 8, y + 8], outline=colour, width=2)
        draw.text((pad * 2 + size, pad + 16 * n), _short(name, 26), fill=colour)
    return _png(img)
