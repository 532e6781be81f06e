"""The pipeline contract (DESIGN §4): requests, results, progress, cancellation, errors, seeds.

Every task defines a frozen ``XxxRequest`` dataclass that validates itself in ``__post_init__``
and an ``XxxResult`` dataclass. A backend is a class with ``load(settings)`` (slow, once, cached
by the caller) and a reentrant ``run(request, *, progress, cancel)``.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import threading
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, TypeVar, runtime_checkable

import numpy as np

from pipelines.emotion import EmotionError, EmotionSpec
from pipelines.media import Artifact

MAX_SEED = 2**32 - 1

ProgressFn = Callable[[float, str], None]
"""Called with a fraction in [0, 1] and a short human-readable stage description."""


class PipelineError(Exception):
    """A failure a person can act on: the message says what went wrong and what to do."""


class Cancelled(PipelineError):
    """Raised inside ``run`` when the caller cancelled the job."""

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)


class CancelToken:
    """Thread-safe cancellation flag shared between the caller and a running job."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once ``cancel`` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise ``Cancelled`` if the job was cancelled; call it between units of work."""
        if self._event.is_set():
            raise Cancelled()


def check(
    cancel: CancelToken | None, progress: ProgressFn | None, fraction: float, stage: str
) -> None:
    """Report progress and honour cancellation in one call — the usual step inside ``run``."""
    if cancel is not None:
        cancel.raise_if_cancelled()
    if progress is not None:
        progress(min(1.0, max(0.0, fraction)), stage)


R = TypeVar("R", bound="Request")


def expect_request(request: object, request_type: type[R], backend: str) -> R:
    """``request`` if it is a ``request_type``, else a PipelineError naming the backend."""
    if not isinstance(request, request_type):
        raise PipelineError(
            f"The {backend} backend takes a {request_type.__name__}, got {type(request).__name__}."
        )
    return request


def validate_seed(seed: object) -> int:
    """Return ``seed`` as an int in [0, 2**32-1] or raise ``PipelineError``."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise PipelineError(f"Seed must be a whole number, got {seed!r}.")
    if not 0 <= int(seed) <= MAX_SEED:
        raise PipelineError(f"Seed must be between 0 and {MAX_SEED}, got {seed}.")
    return int(seed)


def rng(seed: int, *streams: str | int) -> np.random.Generator:
    """A NumPy generator for ``seed``; ``streams`` name independent sub-streams ("blinks", 3)."""
    words = [validate_seed(seed)]
    for s in streams:
        digest = hashlib.sha256(str(s).encode()).digest()
        words.append(int.from_bytes(digest[:4], "little"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def require(condition: bool, message: str) -> None:
    """Raise ``PipelineError(message)`` unless ``condition`` — for ``__post_init__`` checks."""
    if not condition:
        raise PipelineError(message)


def require_number(name: str, value: object, low: float, high: float) -> float:
    """Validate a finite number in [low, high] and return it as float."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise PipelineError(f"{name} must be a number, got {value!r}.")
    v = float(value)
    if not math.isfinite(v) or not low <= v <= high:
        raise PipelineError(f"{name} must be between {low:g} and {high:g}, got {value!r}.")
    return v


_KEEP_CONTROLS = {"\n", "\t"}
_DROP_FORMAT = {"\ufeff", "\ufffe"}


def clean_text(text: str) -> str:
    """User text made safe to store, speak and show: NFC-normalised, line ends as ``\n``,
    without control characters (NUL, escape sequences…; newlines and tabs stay), byte-order
    marks or lone surrogates (which cannot be written as UTF-8). Zero-width joiners, which
    Devanagari and emoji need, are kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = [
        ch
        for ch in text
        if ch in _KEEP_CONTROLS
        or (unicodedata.category(ch) not in ("Cc", "Cs") and ch not in _DROP_FORMAT)
    ]
    return unicodedata.normalize("NFC", "".join(kept))


def coerce_emotion(value: object) -> EmotionSpec:
    """An ``EmotionSpec`` from a spec, a string like ``"happy:0.7+surprised:0.3"`` or a dict."""
    if isinstance(value, EmotionSpec):
        return value
    try:
        if isinstance(value, str):
            return EmotionSpec.parse(value)
        if isinstance(value, Mapping):
            return EmotionSpec.from_dict(dict(value))
    except EmotionError as exc:
        raise PipelineError(str(exc)) from exc
    raise PipelineError(f"Emotion must be a label such as 'happy', got {value!r}.")


@dataclass(frozen=True)
class Request:
    """Base of every task request: a seed, and JSON round-tripping for the project store.

    Subclasses add their fields and validate them in ``__post_init__`` (call ``super()``).
    Field values must be JSON-able, ``EmotionSpec``, ``Path``, enums or tuples of those.
    """

    task: ClassVar[str] = ""
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", validate_seed(self.seed))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                object.__setattr__(self, f.name, clean_text(value))
            elif isinstance(value, Path) and "\x00" in str(value):
                raise PipelineError(
                    f"The file name given for {f.name} contains a NUL character — choose the "
                    "file again."
                )

    @property
    def emotion_label(self) -> str | None:
        """The dominant emotion label for filtering in the library, if the request has one."""
        spec = getattr(self, "emotion", None)
        return spec.label if isinstance(spec, EmotionSpec) else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; ``from_dict`` rebuilds an equal request."""
        return {f.name: _to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild (and validate) a request from ``to_dict`` output or user-edited JSON."""
        if not isinstance(data, Mapping):
            raise PipelineError(
                f"A {cls.__name__} must be a JSON object, got {type(data).__name__}."
            )
        known = {f.name: f for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise PipelineError(
                f"Unknown field(s) for {cls.task or cls.__name__}: {', '.join(unknown)}. "
                f"Valid fields: {', '.join(known)}."
            )
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            kwargs[name] = _from_jsonable(known[name].type, value)
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise PipelineError(f"Invalid {cls.task or cls.__name__} request: {exc}") from exc

    def to_json(self) -> str:
        """Canonical JSON text of the request (sorted keys)."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def example(cls, seed: int = 0) -> Self:
        """A small valid request that runs in well under a second — used by the contract test."""
        raise NotImplementedError

    @classmethod
    def bad_examples(cls) -> list[dict[str, Any]]:
        """Field dicts that ``from_dict`` must reject with a ``PipelineError``."""
        return []


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, EmotionSpec):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    return value


def _from_jsonable(annotation: object, value: Any) -> Any:
    text = str(annotation)
    if "EmotionSpec" in text and value is not None:
        return coerce_emotion(value)
    if "Path" in text and isinstance(value, str):
        return Path(value)
    if text.startswith("tuple") and isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


@dataclass
class Result:
    """Base of every task result: named artifacts, metadata, media length and stage timings."""

    artifacts: dict[str, Artifact] = field(default_factory=dict)
    """Named outputs (``"audio"``, ``"video"``, ``"midi"`` …) that the caller stores."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """JSON-able facts about the output (measurements, parsed controls, warnings)."""
    media_seconds: float = 0.0
    """Duration of the produced media, for real-time factors."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per stage, e.g. ``{"synthesis": 0.4, "prosody": 0.1}``."""


@dataclass(frozen=True)
class LoadSettings:
    """What ``Backend.load`` may use: where user-supplied models live and which device."""

    model_dir: Path | None = None
    """A local checkpoint directory for backends with big weights (never a hub download)."""
    device: str = "cpu"
    """"cpu" or "cuda"; backends that can't use the device say so in a PipelineError."""
    threads: int = 0
    """CPU threads for inference; 0 = the library's default."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Backend-specific options."""


@runtime_checkable
class Backend(Protocol):
    """What the registry instantiates. ``run`` must be reentrant (no per-request state)."""

    name: ClassVar[str]
    version: ClassVar[str]
    request_type: ClassVar[type[Request]]

    @classmethod
    def load(cls, settings: LoadSettings) -> Self: ...

    def run(
        self,
        request: Any,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Result: ...
