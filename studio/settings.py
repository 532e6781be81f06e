"""Studio settings from command-line flags and environment variables, and the services they open."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.base import LoadSettings
from projects_db import Store
from studio.service import GenerationService

ENV_PREFIX = "AFFECT_STUDIO_"


@dataclass(frozen=True)
class Settings:
    """Where the studio keeps its data and where it listens."""

    data_dir: Path = Path("studio_data")
    """SQLite file, artifacts, uploaded assets and Gradio's file cache live here."""
    db_url: str | None = None
    """SQLAlchemy URL; default ``sqlite:///<data_dir>/studio.db``. PostgreSQL URLs work too."""
    host: str = "127.0.0.1"
    """Interface to bind; only localhost unless told otherwise."""
    port: int = 7860
    model_dir: Path | None = None
    """Local checkpoints for bigger backends."""
    device: str = "cpu"
    auth: tuple[str, str] | None = field(default=None, repr=False)
    """User name and password the browser UI and API clients must give (``USER:PASS``)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then ``AFFECT_STUDIO_*`` variables, then explicit (non-None) overrides."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if v := env.get(ENV_PREFIX + "DATA_DIR"):
            values["data_dir"] = Path(v)
        if v := env.get(ENV_PREFIX + "DB_URL"):
            values["db_url"] = v
        if v := env.get(ENV_PREFIX + "HOST"):
            values["host"] = v
        if v := env.get(ENV_PREFIX + "PORT"):
            values["port"] = _port(v)
        if v := env.get(ENV_PREFIX + "MODEL_DIR"):
            values["model_dir"] = Path(v)
        if v := env.get(ENV_PREFIX + "DEVICE"):
            values["device"] = v
        if v := env.get(ENV_PREFIX + "AUTH"):
            values["auth"] = v
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("auth"), str):
            values["auth"] = parse_auth(str(values["auth"]))
        if isinstance(values.get("data_dir"), str):
            values["data_dir"] = Path(str(values["data_dir"]))
        if "port" in values:
            values["port"] = _port(values["port"])
        return cls(**values)  # type: ignore[arg-type]


def parse_auth(text: str) -> tuple[str, str]:
    """``USER:PASS`` (the password may contain ':') as a (user, password) pair."""
    user, sep, password = text.partition(":")
    if not sep or not user.strip() or not password:
        raise ValueError(
            "Auth must be USER:PASS with a non-empty user name and password, e.g. "
            "--auth lab:correct-horse-battery"
        )
    return user.strip(), password


def _port(value: object) -> int:
    try:
        port = int(str(value))
    except ValueError:
        raise ValueError(f"Port must be a number between 1 and 65535, got {value!r}.") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"Port must be between 1 and 65535, got {port}.")
    return port


@dataclass
class Services:
    """Everything the UI and the CLI need; built once per studio process, passed explicitly."""

    settings: Settings
    store: Store
    generations: GenerationService

    @classmethod
    def open(cls, settings: Settings) -> Services:
        store = Store.open(settings.data_dir, settings.db_url)
        try:
            load = LoadSettings(model_dir=settings.model_dir, device=settings.device)
            generations = GenerationService(store, load_settings=load)
        except Exception:
            store.close()
            raise
        return cls(settings, store, generations)

    def close(self) -> None:
        self.generations.close()
        self.store.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
